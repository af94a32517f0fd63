"""One contract, two backends: a real SQLite file and a real Redis server.

Issue, resolve, TTL expiry, forget a subject, rotation, and concurrent issuers in
several processes producing one token per value.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from veil.rules.actions.keys import parse_key
from veil.rules.actions.vault_token import VaultBackend, VaultKeys, VaultRecord
from veil.vault.redis import RedisVault
from veil.vault.sqlite import SQLiteVault
from tests.vault.conftest import KEY_TEXT, OTHER_KEY_TEXT, RedisServer

KEYS = VaultKeys({"k1": parse_key(KEY_TEXT)}, "k1")


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VaultBackend]:
    if request.param == "sqlite":
        vault: SQLiteVault | RedisVault = SQLiteVault("main", str(tmp_path / "vault.db"))
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        vault = RedisVault("main", server.url)
    yield vault
    vault.close()


def record(value: str, *, subject: str = "", ttl: float | None = None, tag: str = "EMAIL",
           scope: str = "", keys: VaultKeys = KEYS) -> VaultRecord:
    """What the action stores for ``value`` (``subject``: the subject's id)."""
    token = keys.new_token(tag)
    return VaultRecord(
        token=token, lookup=keys.lookup(scope, tag, subject, value), key_id=keys.active,
        subject=keys.subject_digest(subject) if subject else "", sealed=keys.seal(token, value, subject),
        expires_at=None if ttl is None else time.time() + ttl, scope=scope,
    )


def test_issue_then_resolve_opens_the_value(backend: VaultBackend) -> None:
    rec = record("jane@example.com")
    assert backend.issue(rec) == rec.token
    resolved = backend.resolve(rec.token)
    assert resolved.outcome == "ok" and resolved.record is not None
    assert KEYS.open(resolved.record) == "jane@example.com"


def test_the_same_lookup_gets_the_first_token(backend: VaultBackend) -> None:
    first, second = record("jane@example.com"), record("jane@example.com")
    assert first.token != second.token  # random, not derived from the value
    assert backend.issue(first) == first.token
    assert backend.issue(second) == first.token
    assert backend.resolve(second.token).outcome == "unknown"  # the loser was never stored


@pytest.mark.parametrize(("a", "b"), [
    ({"subject": "s1"}, {"subject": "s2"}),
    ({"scope": "tenant-a"}, {"scope": "tenant-b"}),
    ({"tag": "EMAIL"}, {"tag": "USERNAME"}),
])
def test_another_subject_scope_or_type_gets_another_token(backend: VaultBackend, a: dict, b: dict) -> None:
    first, second = record("jane@example.com", **a), record("jane@example.com", **b)
    assert backend.issue(first) == first.token
    assert backend.issue(second) == second.token


def test_unknown_token(backend: VaultBackend) -> None:
    assert backend.resolve(KEYS.new_token("EMAIL")).outcome == "unknown"


def test_ttl_expiry_then_a_new_token(backend: VaultBackend) -> None:
    live = record("jane@example.com", ttl=30)
    backend.issue(live)
    assert backend.resolve(live.token).outcome == "ok"
    expired = record("bob@example.com", ttl=-1)  # its expiry already passed: no sleeping in tests
    backend.issue(expired)
    assert backend.resolve(expired.token).outcome == "expired"
    again = record("bob@example.com", ttl=30)
    assert backend.issue(again) == again.token  # the expired token indexes nothing
    assert backend.issue(record("jane@example.com", ttl=30)) == live.token


def test_forget_a_subject(backend: VaultBackend) -> None:
    mine = [record(v, subject="customer-1") for v in ("jane@example.com", "+1 555 0100")]
    other = record("bob@example.com", subject="customer-2")
    for rec in (*mine, other):
        backend.issue(rec)
    subject = KEYS.subject_digest("customer-1")
    assert backend.forget(subject) == 2
    assert [backend.resolve(r.token).outcome for r in mine] == ["forgotten", "forgotten"]
    assert backend.resolve(other.token).outcome == "ok"
    assert backend.forget(subject) == 0
    fresh = record("jane@example.com", subject="customer-1")
    assert backend.issue(fresh) == fresh.token  # a forgotten token is never handed out again


def test_rewrap_keeps_the_token_and_moves_the_seal(backend: VaultBackend) -> None:
    rec = record("jane@example.com", subject="customer-1")
    backend.issue(rec)
    rotated = VaultKeys({"k1": parse_key(KEY_TEXT), "k2": parse_key(OTHER_KEY_TEXT)}, "k2")
    (stored,) = list(backend.records())
    assert rotated.open_with_subject(stored) == ("customer-1", "jane@example.com")
    new = VaultRecord(token=stored.token, lookup=rotated.lookup("", "EMAIL", "customer-1", "jane@example.com"),
                      subject=rotated.subject_digest("customer-1"), key_id="k2",
                      sealed=rotated.seal(stored.token, "jane@example.com", "customer-1"))
    backend.rewrap(stored, new)
    resolved = backend.resolve(rec.token)
    assert resolved.record is not None and resolved.record.key_id == "k2"
    assert rotated.open(resolved.record) == "jane@example.com"
    again = record("jane@example.com", subject="customer-1", keys=rotated)
    assert backend.issue(again) == rec.token  # same value, same token
    assert backend.forget(rotated.subject_digest("customer-1", "k1")) == 0  # moved to the new digest
    assert backend.forget(rotated.subject_digest("customer-1")) == 1


def _issue_many(args: tuple[str, str, int]) -> list[str]:
    kind, where, n = args
    vault: SQLiteVault | RedisVault = SQLiteVault("main", where) if kind == "sqlite" else RedisVault("main", where)
    return [vault.issue(record(f"user{i}@example.com")) for i in range(n)]


def test_concurrent_issuers_in_several_processes_get_one_token_per_value(
    backend: VaultBackend, tmp_path: Path,
) -> None:
    where = backend.path if isinstance(backend, SQLiteVault) else backend.url  # type: ignore[attr-defined]
    kind = "sqlite" if isinstance(backend, SQLiteVault) else "redis"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_issue_many, [(kind, where, 40)] * 4, chunksize=1)
    assert all(r == results[0] for r in results)
    assert len(set(results[0])) == 40
