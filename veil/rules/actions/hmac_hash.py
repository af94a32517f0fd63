"""The ``hash`` action: a keyed, one-way pseudonym (HMAC-SHA256).

Use it when records must stay joinable (the same email gives the same
pseudonym everywhere the key is shared) but nobody needs the original back.
A keyed HMAC, unlike a bare hash, cannot be reversed by hashing every likely
email or phone number, as long as the key stays secret. Caveats: anyone with
the key *can* run that enumeration, and the pseudonym is stable, so it links
records; use ``tokenize`` if the value must be recoverable, ``redact`` if
records must not be linkable.

Output: ``{prefix}{TYPE}_{hex}``, e.g. ``hash_EMAIL_3f2a9c0e5b7d1a46``.

The HMAC key is not the ``keys:`` entry itself but its subkey for hashing
(HKDF-SHA256, :data:`veil.rules.actions.keys.HASH_PURPOSE`), so one entry may
also key ``tokenize``. Pseudonyms made before that derivation differ from the
ones made now for the same value; both have the same shape, so the engine still
recognises old ones as pseudonyms (see :mod:`veil.rules.protected`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import InitVar, dataclass, field
from typing import ClassVar

from veil.rules.actions._entity import ENTITY_TAG_PATTERN, entity_tag
from veil.rules.actions.keys import HASH_PURPOSE, KEY_ID_PATTERN, derive_key

DEFAULT_PREFIX = "hash_"
MIN_KEY_BYTES = 16
MIN_LENGTH = 8
MAX_LENGTH = 64  # all 32 bytes of SHA-256, in hex

HASH_OUTPUT_PATTERN = rf"hash_{ENTITY_TAG_PATTERN}_[0-9a-f]{{{MIN_LENGTH},{MAX_LENGTH}}}"
"""RE2-compatible pattern (no anchors, no look-around) for outputs of ``Hash``
with the default prefix and any ``length``; ``Hash.output_pattern`` is the exact
one for a configured instance. The engine uses it to leave existing pseudonyms
alone, so hashing is idempotent."""

_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_:.-]{0,31}")
_KEY_ID = re.compile(KEY_ID_PATTERN)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Hash:
    """Replaces the value with a truncated HMAC-SHA256 of the entity tag and the value.

    ``key`` is at least 16 bytes, and only its hashing subkey is kept (inside the
    HMAC state: no attribute holds key bytes); ``key_id`` names it (for reports
    and rotation, it is not part of the output); ``length`` is the number of hex characters
    kept, 8 to 64; ``prefix`` starts with a letter. A value that already is an
    output of this configuration (same prefix and length) is returned as is.
    The HMAC input is length-prefixed so ``("AB", "C")`` and ``("A", "BC")``
    never collide.

    >>> h = Hash(key=bytes(16), key_id="k1")
    >>> h.apply("jane@example.com", "EMAIL").startswith("hash_EMAIL_")
    True
    >>> h
    Hash(key=<16 bytes hidden>, key_id='k1', length=16, prefix='hash_')
    """

    key: InitVar[bytes]
    key_id: str
    length: int = 16
    prefix: str = DEFAULT_PREFIX
    _key_size: int = field(init=False)
    _mac: hmac.HMAC = field(init=False)
    _own_output: re.Pattern[str] = field(init=False)

    name: ClassVar[str] = "hash"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = False
    changes: ClassVar[bool] = True

    def __post_init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
            size = len(key) if isinstance(key, bytes) else type(key).__name__
            raise ValueError(f"hash key must be at least {MIN_KEY_BYTES} bytes, got {size}")
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError(f"hash key_id must match {KEY_ID_PATTERN}, got {self.key_id!r}")
        if (
            isinstance(self.length, bool)
            or not isinstance(self.length, int)
            or not MIN_LENGTH <= self.length <= MAX_LENGTH
        ):
            raise ValueError(
                f"hash length must be an integer from {MIN_LENGTH} to {MAX_LENGTH}, "
                f"got {self.length!r}"
            )
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(
                "hash prefix must start with a letter and use only letters, digits, "
                f"'_', ':', '.' or '-' (at most 32), got {self.prefix!r}"
            )
        object.__setattr__(self, "_key_size", len(key))
        subkey = derive_key(key, HASH_PURPOSE, 32)
        object.__setattr__(self, "_mac", hmac.new(subkey, digestmod=hashlib.sha256))
        object.__setattr__(self, "_own_output", re.compile(self.output_pattern))

    @property
    def output_pattern(self) -> str:
        """RE2-compatible pattern for this instance's outputs (unanchored)."""
        return rf"{re.escape(self.prefix)}{ENTITY_TAG_PATTERN}_[0-9a-f]{{{self.length}}}"

    def output_end(self, text: str, start: int) -> int:
        """End of text shaped exactly like this instance's output (prefix, a tag, ``length``
        hex digits) starting at ``text[start]``, or -1. Shape only: see :mod:`veil.rules.protected`."""
        match = self._own_output.match(text, start)
        return -1 if match is None else match.end()

    def apply(self, value: str, entity: str) -> str:
        tag = entity_tag(entity)
        if value.startswith(f"{self.prefix}{tag}_") and self._own_output.fullmatch(value):
            # Hashing twice is hashing once, for this entity only: a hash of another type's
            # shape (password=hash_EMAIL_<hex>) is this value's text, hashed like any other.
            return value
        tag_bytes = tag.encode("ascii")
        mac = self._mac.copy()  # copying the keyed state skips re-deriving the key pads
        mac.update(len(tag_bytes).to_bytes(4, "big"))
        mac.update(tag_bytes)
        mac.update(value.encode("utf-8", "surrogatepass"))
        return f"{self.prefix}{tag}_{mac.hexdigest()[: self.length]}"

    def __repr__(self) -> str:
        return (
            f"Hash(key=<{self._key_size} bytes hidden>, key_id={self.key_id!r}, "
            f"length={self.length}, prefix={self.prefix!r})"
        )
