"""The vault kind of ``tokenize``: random tokens whose values live, encrypted, in a vault.

Vaultless tokens (:mod:`veil.rules.actions.tokenize`) *are* the encrypted value:
whoever holds the key reverses every token ever made, and no token can be erased.
A vault token is random; the value is stored in a vault (``veil.vault``) under
the token, sealed, so the vault decides who gets it back and can forget it.

Token format::

    vtok_{TYPE}_{keyid}_{base32(random 10 bytes || tag 5 bytes)}

* 24 payload characters, always: the token is self-delimiting, so it is found in
  free text even when glued to the next word.
* ``tag`` is HMAC-SHA256 under the key entry's tag subkey over the token's type,
  key id and random part, cut to 40 bits. Any process holding the policy's key
  tells veil's own tokens from look-alikes without asking the vault (issue #15):
  the scanner skips only tokens whose tag checks (see :func:`vault_token_end`).
* The vault is indexed by a keyed lookup: HMAC-SHA256 under the lookup subkey of
  (scope, TYPE, subject id, value). The same value in the same scope (and for
  the same subject) gets the same token; the raw value never indexes anything.
* The value (with the subject id) is sealed with AES-256-GCM under the seal subkey
  of the active key id, the token as associated data (a sealed value moved to
  another row does not open). The subject is indexed by its HMAC digest only.
* The three subkeys come from one ``keys:`` entry by HKDF-SHA256, one ``info`` per
  purpose (:data:`TAG_PURPOSE`, :data:`LOOKUP_PURPOSE`, :data:`SEAL_PURPOSE`).

This module does no I/O: the action calls a :class:`VaultBackend` injected by
whoever built the plan (``veil.vault`` opens SQLite or Redis). When the backend
fails, the rule says what happens: ``block`` (the body fails closed with reason
``vault_unavailable``) or ``vaultless`` (a vaultless token instead); never the raw
value. Every fallback and refusal is counted in :class:`VaultCounters`.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from veil.errors import RedactionError
from veil.rules.actions._entity import ENTITY_TAG_PATTERN, entity_tag
from veil.rules.actions.keys import KEY_ID_PATTERN, derive_key
from veil.rules.actions.tokenize import Tokenize
from veil.rules.selectors import Selector

TAG_PURPOSE = b"veil/v2 vault tag hmac-sha256"
LOOKUP_PURPOSE = b"veil/v2 vault lookup hmac-sha256"
SEAL_PURPOSE = b"veil/v2 vault seal aes-256-gcm"
SUBJECT_PURPOSE = b"veil/v2 vault subject hmac-sha256"
"""HKDF ``info`` of the key of subject digests (what ``forget`` deletes by)."""

_RANDOM_BYTES = 10
_TAG_BYTES = 5
PAYLOAD_CHARS = (_RANDOM_BYTES + _TAG_BYTES) * 8 // 5  # 24
VAULT_TOKEN_PATTERN = rf"vtok_{ENTITY_TAG_PATTERN}_{KEY_ID_PATTERN}_[a-z2-7]{{{PAYLOAD_CHARS}}}"
"""RE2-compatible pattern of a vault token (it may be glued to following letters)."""

_VAULT_TOKEN = re.compile(
    rf"vtok_(?P<type>{ENTITY_TAG_PATTERN})_(?P<kid>{KEY_ID_PATTERN})_(?P<payload>[a-z2-7]{{{PAYLOAD_CHARS}}})"
)
_NONCE_BYTES = 12

Outcome = Literal["ok", "denied", "unknown", "expired", "forgotten", "error"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "denied", "unknown", "expired", "forgotten", "error")


class VaultUnavailable(Exception):
    """The backend could not answer (down, slow, refused). The message names no value."""


@dataclass(frozen=True, slots=True)
class VaultRecord:
    """One stored token: everything the vault keeps, none of it readable without the key."""

    token: str
    lookup: str
    """Hex HMAC of (scope, type, subject id, value): the index for issuing the same token again."""
    subject: str
    """Hex HMAC of the subject id, or "" without one: what ``forget`` deletes by."""
    key_id: str
    """The key id whose seal subkey sealed the value (rotation re-wraps it)."""
    sealed: bytes
    """nonce || AES-GCM(subject id and value, ad=token)."""
    expires_at: float | None = None
    """Unix time after which the token no longer resolves, or None."""
    scope: str = ""
    """The rule's ``scope`` (a name from the policy, not data): clients are scoped by it."""
    rule: str = ""
    """The id of the rule that issued the token: clients may be scoped by it."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """What the vault says about a token: ``outcome`` and, when ``ok``, the record."""

    outcome: Outcome
    record: VaultRecord | None = None


class VaultBackend(Protocol):
    """The small interface every vault implements (``veil.vault.sqlite``, ``veil.vault.redis``).

    Every method may raise :class:`VaultUnavailable`; none may return a value it
    cannot vouch for.
    """

    name: str

    def issue(self, record: VaultRecord) -> str:
        """Store ``record`` unless a live token already has its ``lookup``; return the token
        that now stands for it (``record.token`` or the one issued before). Atomic across
        processes: concurrent issuers of one lookup all get one token."""
        ...

    def resolve(self, token: str) -> Resolved:
        """``ok`` with the record, or ``unknown``, ``expired`` or ``forgotten``."""
        ...

    def forget(self, subject: str) -> int:
        """Make every token of the subject digest unresolvable at once; return how many."""
        ...

    def records(self) -> Iterator[VaultRecord]:
        """Every live record (for key rotation)."""
        ...

    def rewrap(self, old: VaultRecord, new: VaultRecord) -> None:
        """Replace ``old``'s seal, key id, lookup and subject digest with ``new``'s (same token)."""
        ...


class VaultKeys:
    """The tag, lookup, seal and subject subkeys of one ``keys:`` entry, by key id.

    ``active`` seals new values and computes lookups; every id still checks the
    tags of tokens it made and opens the values it sealed. Key bytes are kept only
    as derived subkeys and never appear in a ``repr``.
    """

    __slots__ = ("active", "_tag", "_lookup", "_seal", "_subject")

    def __init__(self, material: Mapping[str, bytes], active: str) -> None:
        if active not in material:
            raise ValueError(f"active key {active!r} is not in the key entry")
        self.active = active
        self._tag = {kid: derive_key(k, TAG_PURPOSE, 32) for kid, k in material.items()}
        self._lookup = {kid: derive_key(k, LOOKUP_PURPOSE, 32) for kid, k in material.items()}
        self._seal = {kid: AESGCM(derive_key(k, SEAL_PURPOSE, 32)) for kid, k in material.items()}
        self._subject = {kid: derive_key(k, SUBJECT_PURPOSE, 32) for kid, k in material.items()}

    def __repr__(self) -> str:
        return f"VaultKeys(active={self.active!r}, key_ids={tuple(self._tag)!r})"

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._tag

    def tag(self, key_id: str, tag: str, random_part: bytes) -> bytes:
        mac = hmac.new(self._tag[key_id], b"vtok\0" + tag.encode("ascii") + b"\0" + key_id.encode("ascii") + b"\0" + random_part, hashlib.sha256)
        return mac.digest()[:_TAG_BYTES]

    def lookup(self, scope: str, tag: str, subject: str, value: str, key_id: str | None = None) -> str:
        """The vault index of ``value``: keyed, so the vault alone reveals nothing. ``subject``
        is the subject's id itself (not its digest): the index survives rotation."""
        parts = (scope, tag, subject, value)
        data = b"\0".join(p.encode("utf-8", "surrogatepass").replace(b"\\", b"\\\\").replace(b"\0", b"\\0") for p in parts)
        return hmac.new(self._lookup[key_id or self.active], data, hashlib.sha256).hexdigest()

    def subject_digest(self, subject: str, key_id: str | None = None) -> str:
        """The digest ``forget`` deletes by (under ``key_id``, default the active one): the
        subject id itself is stored only sealed, with the value."""
        return hmac.new(self._subject[key_id or self.active], subject.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).hexdigest()

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._tag)

    def seal(self, token: str, value: str, subject: str = "", key_id: str | None = None) -> bytes:
        """nonce || AES-GCM(len(subject) || subject || value, ad=token): the subject id travels
        sealed with the value, so rotation can recompute the lookup and the subject digest."""
        nonce = os.urandom(_NONCE_BYTES)
        cipher = self._seal[key_id or self.active]
        subject_bytes = subject.encode("utf-8", "surrogatepass")
        plain = len(subject_bytes).to_bytes(4, "big") + subject_bytes + value.encode("utf-8", "surrogatepass")
        return nonce + cipher.encrypt(nonce, plain, token.encode("ascii"))

    def open(self, record: VaultRecord) -> str | None:
        """The sealed value, or None when it does not authenticate (wrong key, row, or edit)."""
        opened = self.open_with_subject(record)
        return None if opened is None else opened[1]

    def open_with_subject(self, record: VaultRecord) -> tuple[str, str] | None:
        """``(subject id, value)`` sealed in ``record``, or None when it does not authenticate."""
        cipher = self._seal.get(record.key_id)
        if cipher is None or len(record.sealed) < _NONCE_BYTES:
            return None
        try:
            plain = cipher.decrypt(record.sealed[:_NONCE_BYTES], record.sealed[_NONCE_BYTES:], record.token.encode("ascii"))
        except InvalidTag:
            return None
        size = int.from_bytes(plain[:4], "big")
        return (plain[4:4 + size].decode("utf-8", "surrogatepass"),
                plain[4 + size:].decode("utf-8", "surrogatepass"))

    def new_token(self, tag: str) -> str:
        random_part = os.urandom(_RANDOM_BYTES)
        payload = random_part + self.tag(self.active, tag, random_part)
        return f"vtok_{tag}_{self.active}_{_b32(payload)}"

    def checks(self, match: re.Match[str]) -> bool:
        """Whether a regex match of a vault token carries a tag this key entry made."""
        kid = match["kid"]
        if kid not in self._tag:
            return False
        payload = _unb32(match["payload"])
        if payload is None:
            return False
        random_part, tag = payload[:_RANDOM_BYTES], payload[_RANDOM_BYTES:]
        return hmac.compare_digest(self.tag(kid, match["type"], random_part), tag)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").lower()


def _unb32(text: str) -> bytes | None:
    try:
        return base64.b32decode(text.upper())
    except ValueError:
        return None


def find_vault_tokens(text: str, keys: VaultKeys) -> Iterator[tuple[int, int, str, str]]:
    """``(start, end, token, TYPE)`` of every vault token in ``text`` whose tag checks.

    A token must start at a boundary (not after a letter, digit or ``_``); a
    look-alike whose tag does not check is left where it is, as text.
    """
    pos = 0
    while (match := _VAULT_TOKEN.search(text, pos)) is not None:
        start = match.start()
        if (start == 0 or not _word_char(text[start - 1])) and keys.checks(match):
            yield start, match.end(), match[0], match["type"]
            pos = match.end()
        else:
            pos = start + 1


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def vault_token_end(keys: VaultKeys) -> Callable[[str, int], int]:
    """The scanner's check (``veil.rules.protected``): the end of a vault token of these
    keys starting exactly at ``text[start]`` and ending at a boundary, else -1."""

    def token_end(text: str, start: int) -> int:
        match = _VAULT_TOKEN.match(text, start)
        if match is None or not keys.checks(match):
            return -1
        end = match.end()
        return end if end == len(text) or not _word_char(text[end]) else -1

    return token_end


# -- the subject of a body ------------------------------------------------------

_DOCUMENT: contextvars.ContextVar[Any] = contextvars.ContextVar("veil_vault_document", default=None)


def set_document(doc: Any) -> contextvars.Token[Any]:
    """Make ``doc`` (parsed JSON) the body whose subject vault actions read; reset with the result."""
    return _DOCUMENT.set(doc)


def reset_document(token: contextvars.Token[Any]) -> None:
    _DOCUMENT.reset(token)


def select_first(doc: Any, selector: Selector) -> Any:
    """The first value ``selector`` reaches in ``doc``, or None (recursive descent included)."""
    found = _select(doc, selector.steps, 0)
    return found[0] if found else None


def _select(node: Any, steps: tuple[Any, ...], index: int) -> list[Any]:
    if index == len(steps):
        return [node]
    step = steps[index]
    children: list[tuple[str | int, Any]]
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    else:
        return []
    for key, child in children:
        if step.matches(key, len(children)):
            found = _select(child, steps, index + 1)
            if found:
                return found
        if step.anywhere_below:
            found = _select(child, steps, index)
            if found:
                return found
    return []


# -- counters -------------------------------------------------------------------

LIVE_COUNTERS: weakref.WeakSet[VaultCounters] = weakref.WeakSet()
"""Every live plan's counters, for ``veil.vault.metrics`` (a collector that reads, never I/O here)."""


@dataclass
class VaultCounters:
    """In-memory counts of what vault actions did, read by ``veil.vault.metrics``.

    ``issued``: tokens asked of the vault; ``fallback``: vaultless tokens given
    because the vault failed; ``blocked``: bodies failed closed for the same reason.
    """

    vault: str = ""
    issued: int = 0
    fallback: int = 0
    blocked: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        LIVE_COUNTERS.add(self)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def add(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)


class Breaker:
    """After a vault failure, skip the vault for ``open_for`` seconds (shared by a vault's actions).

    A vault that hangs would otherwise cost its whole timeout once per value of every
    body; while the breaker is open, values go straight to the rule's outage behaviour.
    """

    def __init__(self, open_for: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.open_for, self._clock = open_for, clock
        self._until = 0.0

    def is_open(self) -> bool:
        return self._clock() < self._until

    def trip(self) -> None:
        self._until = self._clock() + self.open_for


class TTLCache:
    """A bounded mapping whose entries expire ``ttl`` seconds after they were put."""

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl, self._clock = size, ttl, clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, value: Any) -> None:
        if self.ttl <= 0 or self.size <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# -- the action -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VaultTokenize:
    """Replaces the value with a random vault token (see the module docstring).

    ``fallback`` (a vaultless :class:`Tokenize`) is used only when the vault fails
    and the rule says ``on_vault_error: vaultless``; otherwise the body fails closed
    with :class:`RedactionError` reason ``vault_unavailable``. ``issued`` caches
    lookup -> token for ``cache_ttl`` seconds so a hot value costs no vault round
    trip (a token forgotten meanwhile may still be issued for that long; it resolves
    to nothing).
    """

    keys: VaultKeys
    backend: VaultBackend
    vault: str
    scope: str = ""
    rule: str = ""
    ttl: float | None = None
    subject: Selector | None = None
    on_vault_error: str = "block"
    fallback: Tokenize | None = None
    counters: VaultCounters = field(default_factory=VaultCounters)
    issued: TTLCache = field(default_factory=lambda: TTLCache(4096, 30.0))
    breaker: Breaker = field(default_factory=Breaker)
    clock: Callable[[], float] = time.time

    name: ClassVar[str] = "tokenize"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = False
    changes: ClassVar[bool] = True

    def apply(self, value: str, entity: str) -> str:
        if not value:
            return value
        if value.startswith("vtok_"):
            match = _VAULT_TOKEN.fullmatch(value)
            if match is not None and self.keys.checks(match):
                return value  # already ours: tokenizing twice equals once
        tag = entity_tag(entity)
        subject = self._subject_id()
        lookup = self.keys.lookup(self.scope, tag, subject, value)
        cached = self.issued.get(lookup)
        if cached is not None:
            return str(cached)
        if self.breaker.is_open():
            return self._vault_failed(value, entity)
        token = self.keys.new_token(tag)
        record = VaultRecord(
            token=token, lookup=lookup, subject=self.keys.subject_digest(subject) if subject else "",
            key_id=self.keys.active, sealed=self.keys.seal(token, value, subject),
            expires_at=None if self.ttl is None else self.clock() + self.ttl,
            scope=self.scope, rule=self.rule,
        )
        try:
            issued = self.backend.issue(record)
        except VaultUnavailable:
            self.breaker.trip()
            return self._vault_failed(value, entity)
        self.counters.add("issued")
        self.issued.put(lookup, issued)
        return issued

    def _subject_id(self) -> str:
        if self.subject is None:
            return ""
        found = select_first(_DOCUMENT.get(), self.subject)
        if found is None or isinstance(found, (dict, list, bool)):
            return ""
        return str(found)

    def _vault_failed(self, value: str, entity: str) -> str:
        if self.on_vault_error == "vaultless" and self.fallback is not None:
            self.counters.add("fallback")
            return self.fallback.apply(value, entity)
        self.counters.add("blocked")
        raise RedactionError(
            "vault_unavailable",
            f"vault '{self.vault}' is unavailable and the rule says on_vault_error: block",
        )


def parse_duration(text: str) -> float:
    """``"30s"``, ``"15m"``, ``"12h"``, ``"30d"`` (or a bare number of seconds) -> seconds.

    >>> parse_duration("30d")
    2592000.0
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None:
        raise ValueError(f"expected a duration like 30s, 15m, 12h or 30d, got {text!r}")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
