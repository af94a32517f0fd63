"""``python -m tests.proxy_addon.mitmdump_main ARGS`` is ``mitmdump ARGS`` (the same entry point)."""

import sys

from mitmproxy.tools.main import mitmdump

if __name__ == "__main__":
    mitmdump(sys.argv[1:])
