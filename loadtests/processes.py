"""Start, probe and stop the processes under test (apps, proxies) and the Locust runs.

Every child writes to its own log file (a pipe could fill up and stall it), every
wait is bounded, and :func:`stop` always ends with SIGKILL for anything that
ignored SIGTERM.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT_S = 45.0


class RunError(Exception):
    """A process would not start, died, or Locust misbehaved: the numbers cannot be trusted."""

STOP_TIMEOUT_S = 10.0


@dataclass
class Server:
    name: str
    cmd: list[str]
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports on 127.0.0.1 (all sockets held until every port is picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def start(name: str, cmd: list[str], env: dict[str, str], logdir: Path, cwd: Path) -> Server:
    log = logdir / f"{name.replace('+', '-')}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True)
    return Server(name, cmd, proc, log)


def wait_ready(server: Server | None, url: str, *, any_status: bool = False,
               timeout: float = READY_TIMEOUT_S) -> float:
    """Poll ``url`` until it answers 200 (any status below 500 with ``any_status``); seconds it took.

    Raises RunError when the process exits or time runs out (``server`` None: a
    service the runner did not start, only the URL is polled).
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if server is not None and (rc := server.proc.poll()) is not None:
            raise RunError(f"{server.name} exited with {rc} before it was ready:\n{server.log_tail()}")
        try:
            status = httpx.get(url, timeout=2.0, trust_env=False).status_code
            if status == 200 or (any_status and status < 500):
                return time.monotonic() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    name = server.name if server is not None else url
    tail = f":\n{server.log_tail()}" if server is not None else ""
    raise RunError(f"{name} not ready after {timeout:.0f} s ({url}){tail}")


def stop(servers: list[Server]) -> dict[str, int | None]:
    """SIGTERM each (last started first); after 10 s, SIGKILL its process group (gunicorn's worker too)."""
    codes: dict[str, int | None] = {}
    for s in reversed(servers):
        if s.proc.poll() is None:
            s.proc.terminate()
    for s in reversed(servers):
        try:
            codes[s.name] = s.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(s.proc)
            codes[s.name] = s.proc.wait(timeout=STOP_TIMEOUT_S)
    return codes


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's own process group (start_new_session); only while the child is alive, so
    its pid, which names the group, cannot have been reused."""
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def run_bounded(cmd: list[str], env: dict[str, str], log: Path, cwd: Path, timeout: float) -> int:
    """Run ``cmd`` to completion with its output in ``log``; killed (with its group) after ``timeout`` s."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc)
        proc.wait(timeout=STOP_TIMEOUT_S)
        raise
    finally:
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait(timeout=STOP_TIMEOUT_S)
