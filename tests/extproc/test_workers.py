"""``veil extproc --workers N``: N processes on N ports, a worker that dies is started again, SIGTERM stops
them all (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.extproc.gateway import has_envoy_extra
from tests.servers import ROOT, free_port
from veil.extproc.sidecar import free_ports
from veil.extproc.workers import accepts

pytestmark = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("needs Linux /proc to find the workers")
    return [int(child) for child in path.read_text().split()]


def wait(condition: object, timeout: float = 20.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_workers_serve_n_ports_are_restarted_and_stop_together(tmp_path: Path) -> None:
    first, admin_port = free_ports(2), free_port()
    admin = f"http://127.0.0.1:{admin_port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{admin}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    with open(tmp_path / "extproc.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "veil", "extproc", "--listen", f"127.0.0.1:{first}",
                                 "--workers", "2", "--metrics-port", str(admin_port), "--policy", "builtin:strict"],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait(ready)
        assert accepts("127.0.0.1", first) and accepts("127.0.0.1", first + 1)
        workers = children(proc.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        wait(lambda: workers[0] not in children(proc.pid) and len(children(proc.pid)) == 2)  # started again
        wait(ready)
        assert accepts("127.0.0.1", first) and accepts("127.0.0.1", first + 1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not accepts("127.0.0.1", first) and not accepts("127.0.0.1", first + 1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(("flags", "on"), [([], False), (["--policy-header"], True)])
def test_policy_header_flag_reaches_the_processor_and_every_worker(flags: list[str], on: bool) -> None:
    from veil.cli import build_parser
    from veil.extproc.server import ExtProcConfig, Worker
    from veil.extproc.workers import worker_command

    args = build_parser().parse_args(["extproc", "--policy", "builtin:strict", *flags])
    config = ExtProcConfig(policy=args.policy, workers=2, policy_header=args.policy_header)
    assert Worker(config).processor.options.policy_header is on
    assert ("--policy-header" in worker_command(config, 1)) is on


@pytest.mark.parametrize(("flags", "on"), [([], False), (["--policy-header"], True)])
def test_veil_envoy_passes_policy_header_to_its_processor(flags: list[str], on: bool) -> None:
    from veil.cli import build_parser
    from veil.extproc.sidecar import SidecarConfig, extproc_command

    args = build_parser().parse_args(["envoy", "--upstream", "http://127.0.0.1:9", "--policy", "builtin:app", *flags])
    config = SidecarConfig(upstream=args.upstream, policy=args.policy, workers=2, policy_header=args.policy_header)
    command = extproc_command(config, 50100)
    assert ("--policy-header" in command) is on
    assert command[command.index("--policy") + 1] == "builtin:app"
    assert command[command.index("--listen") + 1] == "127.0.0.1:50100"
