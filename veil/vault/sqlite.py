"""The SQLite vault: one file, WAL mode, safe for several worker processes on one host.

Each process (and thread) opens its own connection on first use, so a plan
compiled before a fork works in every worker. Issuing runs in ``BEGIN
IMMEDIATE``: SQLite lets one writer in at a time across processes, so
concurrent issuers of one value all read the token the first one wrote.
Forgotten rows keep their token (to answer ``forgotten``) and lose their
sealed value and lookup. Backup: ``sqlite3 veil-vault.db ".backup copy.db"``
(or copy the file with its ``-wal`` file while no process writes).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator

from veil.rules.actions.vault_token import Resolved, VaultRecord, VaultUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS veil_tokens (
    token TEXT PRIMARY KEY,
    lookup TEXT UNIQUE,
    subject TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed BLOB,
    expires_at REAL,
    scope TEXT NOT NULL DEFAULT '',
    rule TEXT NOT NULL DEFAULT '',
    forgotten INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS veil_tokens_subject ON veil_tokens(subject);
"""
_COLUMNS = "token, lookup, subject, key_id, sealed, expires_at, scope, rule, forgotten"


class SQLiteVault:
    """A :class:`veil.rules.actions.vault_token.VaultBackend` in one SQLite file."""

    def __init__(self, name: str, path: str, *, timeout: float = 0.5) -> None:
        self.name = name
        self.path = path
        self.timeout = timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SQLiteVault({self.name!r}, path={self.path!r})"

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "pid", None) == os.getpid():
            return db
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise VaultUnavailable(f"sqlite vault '{self.name}': {exc.__class__.__name__}") from None
        self._local.db, self._local.pid = db, os.getpid()
        return db

    def _fail(self, exc: sqlite3.Error) -> VaultUnavailable:
        return VaultUnavailable(f"sqlite vault '{self.name}': {exc.__class__.__name__}: {exc}")

    def issue(self, record: VaultRecord) -> str:
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT token, expires_at FROM veil_tokens WHERE lookup = ?", (record.lookup,)).fetchone()
                if row is not None and (row[1] is None or row[1] > time.time()):
                    db.execute("COMMIT")
                    return str(row[0])
                if row is not None:  # expired: it keeps answering "expired", but indexes nothing
                    db.execute("UPDATE veil_tokens SET lookup = NULL, sealed = NULL WHERE token = ?", (row[0],))
                db.execute(
                    f"INSERT INTO veil_tokens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                    (record.token, record.lookup, record.subject, record.key_id, record.sealed,
                     record.expires_at, record.scope, record.rule),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        return record.token

    def resolve(self, token: str) -> Resolved:
        try:
            row = self._db().execute(f"SELECT {_COLUMNS} FROM veil_tokens WHERE token = ?", (token,)).fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        if row is None:
            return Resolved("unknown")
        if row[8]:
            return Resolved("forgotten")
        if row[5] is not None and row[5] <= time.time():
            return Resolved("expired")
        if row[4] is None:
            return Resolved("expired")
        return Resolved("ok", _record(row))

    def forget(self, subject: str) -> int:
        if not subject:
            raise ValueError("forget needs a subject digest")
        try:
            cur = self._db().execute(
                "UPDATE veil_tokens SET sealed = NULL, lookup = NULL, forgotten = 1 WHERE subject = ? AND forgotten = 0",
                (subject,),
            )
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        return int(cur.rowcount)

    def records(self) -> Iterator[VaultRecord]:
        try:
            rows = self._db().execute(
                f"SELECT {_COLUMNS} FROM veil_tokens WHERE forgotten = 0 AND sealed IS NOT NULL").fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        for row in rows:
            yield _record(row)

    def rewrap(self, old: VaultRecord, new: VaultRecord) -> None:
        try:
            self._db().execute(
                "UPDATE veil_tokens SET key_id = ?, sealed = ?, lookup = ?, subject = ? WHERE token = ? AND forgotten = 0",
                (new.key_id, new.sealed, new.lookup, new.subject, old.token),
            )
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _record(row: tuple[object, ...]) -> VaultRecord:
    token, lookup, subject, key_id, sealed, expires_at, scope, rule, _ = row
    return VaultRecord(
        token=str(token), lookup=str(lookup or ""), subject=str(subject), key_id=str(key_id),
        sealed=bytes(sealed) if isinstance(sealed, (bytes, bytearray, memoryview)) else b"",
        expires_at=float(expires_at) if isinstance(expires_at, (int, float)) else None,
        scope=str(scope), rule=str(rule),
    )
