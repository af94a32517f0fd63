"""``veil proxy``: mitmproxy's DumpMaster with veil's addons, set up for one job.

    veil proxy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080   # reverse proxy (sidecar)
    veil proxy --egress --listen 127.0.0.1:8080                            # forward proxy (HTTPS_PROXY)

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import exceptions, options
from mitmproxy.tools.dump import DumpMaster

from veil.proxy_addon import PolicyReloader, make_addons


@dataclass(frozen=True)
class ProxyConfig:
    """What ``veil proxy`` was asked for; :meth:`mitmproxy_options` maps it onto mitmproxy's options."""

    listen: str = "127.0.0.1:8080"
    upstream: str | None = None
    egress: bool = False
    policy: str = ""
    on_error: str = ""
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9090
    confdir: str | None = None
    sets: Sequence[str] = field(default_factory=tuple)

    def mitmproxy_options(self) -> dict[str, Any]:
        if bool(self.upstream) == self.egress:
            raise ValueError("give --upstream URL (reverse proxy) or --egress (forward proxy), not both or neither")
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--listen must be HOST:PORT, got {self.listen!r}")
        values: dict[str, Any] = {
            "mode": [f"reverse:{self.upstream}" if self.upstream else "regular"],
            "listen_host": host.strip("[]"),
            "listen_port": int(port),
            "veil_policy": self.policy,
            "veil_on_error": self.on_error,
            "veil_metrics_host": self.metrics_host,
            "veil_metrics_port": self.metrics_port,
            # Read the request before connecting upstream: a request veil refuses is refused even
            # when the upstream is down, and an unreachable upstream is a 502, not a dropped connection.
            "connection_strategy": "lazy",
        }
        if self.confdir:
            values["confdir"] = self.confdir
        return values


def serve(config: ProxyConfig) -> int:
    """Run the proxy until SIGINT or SIGTERM; 2 when the configuration is wrong."""
    try:
        return asyncio.run(_serve(config))
    except (ValueError, exceptions.OptionsError) as exc:
        print(f"veil proxy: {exc}", file=sys.stderr)
        return 2


async def _serve(config: ProxyConfig) -> int:
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
    values = config.mitmproxy_options()
    confdir = values.pop("confdir", None)
    if confdir:
        opts.update(confdir=confdir)  # before the rest: the CA is read from it
    opts.update(**values)
    if config.sets:
        opts.set(*config.sets)
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
