"""veil as a sidecar or egress proxy, built on mitmproxy (``pip install veil[proxy]``).

    veil proxy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080   # reverse, in front of an app
    veil proxy --egress --listen 127.0.0.1:8080                            # forward, for vendor calls
    mitmdump -s "$(python -m veil.proxy_addon)" --set veil_policy=policy.yaml

The addon (:class:`VeilAddon`) rewrites every flow with the same compiled plan
as the in-app middleware, so the same input gives the same bytes.
"""

from __future__ import annotations

try:
    import mitmproxy  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("veil.proxy_addon needs mitmproxy: install veil[proxy]") from exc

from veil.proxy_addon.addon import VeilAddon

__all__ = ["VeilAddon"]
