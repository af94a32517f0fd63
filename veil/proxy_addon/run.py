"""``veil proxy``: mitmproxy's DumpMaster with veil's addons, set up for one job.

    veil proxy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080   # reverse proxy (sidecar)
    veil proxy --egress --listen 127.0.0.1:8080                            # forward proxy (HTTPS_PROXY)
    VEIL_UPSTREAM=http://app:8000 VEIL_LISTEN=0.0.0.0:8080 veil proxy     # the same from the environment

Settings come from :class:`veil.server_settings.ProxySettings` (flags over ``VEIL_*`` variables).

The addons are added to the master directly (not loaded as a ``-s`` script), so a
policy or option error stops start-up with its ``file:line:col`` message
instead of leaving a proxy running without a plan. mitmproxy's per-flow dump
is off: it would print URLs and, at higher detail, bodies before veil has
rewritten them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from typing import Any

from mitmproxy import exceptions, options
from mitmproxy.tools.dump import DumpMaster

from veil.proxy_addon import PolicyReloader, make_addons
from veil.server_settings import ProxySettings


def mitmproxy_options(settings: ProxySettings) -> dict[str, Any]:
    """``veil proxy``'s settings as mitmproxy's options (``confdir`` only when given)."""
    host, _, port = settings.listen.rpartition(":")
    values: dict[str, Any] = {
        "mode": [f"reverse:{settings.upstream}" if settings.upstream else "regular"],
        "listen_host": host.strip("[]"),
        "listen_port": int(port),
        "veil_policy": settings.effective_policy,
        "veil_on_error": settings.on_error,
        "veil_metrics_host": settings.metrics_host,
        "veil_metrics_port": settings.metrics_port,
        # Read the request before connecting upstream: a request veil refuses is refused even
        # when the upstream is down, and an unreachable upstream is a 502, not a dropped connection.
        "connection_strategy": "lazy",
    }
    if settings.confdir:
        values["confdir"] = settings.confdir
    if settings.records:
        values["veil_records"] = settings.records
    if settings.policy_header:
        values["veil_policy_header"] = True
    values["veil_warm_ms"] = round(settings.warm_seconds * 1000)
    return values


def serve(settings: ProxySettings) -> int:
    """Run the proxy until SIGINT or SIGTERM; 2 when the configuration is wrong."""
    try:
        return asyncio.run(_serve(settings))
    except (ValueError, exceptions.OptionsError) as exc:
        print(f"veil proxy: {exc}", file=sys.stderr)
        return 2


async def _serve(settings: ProxySettings) -> int:
    # As mitmproxy's own entry point: records reach its termlog, which filters by termlog_verbosity.
    logging.getLogger().setLevel(logging.DEBUG)
    for noisy in ("asyncio", "hpack", "quic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    opts = options.Options()
    master = DumpMaster(opts, with_termlog=True, with_dumper=False)
    for addon in make_addons():
        if isinstance(addon, PolicyReloader):
            addon.freezes = True
        master.addons.add(addon)
    values = mitmproxy_options(settings)
    for item in settings.set:
        name, _, value = item.partition("=")
        if name.strip() == "veil_warm_ms" and value.strip().isdigit():
            values["veil_warm_ms"] = int(value)  # the plan loads (and warms) in the update below, before --set
    confdir = values.pop("confdir", None)
    if confdir:
        opts.update(confdir=confdir)  # before the rest: the CA is read from it
    opts.update(**values)
    if settings.set:
        opts.set(*settings.set)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, master.shutdown)
    freeze_long_lived()
    await master.run()
    return 0


def freeze_long_lived() -> None:
    """Keep what lives as long as the process out of the collector's full passes.

    mitmproxy, the compiled plan and phonenumbers' metadata are ~100,000 objects
    that are never garbage. Under load a full collection came every minute or
    two and paused the proxy for ~60 ms, every flow in it waiting. Frozen, they
    are skipped (their memory is still freed by reference counting).
    """
    gc.collect()
    gc.freeze()
