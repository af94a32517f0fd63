"""The ``tokenize`` action: deterministic, reversible, vaultless tokens (AES-SIV).

Use it when a downstream service must not see a value but a trusted party must
be able to get it back (``veil detokenize``, or the response path of a proxy).
There is no vault: the token *is* the encrypted value, so the same value, key,
scope and entity always give the same token (records stay joinable) and any
process holding the keyring can reverse it. Caveats: determinism reveals which
records share a value, and the token's length reveals the value's length.

Token format::

    tok_{TYPE}_{keyid}_q{length}{base32(AES-SIV(subkey, value, ad=["veil/tok/v2", TYPE, scope]))}

* ``TYPE`` is the entity tag (``EMAIL``, ``CREDIT_CARD``); ``keyid`` names the
  keyring key that made the token (``k1``), so rotated keys keep working.
* ``q`` is the version letter of format 2: ``subkey`` is derived from the key
  entry by HKDF-SHA256 (:data:`veil.rules.actions.keys.TOKENIZE_PURPOSE`), so the
  same entry can also key ``hash``. A length prefix never starts with ``q`` (that
  would be a leading zero digit), so tokens made before derivation existed,
  format 1 (``tok_{TYPE}_{keyid}_{length}{...}``, AES-SIV under the key entry's
  own bytes, domain ``veil/tok/v1``), are told apart by their first payload
  letter and still open, unless the keyring says ``legacy_tokens=False``
  (then they open nowhere and are left as text). Only format 2 is made.
* The ciphertext is AES-SIV (RFC 5297) of the UTF-8 value with three pieces of
  associated data: a format tag, ``TYPE`` and the scope. A token therefore
  only opens under the type and scope it was made for, and any edit to it
  (type, key id, payload) fails authentication instead of decrypting to junk.
* ``base32`` is RFC 4648, lower-case, without ``=`` padding.
* ``length`` is the UTF-8 byte length of the value as a base32 varint, most
  significant digit first: a digit ``d`` (0..15) is the character
  ``alphabet[16 + d]`` (``q``..``z``, ``2``..``7``) when more digits follow and
  ``alphabet[d]`` (``a``..``p``) for the last one. So 5 is ``f`` and 20 is
  ``re``.

Why a length prefix: tokens must be found in free text, where a token may be
glued to the next word (``...tok_EMAIL_k1_<payload>foo``). The payload
alphabet is made of letters, so a regex cannot tell where the payload ends; the
prefix makes the token self-delimiting, and :func:`detokenize_text` cuts the
regex match to the exact length before decrypting. That costs one or two
characters per token and one decryption per token, where trying every shorter
prefix until AES-SIV authenticates would cost up to one decryption per surplus
character. A token cut short (say, at a chunk boundary) is left untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from cryptography.exceptions import InvalidTag

from veil.errors import KeyMaterialError
from veil.rules.actions._entity import ENTITY_TAG_PATTERN, entity_tag
from veil.rules.actions.keys import KEY_ID_PATTERN, Keyring

TOKEN_PATTERN = rf"tok_{ENTITY_TAG_PATTERN}_{KEY_ID_PATTERN}_[a-z2-7]+"
"""RE2-compatible pattern (no anchors, groups or look-around) that finds tokens
in free text, JSON strings and chunks. A match may run past the end of a token
glued to following letters; the length prefix says where the token really ends
(see :func:`detokenize_text`)."""

_TOKEN = re.compile(
    rf"tok_(?P<type>{ENTITY_TAG_PATTERN})_(?P<kid>{KEY_ID_PATTERN})_(?P<payload>[a-z2-7]+)"
)
_AD_DOMAINS = {1: b"veil/tok/v1", 2: b"veil/tok/v2"}
_VERSION_LETTER = "q"  # the letter of format 2; a length prefix never starts with it
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_DIGIT = {ch: i for i, ch in enumerate(_ALPHABET)}
_SIV_BYTES = 16
_MAX_LENGTH_DIGITS = 8  # 16**8 bytes = 4 GiB; longer prefixes are not tokens


def _encode_length(n: int) -> str:
    digits = [n & 0xF]
    n >>= 4
    while n:
        digits.append(n & 0xF)
        n >>= 4
    digits.reverse()
    return "".join(_ALPHABET[16 + d] for d in digits[:-1]) + _ALPHABET[digits[-1]]


def _decode_length(payload: str) -> tuple[int, int] | None:
    """Read the length prefix: ``(value byte length, prefix chars)``, or None if malformed."""
    n = 0
    for i, ch in enumerate(payload[:_MAX_LENGTH_DIGITS]):
        d = _DIGIT[ch]
        if i == 0 and d == 16:
            return None  # a leading zero digit: not canonical
        if d < 16:
            return (n << 4) | d, i + 1
        n = (n << 4) | (d - 16)
    return None


def _base32_chars(nbytes: int) -> int:
    return (nbytes * 8 + 4) // 5


def _associated_data(tag: str, scope: str, version: int = 2) -> list[bytes]:
    return [_AD_DOMAINS[version], tag.encode("ascii"), scope.encode("utf-8", "surrogatepass")]


@dataclass(frozen=True, slots=True)
class _Token:
    """A token cut to its exact length: where it ends in the text, and its parts."""

    end: int
    tag: str
    key_id: str
    ciphertext: bytes
    version: int
    """2: made under the derived subkey (``q`` letter); 1: made before derivation."""


def _cut_token(match: re.Match[str]) -> _Token | None:
    """Trim a regex match to the token's real length and decode the payload.

    None when the payload is shorter than its length prefix says, or is not
    canonical base32: then it is not a token and stays in the text as it is.
    """
    payload = match["payload"]
    version = 2 if payload.startswith(_VERSION_LETTER) else 1
    skip = 1 if version == 2 else 0
    decoded = _decode_length(payload[skip:])
    if decoded is None:
        return None
    value_len, prefix_len = decoded
    prefix_len += skip
    body_len = _base32_chars(value_len + _SIV_BYTES)
    body = payload[prefix_len : prefix_len + body_len]
    if len(body) != body_len:
        return None
    padded = body.upper() + "=" * (-body_len % 8)
    try:
        ciphertext = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        return None
    if _encode_body(ciphertext) != body:  # non-zero pad bits: not what we make
        return None
    end = match.start("payload") + prefix_len + body_len
    return _Token(end, match["type"], match["kid"], ciphertext, version)


def _encode_body(ciphertext: bytes) -> str:
    return base64.b32encode(ciphertext).decode("ascii").rstrip("=").lower()


def _open(token: _Token, keyring: Keyring, scopes: Iterable[str]) -> str | None:
    """Decrypt under the first scope that authenticates; None if none does (or if the
    token is of format 1 and the keyring no longer accepts those)."""
    if token.version == 1 and not keyring.legacy_tokens:
        return None
    cipher = keyring.cipher(token.key_id, format1=token.version == 1)
    for scope in scopes:
        try:
            plain = cipher.decrypt(token.ciphertext, _associated_data(token.tag, scope, token.version))
        except InvalidTag:
            continue
        return plain.decode("utf-8", "surrogatepass")
    return None


@dataclass(frozen=True, slots=True)
class Tokenize:
    """Replaces the value with a reversible token made by the keyring's active key.

    ``scope`` separates token spaces (per tenant, per API): a token opens only
    with the scope it was made with. A value that already is a token which this
    keyring opens in this scope is returned unchanged, so tokenizing is
    idempotent; a value that merely looks like a token is tokenized like any
    other value.

    >>> ring = Keyring({"k1": bytes(32)}, active="k1")
    >>> Tokenize(ring).apply("jane@example.com", "EMAIL")[:13]
    'tok_EMAIL_k1_'
    """

    keyring: Keyring
    scope: str = ""

    name: ClassVar[str] = "tokenize"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = False
    changes: ClassVar[bool] = True

    def apply(self, value: str, entity: str) -> str:
        if not value:
            # Nothing to hide. Also, cryptography < 44.1 (pinned by mitmproxy 11 for
            # veil[proxy]) refuses to AES-SIV-encrypt an empty plaintext.
            return value
        if value.startswith("tok_") and self._is_own_token(value):
            return value
        tag = entity_tag(entity)
        key_id = self.keyring.active
        data = value.encode("utf-8", "surrogatepass")
        ciphertext = self.keyring.cipher(key_id).encrypt(
            data, _associated_data(tag, self.scope)
        )
        return f"tok_{tag}_{key_id}_{_VERSION_LETTER}{_encode_length(len(data))}{_encode_body(ciphertext)}"

    def _is_own_token(self, value: str) -> bool:
        match = _TOKEN.fullmatch(value)
        if match is None:
            return False
        token = _cut_token(match)
        if token is None or token.end != len(value) or token.key_id not in self.keyring:
            return False
        return _open(token, self.keyring, (self.scope,)) is not None


def detokenize_value(token: str, keyring: Keyring, scope: str = "") -> str:
    """Return the value inside ``token``, which must be exactly one token.

    Raises KeyMaterialError when ``token`` is not a well-formed token, when the
    keyring has no key with its id, or when it does not authenticate (wrong
    key, scope or type, or an altered token). Messages never quote the token.
    """
    match = _TOKEN.fullmatch(token)
    cut = _cut_token(match) if match is not None else None
    if cut is None or cut.end != len(token):
        raise KeyMaterialError("not a well-formed veil token")
    if cut.version == 1 and not keyring.legacy_tokens:
        raise KeyMaterialError(
            f"token made with key {cut.key_id!r} is of format 1 (made before key derivation), "
            "which this key no longer accepts (legacy_tokens: false)"
        )
    plain = _open(cut, keyring, (scope,))
    if plain is None:
        raise KeyMaterialError(
            f"token made with key {cut.key_id!r} did not authenticate: "
            "wrong key, scope or type, or the token was altered"
        )
    return plain


def _json_string_body(value: str) -> str:
    body = json.dumps(value, ensure_ascii=False)[1:-1]
    # Lone surrogates would survive ensure_ascii=False and break UTF-8 encoding.
    return re.sub(r"[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", body)


def detokenize_text(
    text: str,
    keyring: Keyring,
    scopes: Iterable[str] = ("",),
    *,
    json_escape: bool = False,
    only: Container[str] | None = None,
) -> tuple[str, int]:
    """Replace every token in ``text`` that the keyring opens; return ``(text, count)``.

    Each token is tried with each scope in order and opened with the first that
    authenticates. Tokens with an unknown key id, that open under no scope, or
    that are cut short are left exactly as they are (a lookalike string in
    ordinary text is not an error); use :func:`detokenize_value` to get an
    error instead. With ``json_escape=True`` the values are escaped for the
    inside of a JSON string, for use on raw JSON text. With ``only``, a token
    not in it stays as it is too (a reply restores only what its request sent).

    >>> ring = Keyring({"k1": bytes(32)}, active="k1")
    >>> token = Tokenize(ring).apply("jane@example.com", "EMAIL")
    >>> detokenize_text(f"to: {token}!", ring)
    ('to: jane@example.com!', 1)
    """
    out: list[str] = []
    count = 0
    done = 0
    for start, end, plain in _opened(text, keyring, tuple(scopes), only):
        out.append(text[done:start])
        out.append(_json_string_body(plain) if json_escape else plain)
        count += 1
        done = end
    out.append(text[done:])
    return "".join(out), count


def find_tokens(text: str, keyring: Keyring, scopes: Iterable[str] = ("",)) -> list[str]:
    """Every token in ``text`` that the keyring opens, in order, as written."""
    return [text[start:end] for start, end, _ in _opened(text, keyring, tuple(scopes), None)]


def _opened(
    text: str, keyring: Keyring, scopes: tuple[str, ...], only: Container[str] | None,
) -> Iterator[tuple[int, int, str]]:
    """``(start, end, value)`` of each token in ``text`` that opens (and is in ``only``, if given)."""
    pos = 0
    while (match := _TOKEN.search(text, pos)) is not None:
        token = _cut_token(match)
        plain = None
        if token is not None and token.key_id in keyring and (only is None or text[match.start():token.end] in only):
            plain = _open(token, keyring, scopes)
        if token is None or plain is None:
            # Not a token we can open. Another token can only start inside the
            # payload ("...tok_A_k1_abctok_B_k1_..." matches up to "abctok").
            pos = match.start("payload")
            continue
        yield match.start(), token.end, plain
        pos = token.end


def open_token_at(
    text: str, pos: int, keyring: Keyring, scopes: Iterable[str], only: Container[str] | None = None,
) -> tuple[int, str] | None:
    """``(end, value)`` when a token that ``keyring`` opens (and in ``only``, if given)
    starts exactly at ``text[pos]``."""
    match = _TOKEN.match(text, pos)
    token = _cut_token(match) if match is not None else None
    if token is None or token.key_id not in keyring or (only is not None and text[pos:token.end] not in only):
        return None
    plain = _open(token, keyring, scopes)
    return None if plain is None else (token.end, plain)


_PARTIAL = re.compile(
    rf"tok_(?:[A-Z][A-Z0-9_]*)?"  # still inside the type
    rf"|tok_{ENTITY_TAG_PATTERN}_{KEY_ID_PATTERN}_?"  # inside the key id
    rf"|tok_{ENTITY_TAG_PATTERN}_{KEY_ID_PATTERN}_(?P<payload>[a-z2-7]*)"
)


def partial_token_start(text: str) -> int | None:
    """Where a token cut short at the end of ``text`` starts, or None.

    A stream may split a token anywhere (``...tok_EMA`` | ``IL_k1_...``). This
    finds the earliest trailing piece that the next chunk could still complete:
    ``t``, ``to``, ``tok``, or a ``tok_...`` whose payload is shorter than its
    length prefix says. A complete token is not partial.
    """
    # Earliest first: with a key id ending in "tok", "tok_EMAIL_tok_" holds a later "tok_".
    start = text.find("tok_")
    while start >= 0:
        match = _PARTIAL.fullmatch(text, start)
        if match is not None and _incomplete(match["payload"]):
            return start
        start = text.find("tok_", start + 1)
    for tail in ("tok", "to", "t"):
        if text.endswith(tail):
            return len(text) - len(tail)
    return None


def _incomplete(payload: str | None) -> bool:
    if payload and payload.startswith(_VERSION_LETTER):
        payload = payload[1:]  # format 2: the length prefix follows its version letter
    if not payload:
        return True
    decoded = _decode_length(payload)
    if decoded is None:
        # Only an unfinished length prefix may still become a token.
        return len(payload) < _MAX_LENGTH_DIGITS and all(_DIGIT[ch] >= 16 for ch in payload) and _DIGIT[payload[0]] != 16
    value_len, prefix_len = decoded
    return len(payload) - prefix_len < _base32_chars(value_len + _SIV_BYTES)
