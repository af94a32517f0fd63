"""Key material for ``tokenize``: a keyring of AES-SIV keys and key-text parsing.

The keyring is built once when the policy is compiled (from key text that
``settings.py`` read from the environment or a secret file; this module never
reads either). The ``active`` key makes new tokens; every other key in the ring
still opens the tokens it made, which is how keys are rotated: add the new key,
make it active, and drop the old one once no stored token needs it.

Security caveat: anyone holding a key can reverse every token it made. Key
bytes never appear in a ``repr`` or an error message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from veil.errors import KeyMaterialError

KEY_ID_PATTERN = r"[a-z][a-z0-9]{0,15}"
"""A key id as written inside a token: ``k1``, ``2024q3`` is not one (must start with a letter)."""

AES_SIV_KEY_SIZES = (32, 48, 64)
"""AES-SIV key lengths in bytes (two AES-128, -192 or -256 keys)."""

_KEY_ID = re.compile(KEY_ID_PATTERN)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def parse_key(text: str) -> bytes:
    """Decode key text written as hex or base64 / base64url (padding optional).

    Surrounding whitespace is ignored. A ``hex:`` or ``base64:`` prefix forces
    the encoding; without one, text made only of an even number of hex digits
    is read as hex (a random base64 key is all hex digits with negligible
    probability). Raises ValueError, without quoting the text, when it is
    neither. The length is not checked here: the keyring and ``Hash`` do that.

    >>> parse_key("hex:00ff")
    b'\\x00\\xff'
    """
    body = text.strip()
    scheme, sep, rest = body.partition(":")
    forced = scheme.lower() if sep else ""
    if forced in ("hex", "base64"):
        body = rest.strip()
    elif sep:
        raise ValueError(
            "key text must be hex or base64, optionally prefixed 'hex:' or 'base64:'"
        )
    if forced != "base64" and _HEX.fullmatch(body):
        return bytes.fromhex(body)
    if forced == "hex":
        raise ValueError("key text after 'hex:' is not an even number of hex digits")
    if not _BASE64.fullmatch(body):
        raise ValueError("key text is neither hex nor base64")
    unpadded = body.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("key text is neither hex nor base64") from None


def generate_key_text(nbytes: int = 64) -> str:
    """Return ``nbytes`` random bytes as unpadded base64url, ready for a policy secret.

    The default 64 bytes is an AES-SIV-256 key; any size of 16 bytes or more
    is allowed (``Hash`` keys may be shorter than AES-SIV keys).
    """
    if nbytes < 16:
        raise ValueError(f"nbytes must be at least 16, got {nbytes}")
    return base64.urlsafe_b64encode(os.urandom(nbytes)).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Keyring:
    """AES-SIV keys by id, and the ``active`` id that makes new tokens.

    ``keys`` must not be empty; each id matches :data:`KEY_ID_PATTERN` and
    each key is 32, 48 or 64 bytes; ``active`` must be one of the ids.
    Anything else raises ValueError naming the id, never the key.

    >>> ring = Keyring({"k1": bytes(32)}, active="k1")
    >>> ring
    Keyring(active='k1', key_ids=('k1',))
    """

    keys: Mapping[str, bytes]
    active: str
    _ciphers: Mapping[str, AESSIV] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("keyring needs at least one key")
        copied: dict[str, bytes] = {}
        for key_id, key in self.keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise ValueError(
                    f"key id must match {KEY_ID_PATTERN} "
                    f"(a lower-case letter, then up to 15 letters or digits), got {key_id!r}"
                )
            if not isinstance(key, bytes) or len(key) not in AES_SIV_KEY_SIZES:
                size = len(key) if isinstance(key, bytes) else type(key).__name__
                raise ValueError(
                    f"key {key_id!r} must be 32, 48 or 64 bytes for AES-SIV, got {size}"
                )
            copied[key_id] = key
        if self.active not in copied:
            raise ValueError(
                f"active key {self.active!r} is not in the keyring "
                f"(ids: {', '.join(sorted(copied))})"
            )
        object.__setattr__(self, "keys", MappingProxyType(copied))
        ciphers = {key_id: AESSIV(key) for key_id, key in copied.items()}
        object.__setattr__(self, "_ciphers", MappingProxyType(ciphers))

    @classmethod
    def from_text(cls, keys: Mapping[str, str], active: str) -> Keyring:
        """Build a keyring from key text (see :func:`parse_key`); errors name the id."""
        parsed: dict[str, bytes] = {}
        for key_id, text in keys.items():
            try:
                parsed[key_id] = parse_key(text)
            except ValueError as exc:
                raise ValueError(f"key {key_id!r}: {exc}") from None
        return cls(parsed, active)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self.keys)

    def cipher(self, key_id: str) -> AESSIV:
        """The AES-SIV cipher for ``key_id``; KeyMaterialError if the ring lacks it."""
        try:
            return self._ciphers[key_id]
        except KeyError:
            raise KeyMaterialError(f"no key with id {key_id!r} in the keyring") from None

    def __repr__(self) -> str:
        return f"Keyring(active={self.active!r}, key_ids={self.key_ids!r})"
