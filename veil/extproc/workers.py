"""``veil extproc --workers N``: N serving processes on N consecutive ports, one supervisor.

Python redacts on one core per process, so the server scales over cores with processes. Each
worker listens on its own port (``--listen HOST:PORT`` gives the first) and the gateway lists
every port as an endpoint of the ext_proc cluster: Envoy balances gRPC streams across
endpoints, whereas one shared port (SO_REUSEPORT) would balance only its few long-lived
HTTP/2 connections, leaving most workers idle.

The supervisor serves the admin port for all of them (prometheus-client's multiprocess mode:
each worker writes its samples under ``PROMETHEUS_MULTIPROC_DIR``, the supervisor adds them up);
``/readyz`` answers 200 while every worker accepts connections. A worker that exits is started
again; SIGINT or SIGTERM stops them all.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from veil.extproc.lifetime import dying_with_this_process
from veil.extproc.server import ExtProcConfig, new_metrics

log = logging.getLogger(__name__)


def worker_command(config: ExtProcConfig, offset: int) -> list[str]:
    """How worker ``offset`` is started: ``veil extproc`` for one port, with the supervisor's policy."""
    host, port = config.address(offset)
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [sys.executable, "-m", "veil", "extproc", "--listen", listen, "--workers", "1",
               "--worker-of-supervisor", "--metrics-port", str(config.metrics_port),
               "--warm-seconds", str(config.warm_seconds)]
    if config.policy:
        command += ["--policy", config.policy]
    if config.max_body_bytes:
        command += ["--max-body-bytes", str(config.max_body_bytes)]
    if config.policy_header:
        command += ["--policy-header"]
    return command


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Supervisor:
    """Runs the workers until :meth:`stop`; restarts one that exits."""

    config: ExtProcConfig
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    metrics_dir: str = ""

    def start(self) -> None:
        if self.config.metrics_port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Before prometheus_client is imported anywhere in this process or a worker.
            self.metrics_dir = tempfile.mkdtemp(prefix="veil-extproc-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        self.procs = [self._spawn(n) for n in range(self.config.workers)]

    def _spawn(self, offset: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(worker_command(self.config, offset), **dying_with_this_process())

    def ready(self) -> bool:
        return not self.stopping.is_set() and all(
            proc.poll() is None and accepts(*self.config.address(n)) for n, proc in enumerate(self.procs))

    def watch(self) -> None:
        """Until stopped: restart a worker that exited (its port comes back; Envoy used the others meanwhile)."""
        while not self.stopping.wait(0.5):
            for n, proc in enumerate(self.procs):
                if proc.poll() is not None and not self.stopping.is_set():
                    log.error("veil extproc: worker %d exited with %s; starting it again", n, proc.returncode)
                    self.procs[n] = self._spawn(n)

    def stop(self) -> None:
        self.stopping.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)


def supervise(config: ExtProcConfig) -> int:
    """Run ``config.workers`` workers until SIGINT or SIGTERM."""
    supervisor = Supervisor(config)
    supervisor.start()
    admin: Any = None
    try:
        if config.metrics_port:
            from veil.observe.admin import AdminServer

            admin = AdminServer(config.metrics_host, config.metrics_port, new_metrics(), supervisor.ready)

        def stop(signum: int, frame: FrameType | None) -> None:
            supervisor.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        supervisor.watch()
    finally:
        if admin is not None:
            admin.stop()
        supervisor.stop()
    return 0
