"""``python -m veil.proxy_addon`` prints the addon script path, for ``mitmdump -s``."""

from pathlib import Path

print(Path(__file__).with_name("script.py"))
