"""Run an example app under a real server process on loopback, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    args: list[str], *, port: int, ready: str, log: Path, drop_env: tuple[str, ...] = ("VEIL_POLICY",),
    timeout: float = 20, env: Mapping[str, str] | None = None, probe: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """Start ``python -m <args>`` from the repo root; yield its base URL once ``ready`` answers.

    The process is always terminated (killed if it will not stop). ``drop_env``
    defaults to ``VEIL_POLICY`` so the app runs the built-in default policy;
    ``env`` adds variables. ``probe``, when given, replaces the GET of ``ready``:
    it returns True once the process is ready (a transport error means not yet).
    """
    environ = {**{k: v for k, v in os.environ.items() if k not in drop_env}, **(env or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=environ, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{args[0]} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if probe is None:
                    httpx.get(base + ready, timeout=1)
                    break
                if probe():
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{args[0]} did not answer within {timeout} s:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


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
