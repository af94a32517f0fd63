"""The tokenize action: deterministic AES-SIV tokens that detokenize anywhere in text."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.errors import KeyMaterialError
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import (
    TOKEN_PATTERN,
    Tokenize,
    detokenize_text,
    detokenize_value,
)
from veil.rules.regex import compile_re2

K1 = bytes(range(64))
K2 = bytes(range(64, 128))
RING = Keyring({"k1": K1}, active="k1")
ROTATED = Keyring({"k1": K1, "k2": K2}, active="k2")
OTHER = Keyring({"k1": K2}, active="k1")
PAYLOAD_LETTERS = "abcdefghijklmnopqrstuvwxyz234567"


def expected_token(key: bytes, value: str, tag: str, scope: str = "") -> str:
    """The documented format (2), built independently of the action."""
    data = value.encode()
    subkey = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"veil/v2 tokenize aes-siv").derive(key)
    ciphertext = AESSIV(subkey).encrypt(data, [b"veil/tok/v2", tag.encode(), scope.encode()])
    body = base64.b32encode(ciphertext).decode().rstrip("=").lower()
    digits = []
    n = len(data)
    while True:
        digits.append(n & 15)
        n >>= 4
        if not n:
            break
    length = "".join(PAYLOAD_LETTERS[16 + d] for d in reversed(digits[1:]))
    return f"tok_{tag}_k1_q{length}{PAYLOAD_LETTERS[digits[0]]}{body}"


@pytest.mark.parametrize(
    ("value", "entity", "tag"),
    [
        ("jane@example.com", "EMAIL", "EMAIL"),  # typical
        ("x", "PIN", "PIN"),  # one char
        ("😀", "EMOJI", "EMOJI"),  # emoji (4 UTF-8 bytes)
        ("Zoë Ñúñez", "person-name", "PERSON_NAME"),  # non-ASCII, entity normalised
        ("a" * 20, "X", "X"),  # two-digit length prefix
        ("a" * 100_000, "BLOB", "BLOB"),  # very long: five-digit length prefix
        ("4111-1111-1111-4242", "CREDIT_CARD", "CREDIT_CARD"),  # separators
    ],
)
def test_token_has_the_documented_format(value: str, entity: str, tag: str) -> None:
    token = Tokenize(RING).apply(value, entity)
    assert token == expected_token(K1, value, tag)
    assert re.fullmatch(TOKEN_PATTERN, token)
    assert detokenize_value(token, RING) == value


def test_token_known_answer_is_stable_across_processes() -> None:
    token = Tokenize(RING).apply("jane@example.com", "EMAIL")
    assert token == "tok_EMAIL_k1_qrasygzdepjdfywgaszyd5s7iiy6o2gvctja6kasfmswmqvxko3yxwa"


def test_empty_values_are_returned_as_they_are() -> None:
    """Nothing to hide, and cryptography < 44.1 refuses empty AES-SIV plaintexts."""
    assert Tokenize(RING).apply("", "EMAIL") == ""


@pytest.mark.parametrize(
    ("length", "prefix"),
    [
        (5, "f"),  # one digit
        (15, "p"),  # largest one-digit length
        (16, "ra"),  # continuation digit 1, final digit 0
        (20, "re"),  # 0x14
        (256, "rqa"),  # 0x100: a zero continuation digit in the middle
    ],
)
def test_length_prefix_is_a_base32_varint(length: int, prefix: str) -> None:
    token = Tokenize(RING).apply("a" * length, "X")
    assert token.removeprefix("tok_X_k1_q").startswith(prefix)


def test_same_input_gives_same_token_and_any_change_gives_another() -> None:
    base = Tokenize(RING).apply("jane@example.com", "EMAIL")
    same_key_new_ring = Keyring({"k1": bytes(K1)}, active="k1")
    assert Tokenize(same_key_new_ring).apply("jane@example.com", "EMAIL") == base
    variants = {
        Tokenize(OTHER).apply("jane@example.com", "EMAIL"),  # other key
        Tokenize(RING, scope="tenant-a").apply("jane@example.com", "EMAIL"),  # other scope
        Tokenize(RING).apply("jane@example.com", "USER_ID"),  # other type
        Tokenize(RING).apply("jane@example.org", "EMAIL"),  # other value
    }
    assert base not in variants and len(variants) == 4


@pytest.mark.parametrize(
    ("ring", "scope", "entity", "message"),
    [
        (OTHER, "", "EMAIL", r"key 'k1' did not authenticate"),  # same id, other key bytes
        (RING, "tenant-a", "EMAIL", r"key 'k1' did not authenticate"),  # other scope
        (Keyring({"k2": K2}, active="k2"), "", "EMAIL", r"^no key with id 'k1'"),  # unknown id
    ],
)
def test_detokenize_value_with_wrong_key_or_scope_raises(
    ring: Keyring, scope: str, entity: str, message: str
) -> None:
    token = Tokenize(RING).apply("jane@example.com", entity)
    with pytest.raises(KeyMaterialError, match=message) as info:
        detokenize_value(token, ring, scope)
    assert "jane" not in str(info.value)
    assert token.rsplit("_", 1)[1][:8] not in str(info.value)


def _tamper(token: str) -> str:
    return token[:-3] + ("a" if token[-3] != "a" else "b") + token[-2:]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace("tok_EMAIL_", "tok_PHONE_"),  # type swapped: AD mismatch
        _tamper,  # one payload character changed
        lambda t: t[:-1],  # truncated
        lambda t: t + "a",  # trailing junk
        lambda t: t.replace("_k1_", "_k1_q"),  # non-canonical length prefix
        lambda t: "tok_EMAIL_k1_",  # no payload
        lambda t: "not a token",  # not a token at all
    ],
)
def test_detokenize_value_rejects_altered_tokens(mangle: Callable[[str], str]) -> None:
    token = Tokenize(RING).apply("jane@example.com", "EMAIL")
    altered = mangle(token)
    with pytest.raises(KeyMaterialError) as info:
        detokenize_value(altered, RING)
    assert "jane" not in str(info.value)


def test_token_made_before_rotation_still_detokenizes() -> None:
    old = Tokenize(RING).apply("jane@example.com", "EMAIL")
    new = Tokenize(ROTATED).apply("jane@example.com", "EMAIL")
    assert new.startswith("tok_EMAIL_k2_") and new != old
    assert detokenize_value(old, ROTATED) == "jane@example.com"
    assert detokenize_text(f"{old} {new}", ROTATED) == ("jane@example.com jane@example.com", 2)
    retired = Keyring({"k2": K2}, active="k2")
    with pytest.raises(KeyMaterialError, match=r"^no key with id 'k1'"):
        detokenize_value(old, retired)
    assert detokenize_text(old, retired) == (old, 0)  # text: left in place


def test_tokenize_is_idempotent_only_for_tokens_it_can_open() -> None:
    action = Tokenize(RING, scope="s1")
    token = action.apply("jane@example.com", "EMAIL")
    assert action.apply(token, "EMAIL") == token
    assert action.apply(token, "USER_ID") == token  # a token already, whatever the rule says
    foreign = Tokenize(OTHER).apply("jane@example.com", "EMAIL")
    lookalike = _tamper(token)
    for value in (foreign, lookalike):  # look like tokens, do not open here: tokenized
        wrapped = action.apply(value, "EMAIL")
        assert wrapped != value
        assert detokenize_value(wrapped, RING, "s1") == value


def test_detokenize_text_tries_each_scope() -> None:
    a = Tokenize(RING, scope="a").apply("alice", "NAME")
    b = Tokenize(RING, scope="b").apply("bob", "NAME")
    text = f"{a} and {b}"
    assert detokenize_text(text, RING, scopes=("a",)) == (f"alice and {b}", 1)
    assert detokenize_text(text, RING, scopes=("b", "a")) == ("alice and bob", 2)


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "tok_",  # bare prefix
        "tok_EMAIL_k1_abc",  # too short for its length prefix
        "tok_EMAIL_k1_" + "a" * 60,  # right shape and length, does not authenticate
        "TOK_EMAIL_k1_abcdef",  # wrong case
        "see tok_A_k1_zzzzzzzzzz in the docs",  # a lookalike in prose
    ],
)
def test_detokenize_text_leaves_non_tokens_alone(text: str) -> None:
    assert detokenize_text(text, RING) == (text, 0)


def test_detokenize_text_handles_glued_and_adjacent_tokens() -> None:
    a = Tokenize(RING).apply("alice@example.com", "EMAIL")
    b = Tokenize(RING).apply("bob", "NAME")
    cases = [
        (f"{a}{b}", "alice@example.combob", 2),  # two tokens glued together
        (f"x{a}foo", "xalice@example.comfoo", 1),  # glued to letters on both sides
        (f"tok_A_k1_{a}", "tok_A_k1_alice@example.com", 1),  # lookalike whose match eats 'tok'
        (f'{{"email":"{a}","name":"{b}"}}', '{"email":"alice@example.com","name":"bob"}', 2),
    ]
    for text, expected, count in cases:
        assert detokenize_text(text, RING) == (expected, count)


def test_detokenize_text_leaves_a_token_cut_at_a_chunk_boundary() -> None:
    token = Tokenize(RING).apply("jane@example.com", "EMAIL")
    for cut in range(1, len(token)):
        assert detokenize_text(token[:cut], RING) == (token[:cut], 0)


def test_detokenize_text_json_escape_keeps_json_valid() -> None:
    value = 'say "hi"\n\\ \ud800'  # quote, newline, backslash, lone surrogate
    token = Tokenize(RING).apply(value, "NOTE")
    document = json.dumps({"note": f"<{token}>"})
    restored, count = detokenize_text(document, RING, json_escape=True)
    assert count == 1
    assert json.loads(restored) == {"note": f"<{value}>"}
    restored.encode("utf-8")  # no raw surrogate left behind


def test_token_pattern_is_re2_compatible_and_finds_tokens() -> None:
    compiled: Any = compile_re2(TOKEN_PATTERN)  # pyre2 ships no type stubs
    token = Tokenize(RING).apply("jane@example.com", "CREDIT_CARD")
    assert compiled.search(f'{{"v": "{token}"}}'.encode()).group(0) == token.encode()


values = st.text(min_size=1)  # empty values are not tokenized (test_empty_values_are_returned_as_they_are)
surrounding = st.text()
glue = st.text(alphabet=PAYLOAD_LETTERS + "_", min_size=1)
entities = st.sampled_from(["EMAIL", "CREDIT_CARD", "person name", "x"])


@settings(deadline=None)
@given(value=values, entity=entities, scope=st.text(max_size=8))
def test_round_trip_for_any_value(value: str, entity: str, scope: str) -> None:
    token = Tokenize(RING, scope=scope).apply(value, entity)
    assert Tokenize(RING, scope=scope).apply(token, entity) == token
    assert detokenize_value(token, RING, scope) == value
    assert detokenize_text(token, RING, (scope,)) == (value, 1)


@settings(deadline=None)
@given(value=values, before=surrounding, after=surrounding)
def test_round_trip_inside_surrounding_text(value: str, before: str, after: str) -> None:
    token = Tokenize(RING).apply(value, "EMAIL")
    restored, count = detokenize_text(before + token + after, RING)
    assert count == 1 and restored == before + value + after


@settings(deadline=None)
@given(value=values, before=surrounding, after=surrounding)
def test_round_trip_inside_a_json_string(value: str, before: str, after: str) -> None:
    token = Tokenize(RING).apply(value, "EMAIL")
    document = json.dumps({"message": before + token + after, "n": 1})
    restored, count = detokenize_text(document, RING, json_escape=True)
    assert count == 1
    assert json.loads(restored) == {"message": before + value + after, "n": 1}


@settings(deadline=None)
@given(value=values, tail=glue)
def test_round_trip_when_glued_to_following_letters(value: str, tail: str) -> None:
    token = Tokenize(RING).apply(value, "EMAIL")
    assert detokenize_text(token + tail, RING) == (value + tail, 1)
