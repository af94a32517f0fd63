"""The hash action: keyed, deterministic, one-way pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from veil.rules.actions.hmac_hash import HASH_OUTPUT_PATTERN, Hash
from veil.rules.regex import compile_re2

KEY = bytes(range(16))
OTHER_KEY = bytes(range(1, 17))


def expected_hash(key: bytes, value: str, tag: str, length: int = 16) -> str:
    """The documented construction, computed independently of the action: HMAC-SHA256
    under the key's HKDF subkey for hashing, of the length-prefixed tag and the value."""
    subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"veil/v2 hash hmac-sha256").derive(key)
    message = len(tag).to_bytes(4, "big") + tag.encode() + value.encode()
    return hmac.new(subkey, message, hashlib.sha256).hexdigest()[:length]


@pytest.mark.parametrize(
    ("value", "entity", "tag"),
    [
        ("jane@example.com", "EMAIL", "EMAIL"),  # typical
        ("", "EMAIL", "EMAIL"),  # empty
        ("x", "PIN", "PIN"),  # one char
        ("😀", "EMOJI", "EMOJI"),  # emoji
        ("Zoë Ñúñez", "person name", "PERSON_NAME"),  # non-ASCII value, entity normalised
        ("a" * 100_000, "BLOB", "BLOB"),  # very long
        ("4111-1111-1111-4242", "CREDIT_CARD", "CREDIT_CARD"),  # separators
    ],
)
def test_hash_is_hmac_sha256_of_tag_and_value(value: str, entity: str, tag: str) -> None:
    assert Hash(KEY, "k1").apply(value, entity) == f"hash_{tag}_{expected_hash(KEY, value, tag)}"


def test_hash_known_answer_is_stable_across_processes() -> None:
    assert Hash(KEY, "k1").apply("jane@example.com", "EMAIL") == "hash_EMAIL_98e834d0e6a2d626"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((KEY, "jane@example.com", "EMAIL"), (OTHER_KEY, "jane@example.com", "EMAIL")),  # key
        ((KEY, "jane@example.com", "EMAIL"), (KEY, "jane@example.com", "USER_ID")),  # type
        ((KEY, "jane@example.com", "EMAIL"), (KEY, "jane@example.org", "EMAIL")),  # value
        ((KEY, "AB", "C"), (KEY, "B", "CA")),  # tag/value boundary is not ambiguous
    ],
)
def test_hash_differs_when_key_type_or_value_differs(
    first: tuple[bytes, str, str], second: tuple[bytes, str, str]
) -> None:
    a = Hash(first[0], "k1").apply(first[1], first[2])
    b = Hash(second[0], "k1").apply(second[1], second[2])
    assert a.rsplit("_", 1)[1] != b.rsplit("_", 1)[1]


@given(value=st.text(), length=st.integers(8, 64))
def test_hash_is_deterministic_idempotent_and_recognised(value: str, length: int) -> None:
    action = Hash(KEY, "k1", length=length)
    once = action.apply(value, "EMAIL")
    assert Hash(KEY, "k1", length=length).apply(value, "EMAIL") == once  # fresh instance
    assert action.apply(once, "EMAIL") == once
    assert re.fullmatch(HASH_OUTPUT_PATTERN, once)
    assert re.fullmatch(action.output_pattern, once)
    assert len(once) == len("hash_EMAIL_") + length


def test_hash_with_custom_prefix_recognises_only_its_own_outputs() -> None:
    action = Hash(KEY, "k1", length=8, prefix="pseudo:")
    once = action.apply("jane@example.com", "EMAIL")
    assert once.startswith("pseudo:EMAIL_")
    assert action.apply(once, "EMAIL") == once
    default_output = Hash(KEY, "k1").apply("jane@example.com", "EMAIL")
    assert action.apply(default_output, "EMAIL") != default_output  # other config: hashed


@pytest.mark.parametrize(
    ("value", "entity", "kept"),
    [
        ("hash_EMAIL_" + "0" * 16, "EMAIL", True),  # this entity's shape: hashed once already
        ("hash_EMAIL_" + "0" * 16, "SECRET", False),  # another type's shape: this value's text
        ("hash_SECRET_" + "ab12" * 4, "SECRET", True),
        ("hash_SECRET_" + "ab12" * 4, "API_KEY", False),
        ("hash_EMAIL_" + "0" * 15, "EMAIL", False),  # near-miss: one digit short
    ],
)
def test_only_an_output_of_the_same_entity_is_left_as_it_is(value: str, entity: str, kept: bool) -> None:
    """``password=hash_EMAIL_<hex>`` under a rule hashing secrets: a look-alike of another
    type's hash is the password's text, and must not cross as it is."""
    out = Hash(KEY, "k1").apply(value, entity)
    assert (out == value) is kept
    assert out.startswith(f"hash_{entity}_")


def test_hash_patterns_are_re2_compatible() -> None:
    compiled: Any = compile_re2(HASH_OUTPUT_PATTERN)  # pyre2 ships no type stubs
    output = Hash(KEY, "k1").apply("jane@example.com", "EMAIL").encode()
    assert compiled.search(b"user " + output + b" logged in").group(0) == output
    compile_re2(Hash(KEY, "k1", prefix="a.b-c").output_pattern)


def test_hash_repr_hides_the_key() -> None:
    key = b"super-secret-key-0123456789"
    text = repr(Hash(key, "k1"))
    assert text == "Hash(key=<27 bytes hidden>, key_id='k1', length=16, prefix='hash_')"
    assert "secret" not in text and key.hex() not in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": bytes(15)}, r"^hash key must be at least 16 bytes, got 15$"),  # short key
        ({"key": b""}, r"^hash key must be at least 16 bytes, got 0$"),  # empty key
        ({"key": "0" * 32}, r"^hash key must be at least 16 bytes, got str$"),  # text, not bytes
        ({"key_id": "K1"}, r"^hash key_id must match .*, got 'K1'$"),  # upper case id
        ({"length": 7}, r"^hash length must be an integer from 8 to 64, got 7$"),  # too short
        ({"length": 65}, r"^hash length must be an integer from 8 to 64, got 65$"),  # too long
        ({"prefix": ""}, r"^hash prefix must start with a letter"),  # empty prefix
        ({"prefix": "h sh"}, r"^hash prefix must start with a letter.*got 'h sh'$"),  # space
    ],
)
def test_hash_rejects_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"key": KEY, "key_id": "k1", **kwargs}
    with pytest.raises(ValueError, match=message):
        Hash(**arguments)  # type: ignore[arg-type]
