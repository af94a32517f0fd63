"""Key material for ``tokenize``: a keyring of AES-SIV keys and key-text parsing.

The keyring is built once when the policy is compiled (from key text that
``settings.py`` read from the environment or a secret file; this module never
reads either). The ``active`` key makes new tokens; every other key in the ring
still opens the tokens it made, which is how keys are rotated: add the new key,
make it active, and drop the old one once no stored token needs it.

One key entry, one subkey per purpose: a ``keys:`` entry may serve both
``tokenize`` and ``hash``, so neither uses its bytes directly. Each derives its
own key with HKDF-SHA256 (RFC 5869, no salt) whose ``info`` names the purpose
(:data:`TOKENIZE_PURPOSE`, :data:`HASH_PURPOSE`). Tokens made before this
derivation existed (format 1, AES-SIV under the entry's bytes) still open: the
token's version letter says which key opens it (see ``tokenize``), unless the ring
is built with ``legacy_tokens=False`` (policy: ``legacy_tokens: false`` on the key
entry). Then format-1 tokens open nowhere, and the entry's own bytes are not kept
in any cipher: only its derived subkey is. Turn it off once no stored token is of
format 1: anyone holding the raw entry could otherwise forge tokens that open.

Security caveat: anyone holding a key can reverse every token it made. Key
bytes are never a public attribute and never appear in a ``repr`` or an error
message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from veil.errors import KeyMaterialError

KEY_ID_PATTERN = r"[a-z][a-z0-9]{0,15}"
"""A key id as written inside a token: ``k1``, ``2024q3`` is not one (must start with a letter)."""

AES_SIV_KEY_SIZES = (32, 48, 64)
"""AES-SIV key lengths in bytes (two AES-128, -192 or -256 keys)."""

TOKENIZE_PURPOSE = b"veil/v2 tokenize aes-siv"
"""HKDF ``info`` of the AES-SIV subkey (64 bytes: AES-SIV-256) that makes format-2 tokens."""
HASH_PURPOSE = b"veil/v2 hash hmac-sha256"
"""HKDF ``info`` of the HMAC-SHA256 subkey (32 bytes) that makes pseudonyms."""

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


def derive_key(key: bytes, purpose: bytes, length: int) -> bytes:
    """The ``length``-byte subkey of ``key`` for ``purpose``: HKDF-SHA256, no salt, ``info=purpose``."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(key)


def generate_key_text(nbytes: int = 64) -> str:
    """Return ``nbytes`` random bytes as unpadded base64url, ready for a policy secret.

    The default 64 bytes is an AES-SIV-256 key; any size of 16 bytes or more
    is allowed (``Hash`` keys may be shorter than AES-SIV keys).
    """
    if nbytes < 16:
        raise ValueError(f"nbytes must be at least 16, got {nbytes}")
    return base64.urlsafe_b64encode(os.urandom(nbytes)).rstrip(b"=").decode("ascii")


class Keyring:
    """AES-SIV keys by id, and the ``active`` id that makes new tokens.

    ``keys`` must not be empty; each id matches :data:`KEY_ID_PATTERN` and
    each key is 32, 48 or 64 bytes; ``active`` must be one of the ids.
    Anything else raises ValueError naming the id, never the key. The ring
    keeps no key bytes where they can be read: only the ciphers made from them.
    ``legacy_tokens`` (default True): whether tokens of format 1, made before key
    derivation, still open; False keeps no cipher under the raw key at all.
    Immutable; compared by identity.

    >>> ring = Keyring({"k1": bytes(32)}, active="k1")
    >>> ring
    Keyring(active='k1', key_ids=('k1',))
    """

    __slots__ = ("_active", "_ciphers", "_format1_ciphers", "_legacy_tokens")

    _active: str
    _ciphers: Mapping[str, AESSIV]
    _format1_ciphers: Mapping[str, AESSIV]
    _legacy_tokens: bool

    def __init__(self, keys: Mapping[str, bytes], active: str, *, legacy_tokens: bool = True) -> None:
        if not keys:
            raise ValueError("keyring needs at least one key")
        ciphers: dict[str, AESSIV] = {}
        format1: dict[str, AESSIV] = {}
        for key_id, key in keys.items():
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
            ciphers[key_id] = AESSIV(derive_key(key, TOKENIZE_PURPOSE, 64))
            if legacy_tokens:
                format1[key_id] = AESSIV(key)
        if active not in ciphers:
            raise ValueError(
                f"active key {active!r} is not in the keyring "
                f"(ids: {', '.join(sorted(ciphers))})"
            )
        object.__setattr__(self, "_active", active)
        object.__setattr__(self, "_ciphers", MappingProxyType(ciphers))
        object.__setattr__(self, "_format1_ciphers", MappingProxyType(format1))
        object.__setattr__(self, "_legacy_tokens", bool(legacy_tokens))

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"Keyring is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Keyring is immutable: cannot delete {name!r}")

    @classmethod
    def from_text(cls, keys: Mapping[str, str], active: str, *, legacy_tokens: bool = True) -> Keyring:
        """Build a keyring from key text (see :func:`parse_key`); errors name the id."""
        parsed: dict[str, bytes] = {}
        for key_id, text in keys.items():
            try:
                parsed[key_id] = parse_key(text)
            except ValueError as exc:
                raise ValueError(f"key {key_id!r}: {exc}") from None
        return cls(parsed, active, legacy_tokens=legacy_tokens)

    @property
    def active(self) -> str:
        """The id of the key that makes new tokens."""
        return self._active

    @property
    def legacy_tokens(self) -> bool:
        """Whether format-1 tokens (made before key derivation) open with this ring."""
        return self._legacy_tokens

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def __contains__(self, key_id: object) -> bool:
        """``"k1" in ring``: whether the ring has a key with this id."""
        return key_id in self._ciphers

    def cipher(self, key_id: str, *, format1: bool = False) -> AESSIV:
        """The AES-SIV cipher for ``key_id``: under its derived tokenize subkey, or with
        ``format1`` under the key entry itself (it opens tokens made before derivation).
        KeyMaterialError if the ring lacks the id, or for ``format1`` when it does not
        accept legacy tokens."""
        if format1 and not self._legacy_tokens:
            raise KeyMaterialError("this keyring does not accept format-1 tokens (legacy_tokens: false)")
        try:
            return (self._format1_ciphers if format1 else self._ciphers)[key_id]
        except KeyError:
            raise KeyMaterialError(f"no key with id {key_id!r} in the keyring") from None

    def __repr__(self) -> str:
        legacy = "" if self._legacy_tokens else ", legacy_tokens=False"
        return f"Keyring(active={self.active!r}, key_ids={self.key_ids!r}{legacy})"
