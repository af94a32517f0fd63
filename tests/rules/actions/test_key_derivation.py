"""One ``keys:`` entry, one subkey per purpose (issue #15): HKDF-SHA256 with a purpose label.

Before, the same key bytes keyed AES-SIV for tokens and HMAC-SHA256 for hashes. Tokens
made that way (format 1) must still open; new ones carry a version letter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from veil.errors import KeyMaterialError
from veil.rules.actions.hmac_hash import Hash
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import Tokenize, detokenize_text, detokenize_value
from veil.rules.restore import Restorer

KEY = bytes(range(64))
RING = Keyring({"k1": KEY}, active="k1")
# Made by veil before key derivation (format 1: AES-SIV under the raw key entry), kept
# verbatim: a token stored by an earlier release must stay readable.
FORMAT1_EMAIL = "tok_EMAIL_k1_ra4m25fp5uxjyssx5vzedtl6e3lac7tueacfxuckavu6ix3gas3yua"
FORMAT1_PHONE_TENANT_A = "tok_PHONE_k1_rabjzgrfsqeya5kn7dhle4pymrhpq5a6pjbbxb4rwyfaoztbflv53a"


def subkey(key: bytes, label: bytes, length: int) -> bytes:
    """The documented derivation, computed independently of veil."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(key)


def test_new_tokens_are_aes_siv_under_the_derived_tokenize_subkey_not_the_raw_key() -> None:
    token = Tokenize(RING).apply("jane@example.com", "EMAIL")
    assert token.startswith("tok_EMAIL_k1_q")  # the version letter: no format-1 length starts with q
    rest = token.removeprefix("tok_EMAIL_k1_q")
    assert rest.startswith("ra")  # the length prefix: 16 bytes
    body = rest[2:]
    ciphertext = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
    ad = [b"veil/tok/v2", b"EMAIL", b""]
    derived = subkey(KEY, b"veil/v2 tokenize aes-siv", 64)
    assert AESSIV(derived).decrypt(ciphertext, ad) == b"jane@example.com"
    with pytest.raises(InvalidTag):
        AESSIV(KEY).decrypt(ciphertext, ad)


def test_hash_is_hmac_under_the_derived_hash_subkey_not_the_raw_key() -> None:
    tag = b"EMAIL"
    message = len(tag).to_bytes(4, "big") + tag + b"jane@example.com"
    derived = subkey(KEY, b"veil/v2 hash hmac-sha256", 32)
    out = Hash(KEY, "k1").apply("jane@example.com", "EMAIL")
    assert out == "hash_EMAIL_" + hmac.new(derived, message, hashlib.sha256).hexdigest()[:16]
    assert out != "hash_EMAIL_" + hmac.new(KEY, message, hashlib.sha256).hexdigest()[:16]


def test_one_key_entry_gives_unrelated_token_and_hash_keys() -> None:
    token_key = subkey(KEY, b"veil/v2 tokenize aes-siv", 64)
    hash_key = subkey(KEY, b"veil/v2 hash hmac-sha256", 32)
    assert len({KEY, token_key[:32], hash_key}) == 3


@pytest.mark.parametrize(
    ("token", "scope", "value"),
    [
        (FORMAT1_EMAIL, "", "jane@example.com"),
        (FORMAT1_PHONE_TENANT_A, "tenant-a", "+44 20 7946 0958"),
    ],
)
def test_tokens_made_before_derivation_still_open(token: str, scope: str, value: str) -> None:
    assert detokenize_value(token, RING, scope) == value
    assert detokenize_text(f"to {token}.", RING, (scope,)) == (f"to {value}.", 1)
    assert Restorer(((RING, (scope,)),)).open_at(token) == (len(token), value)
    assert Tokenize(RING, scope).apply(token, "EMAIL") == token  # still recognised as our own


def test_a_format1_token_does_not_open_as_format2_or_the_reverse() -> None:
    """The version letter picks the scheme: moving a payload between formats fails authentication."""
    new = Tokenize(RING).apply("jane@example.com", "EMAIL")
    as_old = new.replace("_k1_q", "_k1_", 1)
    as_new = FORMAT1_EMAIL.replace("_k1_", "_k1_q", 1)
    for forged in (as_old, as_new):
        with pytest.raises(KeyMaterialError):
            detokenize_value(forged, RING)


def test_keyring_holds_no_public_key_bytes() -> None:
    ring = Keyring({"k1": KEY, "k2": bytes(range(1, 33))}, active="k2")
    public = {name: getattr(ring, name) for name in dir(ring) if not name.startswith("_")}
    for name, value in public.items():
        if callable(value):
            continue
        assert KEY not in repr(value).encode() and KEY.hex() not in repr(value), name
        assert not isinstance(value, bytes) and not (hasattr(value, "values") and any(isinstance(v, bytes) for v in value.values())), name
    assert not hasattr(ring, "keys")


def test_hash_holds_no_public_key_bytes_and_repr_hides_it() -> None:
    action = Hash(KEY, "k1")
    assert not hasattr(action, "key")
    for name in dir(action):
        if not name.startswith("_"):
            assert not isinstance(getattr(action, name), bytes), name
    assert KEY.hex() not in repr(action) and repr(KEY) not in repr(action)
    assert repr(Tokenize(RING)) == "Tokenize(keyring=Keyring(active='k1', key_ids=('k1',)), scope='')"
