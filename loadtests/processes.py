"""Start, probe and stop the processes under test (apps, proxies) and the Locust runs.

Every child writes to its own log file (a pipe could fill up and stall it), every
wait is bounded, and :func:`stop` always ends with SIGKILL for anything that
ignored SIGTERM.

The one process supervisor of the checkout: the load runner, ``bench/proxy.py``
and the test suite's real servers (``tests/servers.py``) all use it. It needs
only the standard library and httpx, so importing it pulls in none of the load
suites' own dependencies (Locust, matplotlib).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT_S = 45.0
STOP_TIMEOUT_S = 10.0


class RunError(Exception):
    """A process would not start, died, or Locust misbehaved: the numbers cannot be trusted."""


@dataclass
class Server:
    """A started child: its name in messages, command, process and log file."""

    name: str
    cmd: list[str]
    proc: subprocess.Popen[bytes]
    log: Path
    tail_lines: int = 25  # how much of the log an error quotes

    def log_tail(self, lines: int | None = None) -> str:
        return log_tail(self.log, lines or self.tail_lines)


def log_tail(log: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of ``log`` ("" when it cannot be read): what an error quotes."""
    try:
        text = log.read_text(errors="replace")
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


def launch(cmd: list[str], env: Mapping[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``cmd`` with stdout and stderr in ``log``, no stdin, in its own session (see :func:`stop`)."""
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True)


def start(name: str, cmd: list[str], env: dict[str, str], logdir: Path, cwd: Path) -> Server:
    """:func:`launch` ``cmd`` with its log at ``logdir/<name>.log``."""
    log = logdir / f"{name.replace('+', '-')}.log"
    return Server(name, cmd, launch(cmd, env, log, cwd), log)


@contextmanager
def running(name: str, cmd: list[str], *, env: Mapping[str, str], log: Path, cwd: Path,
            tail_lines: int = 25) -> Iterator[Server]:
    """:func:`launch` ``cmd``; yield its Server; always :func:`stop` it, however the block ends."""
    server = Server(name, cmd, launch(cmd, env, log, cwd), log, tail_lines)
    try:
        yield server
    finally:
        stop([server])


def wait_ready(server: Server | None, url: str, *, any_status: bool = False,
               timeout: float = READY_TIMEOUT_S, probe: Callable[[], bool] | None = None) -> float:
    """Poll ``url`` until it answers 200 (any status below 500 with ``any_status``); seconds it took.

    ``probe``, when given, replaces the GET of ``url``: ready once it returns True
    (an httpx transport error means not yet). Raises RunError when the process
    exits or time runs out (``server`` None: a service the runner did not start,
    only the URL is polled).
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if server is not None and (rc := server.proc.poll()) is not None:
            raise RunError(f"{server.name} exited with {rc} before it was ready:\n{server.log_tail()}")
        try:
            if probe is not None:
                if probe():
                    return time.monotonic() - t0
            else:
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
    proc = launch(cmd, env, log, cwd)
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
