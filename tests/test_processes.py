"""The one process supervisor (loadtests/processes.py) and the tests' serve() built on it.

Real child processes on loopback; every wait is bounded. STOP_TIMEOUT_S is
lowered so a child that ignores SIGTERM is killed within a second, not ten.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from loadtests import processes
from loadtests.processes import RunError, free_ports, running, start, stop, wait_ready
from tests.servers import serve

# A server that ignores SIGTERM and whose child does too: only a SIGKILL of the
# process group ends both. It writes the child's pid next to its log.
STUBBORN = textwrap.dedent("""\
    import http.server, pathlib, signal, subprocess, sys
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
    pathlib.Path(sys.argv[2]).write_text(str(child.pid))
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
""")


def _gone(pid: int, within: float = 10.0) -> bool:
    """True once ``pid`` no longer runs (a zombie awaiting its reaper counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def quick_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "STOP_TIMEOUT_S", 1.0)


@pytest.mark.parametrize(("code", "expected"), [
    ("print('config broken'); raise SystemExit(3)", r"exited with 3 before it was ready:\nconfig broken"),
    ("print('still starting', flush=True); import time; time.sleep(30)", r"not ready after 1 s .*still starting"),
])
def test_wait_ready_names_the_failure_and_quotes_the_log(
    tmp_path: Path, quick_stop: None, code: str, expected: str,
) -> None:
    (port,) = free_ports(1)
    server = start("child", [sys.executable, "-c", code], dict(os.environ), tmp_path, tmp_path)
    try:
        with pytest.raises(RunError, match=f"(?s)^child {expected}"):
            wait_ready(server, f"http://127.0.0.1:{port}/", timeout=1)
    finally:
        stop([server])


def test_a_probe_replaces_the_get_of_the_url(tmp_path: Path) -> None:
    calls: list[int] = []

    def probe() -> bool:
        calls.append(1)
        return len(calls) == 3

    server = start("sleeper", [sys.executable, "-c", "import time; time.sleep(30)"], dict(os.environ), tmp_path,
                   tmp_path)
    try:
        wait_ready(server, "http://127.0.0.1:9/never-polled", timeout=10, probe=probe)
    finally:
        stop([server])
    assert len(calls) == 3


def test_stop_kills_a_server_that_ignores_sigterm_and_its_children(tmp_path: Path, quick_stop: None) -> None:
    (tmp_path / "stubborn_app.py").write_text(STUBBORN)
    (port,) = free_ports(1)
    server = start("stubborn", [sys.executable, str(tmp_path / "stubborn_app.py"), str(port), str(tmp_path / "pid")],
                   dict(os.environ), tmp_path, tmp_path)
    try:
        wait_ready(server, f"http://127.0.0.1:{port}/", any_status=True, timeout=20)
    finally:
        codes = stop([server])
    assert codes == {"stubborn": -9}
    assert _gone(int((tmp_path / "pid").read_text()))


def test_serve_leaves_no_process_behind(tmp_path: Path, quick_stop: None) -> None:
    (tmp_path / "stubborn_app.py").write_text(STUBBORN)
    port = free_ports(1)[0]
    pid_file = tmp_path / "pid"
    # A 404 on the ready path is an answer: the server is up.
    with serve(["stubborn_app", str(port), str(pid_file)], port=port, ready="/no-such-page", log=tmp_path / "log",
               env={"PYTHONPATH": str(tmp_path)}) as base:
        assert base == f"http://127.0.0.1:{port}"
    assert _gone(int(pid_file.read_text()))


def test_serve_fails_the_test_with_the_log_of_a_server_that_exits(tmp_path: Path) -> None:
    with (pytest.raises(pytest.fail.Exception, match=r"(?s)no_such_module_xyz exited with 1 .*No module named"),
          serve(["no_such_module_xyz"], port=free_ports(1)[0], ready="/", log=tmp_path / "log")):
        pass


def test_running_stops_the_process_when_the_block_raises(tmp_path: Path, quick_stop: None) -> None:
    (tmp_path / "stubborn_app.py").write_text(STUBBORN)
    port = free_ports(1)[0]
    cmd = [sys.executable, str(tmp_path / "stubborn_app.py"), str(port), str(tmp_path / "pid")]
    with pytest.raises(KeyError), running("stubborn", cmd, env=os.environ, log=tmp_path / "log", cwd=tmp_path) as server:
        wait_ready(server, f"http://127.0.0.1:{port}/", any_status=True, timeout=20)
        raise KeyError("the test's own failure")
    assert server.proc.returncode == -9
    assert _gone(int((tmp_path / "pid").read_text()))
