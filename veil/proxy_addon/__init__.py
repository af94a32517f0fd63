"""veil as a sidecar or egress proxy, built on mitmproxy (``pip install veil[proxy]``).

    veil proxy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080   # reverse, in front of an app
    veil proxy --egress --listen 127.0.0.1:8080                            # forward, for vendor calls
    mitmdump -s "$(python -m veil.proxy_addon)" --set veil_policy=policy.yaml

Three addons, one concern each, as mitmproxy's own are split: :class:`VeilAddon` rewrites
every flow with the same compiled plan as the in-app middleware (so the same input gives the
same bytes); :class:`AdminAddon` serves /healthz, /readyz and /metrics; :class:`PolicyReloader`
swaps in an edited policy file. :func:`make_addons` makes the three, wired together.
"""

from __future__ import annotations

try:
    import mitmproxy  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("veil.proxy_addon needs mitmproxy: install veil[proxy]") from exc

from veil.proxy_addon.addon import VeilAddon
from veil.proxy_addon.admin import AdminAddon
from veil.proxy_addon.reload import PolicyReloader


def make_addons() -> list[object]:
    """The redaction, admin and policy watcher addons, in the order mitmproxy must load them
    (the redaction addon declares ``veil_policy``, which the others read)."""
    redaction = VeilAddon()
    admin = AdminAddon(redaction)
    return [redaction, admin, PolicyReloader(redaction, reloaded=admin.count_reload)]


__all__ = ["AdminAddon", "PolicyReloader", "VeilAddon", "make_addons"]
