"""The file to give ``mitmdump -s``: ``python -m veil.proxy_addon`` prints its path.

    mitmdump -s "$(python -m veil.proxy_addon)" --mode reverse:http://127.0.0.1:8000 --set veil_policy=policy.yaml
"""

from veil.proxy_addon import make_addons

addons = make_addons()
