"""``veil extproc``: one serving process, or a supervisor of ``--workers N`` (what the CLI calls)."""

from __future__ import annotations

import asyncio
import logging
import sys

from veil.extproc.server import ExtProcConfig, run_worker
from veil.extproc.workers import supervise


def configure_logging() -> None:
    """One line per record on stderr; gRPC's own chatter only from warnings up."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("grpc").setLevel(logging.WARNING)


def serve(config: ExtProcConfig, *, supervised: bool = False) -> int:
    """Serve until SIGINT or SIGTERM; 2 when the configuration is wrong.

    ``supervised``: this process is one of a supervisor's workers, which serves the admin port itself.
    """
    try:
        config.address(config.workers - 1)  # --listen is checked before anything starts
    except ValueError as exc:
        print(f"veil extproc: {exc}", file=sys.stderr)
        return 2
    configure_logging()
    if config.workers > 1:
        return supervise(config)
    return asyncio.run(run_worker(config, admin=not supervised))
