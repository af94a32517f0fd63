"""Key text parsing and the tokenization keyring."""

from __future__ import annotations

import base64

import pytest

from veil.errors import KeyMaterialError
from veil.rules.actions.keys import Keyring, generate_key_text, parse_key
from veil.rules.actions.tokenize import Tokenize, detokenize_value

KEY = bytes(range(64))


@pytest.mark.parametrize(
    "text",
    [
        KEY.hex(),  # lower-case hex
        KEY.hex().upper(),  # upper-case hex
        f"  {KEY.hex()}\n",  # surrounding whitespace
        "hex:" + KEY.hex(),  # explicit hex
        base64.b64encode(KEY).decode(),  # standard base64, padded
        base64.b64encode(KEY).decode().rstrip("="),  # standard base64, unpadded
        base64.urlsafe_b64encode(KEY).decode(),  # base64url, padded
        base64.urlsafe_b64encode(KEY).decode().rstrip("="),  # base64url, unpadded
        "base64:" + base64.urlsafe_b64encode(KEY).decode(),  # explicit base64
    ],
)
def test_parse_key_accepts_hex_and_base64(text: str) -> None:
    assert parse_key(text) == KEY


def test_parse_key_prefers_hex_unless_told_otherwise() -> None:
    assert parse_key("deadbeef") == bytes.fromhex("deadbeef")
    assert parse_key("base64:deadbeef") == base64.b64decode("deadbeef")


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "not a key!",  # spaces and punctuation
        "hex:abc",  # odd number of hex digits
        "hex:zz",  # not hex at all
        "rot13:abcd",  # unknown scheme
        "abcde",  # 4n+1 base64 characters cannot encode whole bytes
        "ab=c",  # padding in the middle
    ],
)
def test_parse_key_rejects_other_text_without_quoting_it(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_key(text)
    assert "key text" in str(info.value)
    assert text.removeprefix("hex:") not in str(info.value) or not text


def test_generate_key_text_round_trips_through_parse_key() -> None:
    text = generate_key_text()
    assert "=" not in text
    assert len(parse_key(text)) == 64
    assert generate_key_text() != text
    assert len(parse_key(generate_key_text(32))) == 32
    with pytest.raises(ValueError, match=r"^nbytes must be at least 16, got 8$"):
        generate_key_text(8)


@pytest.mark.parametrize("size", [32, 48, 64])
def test_keyring_accepts_aes_siv_key_sizes(size: int) -> None:
    ring = Keyring({"k1": bytes(size)}, active="k1")
    assert ring.key_ids == ("k1",)
    assert ring.cipher("k1") is ring.cipher("k1")


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ({}, "k1", r"^keyring needs at least one key$"),  # empty ring
        ({"k1": bytes(16)}, "k1", r"^key 'k1' must be 32, 48 or 64 bytes for AES-SIV, got 16$"),
        ({"k1": bytes(65)}, "k1", r"^key 'k1' must be 32, 48 or 64 bytes for AES-SIV, got 65$"),
        ({"k1": "00" * 32}, "k1", r"^key 'k1' must be 32, 48 or 64 bytes for AES-SIV, got str$"),
        ({"K1": bytes(32)}, "K1", r"^key id must match .*, got 'K1'$"),  # upper case
        ({"1k": bytes(32)}, "1k", r"^key id must match .*, got '1k'$"),  # leading digit
        ({"k" * 17: bytes(32)}, "k" * 17, r"^key id must match"),  # too long
        ({"k_1": bytes(32)}, "k_1", r"^key id must match"),  # underscore would break tokens
        ({"k1": bytes(32)}, "k2", r"^active key 'k2' is not in the keyring \(ids: k1\)$"),
    ],
)
def test_keyring_rejects_bad_keys_naming_the_id_only(
    keys: dict[str, bytes], active: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Keyring(keys, active)


def test_keyring_from_text_names_the_bad_key() -> None:
    ring = Keyring.from_text({"k1": KEY.hex(), "k2": generate_key_text(32)}, active="k2")
    same = Keyring({"k1": KEY}, active="k1")
    token = Tokenize(same).apply("jane@example.com", "EMAIL")
    assert detokenize_value(token, ring) == "jane@example.com"  # k1 parsed to the same bytes
    with pytest.raises(ValueError, match=r"^key 'k2': key text is neither hex nor base64$"):
        Keyring.from_text({"k1": KEY.hex(), "k2": "???"}, active="k1")


def test_keyring_repr_hides_key_bytes() -> None:
    key = b"\x01" * 32
    ring = Keyring({"k1": key, "k2": KEY}, active="k2")
    text = repr(ring)
    assert text == "Keyring(active='k2', key_ids=('k1', 'k2'))"
    for secret in (key, KEY):
        assert secret.hex() not in text and repr(secret) not in text
        assert base64.b64encode(secret).decode() not in text
    assert str(ring) == text


def test_keyring_is_frozen_and_copies_its_keys() -> None:
    source = {"k1": KEY}
    ring = Keyring(source, active="k1")
    source["k2"] = KEY
    assert ring.key_ids == ("k1",)
    assert "k2" not in ring
    with pytest.raises(AttributeError):
        ring.active = "k2"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del ring.active


def test_keyring_cipher_for_unknown_id_is_a_key_material_error() -> None:
    ring = Keyring({"k1": KEY}, active="k1")
    with pytest.raises(KeyMaterialError, match=r"^no key with id 'k9' in the keyring$"):
        ring.cipher("k9")
