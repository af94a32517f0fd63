"""Run an example app under a real server process on loopback, for end-to-end tests.

The supervision itself (log file, bounded readiness wait, SIGTERM then SIGKILL of
the process group) is :mod:`loadtests.processes`, shared with the load runner and
bench/proxy.py; it imports only the standard library and httpx. A test that starts
a process other than ``python -m`` (envoy, a shell line) uses :func:`running`
(re-exported here) rather than its own Popen/terminate/kill::

    with running("envoy", cmd, env=os.environ, log=tmp_path / "envoy.log", cwd=ROOT) as server:
        ...  # server.proc, server.log; stopped (its process group killed if need be) on exit
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from loadtests.processes import RunError, free_ports, running, wait_ready

__all__ = ["PII", "ROOT", "assert_profile_redacted", "free_port", "running", "serve"]

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free port on 127.0.0.1."""
    return free_ports(1)[0]


@contextmanager
def serve(
    args: list[str], *, port: int, ready: str, log: Path, drop_env: tuple[str, ...] = ("VEIL_POLICY",),
    timeout: float = 20, env: Mapping[str, str] | None = None, probe: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """Start ``python -m <args>`` from the repo root; yield its base URL once ``ready`` answers.

    The process is always terminated (killed, with its process group, if it will not
    stop). ``drop_env`` defaults to ``VEIL_POLICY`` so the app runs the built-in
    default policy; ``env`` adds variables. ``probe``, when given, replaces the GET
    of ``ready``: it returns True once the process is ready (a transport error means
    not yet). A process that exits or is not ready within ``timeout`` s fails the
    test with its log.
    """
    environ = {**{k: v for k, v in os.environ.items() if k not in drop_env}, **(env or {})}
    cmd = [sys.executable, "-m", *args]
    base = f"http://127.0.0.1:{port}"
    with running(args[0], cmd, env=environ, log=log, cwd=ROOT, tail_lines=200) as server:
        try:
            wait_ready(server, base + ready, timeout=timeout, probe=probe or _answers(base + ready))
        except RunError as exc:
            pytest.fail(str(exc))
        yield base


def _answers(url: str) -> Callable[[], bool]:
    """Ready once ``url`` gives any HTTP answer (a 404 or a 500 too: the server is up)."""
    def probe() -> bool:
        httpx.get(url, timeout=1, trust_env=False)
        return True
    return probe


# The seeded values of the test upstreams' customer profile (tests/proxy_addon/upstream_app.py, the ASGI app).
PII = ("jane@example.com", "Jane Doe", "7946 0958", "4111 1111 1111 1111")


def assert_profile_redacted(r: httpx.Response) -> None:
    """The upstream's customer profile arrived whole, framed right, and without a seeded value."""
    assert r.status_code == 200 and r.headers["content-length"] == str(len(r.content))
    for value in PII:
        assert value not in r.text
    doc = r.json()
    assert doc["id"] == 42 and doc["plan"] == "gold"
    assert doc["customer"]["email"] == "[REDACTED:EMAIL]"
