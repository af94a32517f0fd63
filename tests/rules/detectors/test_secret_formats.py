"""API_KEY's catalog: every format fires on a real-shaped token and not on its near-misses.

Examples are generated from each format's own shape (right alphabet, the
shortest allowed length, checksums computed as the providers describe them),
from a fixed seed; none is a real credential.
"""

from __future__ import annotations

import binascii
import random
import re
from collections.abc import Callable
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the parser, to generate examples from shapes

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import veil
from veil.rules.detectors.api_key import API_KEY, is_api_key, matching_format
from veil.rules.detectors.secret_checksums import (
    BASE62,
    BECH32_CHARSET,
    base62,
    bech32_checksum,
    bech32_valid,
)
from veil.rules.detectors.secret_formats import FORMATS, SecretFormat
from veil.rules.regex import compile_re2

Detect = Callable[..., list[str]]


def _generate(node: object, rng: random.Random) -> str:
    """One string the parsed regex matches, each repeat at its minimum count (at least 1 for '*')."""
    out = []
    for op, arg in node:  # type: ignore[attr-defined]
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "IN":
            chars = []
            for kind, value in arg:
                if str(kind) == "LITERAL":
                    chars.append(chr(value))
                elif str(kind) == "RANGE":
                    chars.extend(chr(c) for c in range(value[0], value[1] + 1))
            out.append(rng.choice(chars))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, _high, sub = arg
            out.extend(_generate(sub, rng) for _ in range(max(low, 1) if low == 0 else low))
        elif name == "SUBPATTERN":
            out.append(_generate(arg[-1], rng))
        elif name == "BRANCH":
            out.append(_generate(arg[1][0], rng))
    return "".join(out)


def _fix_checksum(fmt: SecretFormat, token: str) -> str:
    if fmt.prefix in ("ghp_", "gho_", "ghu_", "ghs_", "npm_"):
        random_part = token[4:34]
        return token[:34] + base62(binascii.crc32(random_part.encode()), 6, BASE62)
    if fmt.prefix == "AGE-SECRET-KEY-1":
        data = token[len("AGE-SECRET-KEY-1") : -6].lower()
        check = bech32_checksum("age-secret-key-", [BECH32_CHARSET.index(c) for c in data])
        return (token[:-6] + check).upper()
    return token


def example_of(fmt: SecretFormat, seed: int = 0) -> str:
    """A real-shaped token of ``fmt`` (not a placeholder), deterministic per format."""
    rng = random.Random(f"{fmt.name}:{seed}")
    for _ in range(50):
        token = _fix_checksum(fmt, _generate(sre_parse.parse(fmt.shape), rng))
        if is_api_key(token):
            return token
    raise AssertionError(f"{fmt.name}: no valid example generated from {fmt.shape}")


def _placeholder(fmt: SecretFormat, token: str) -> str:
    body = re.sub(r"[A-Za-z]", "x", token[len(fmt.prefix) :])
    return fmt.prefix + re.sub(r"[0-9]", "0", body)


IDS = [f.name for f in FORMATS]


def test_the_catalog_has_at_least_80_sourced_formats() -> None:
    assert len(FORMATS) >= 80
    assert all(f.source and f.shape and f.scan for f in FORMATS)
    assert len({f.name for f in FORMATS}) == len(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_each_format_is_found_whole_in_text(detect: Detect, fmt: SecretFormat) -> None:
    token = example_of(fmt)
    assert matching_format(token) == fmt
    assert detect("API_KEY", f"token: {token} next") == [token]
    assert detect("API_KEY", f'{{"k":"{token}"}}') == [token]


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_each_format_one_character_short_is_not_a_key(detect: Detect, fmt: SecretFormat) -> None:
    token = example_of(fmt)
    short = token[:-1]
    fallback = matching_format(short)  # sk-proj-... one short is still a legacy sk- key: fail closed
    assert fallback != fmt
    if fallback is None:
        assert short not in detect("API_KEY", f"token: {short} next")


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_each_format_as_a_placeholder_is_not_a_key(detect: Detect, fmt: SecretFormat) -> None:
    assert detect("API_KEY", f"token: {_placeholder(fmt, example_of(fmt))} next") == []


CHECKSUMMED = [f for f in FORMATS if f.checksum is not None]


def test_checksummed_formats_are_the_documented_ones() -> None:
    assert {f.prefix for f in CHECKSUMMED} == {"ghp_", "gho_", "ghu_", "ghs_", "npm_", "AGE-SECRET-KEY-1"}


@pytest.mark.parametrize("fmt", CHECKSUMMED, ids=[f.name for f in CHECKSUMMED])
def test_a_wrong_checksum_is_not_a_key(detect: Detect, fmt: SecretFormat) -> None:
    token = example_of(fmt)
    alphabet = BECH32_CHARSET.upper() if fmt.prefix.startswith("AGE") else BASE62
    last = token[-1]
    wrong = token[:-1] + alphabet[(alphabet.index(last) + 1) % len(alphabet)]
    assert detect("API_KEY", f"token {wrong}") == []


def test_the_github_checksum_matches_the_published_algorithm() -> None:
    # CRC32 of the 30 random characters, base62 (0-9A-Za-z), 6 characters: computed here independently.
    random_part = "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y"
    crc = binascii.crc32(random_part.encode())
    digits = ""
    while crc:
        crc, rest = divmod(crc, 62)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[rest] + digits
    assert is_api_key("ghp_" + random_part + digits.rjust(6, "0"))
    assert not is_api_key("gho_" + random_part + "000000")


def test_bech32_rejects_mixed_case_and_bad_data() -> None:
    token = example_of(next(f for f in FORMATS if f.prefix == "AGE-SECRET-KEY-1"))
    assert bech32_valid(token)
    assert not bech32_valid(token[:20] + token[20:].lower())  # mixed case
    assert not bech32_valid(token.replace("1", "B", 1) if "1" in token[16:] else token[:-1] + "B")


@pytest.mark.parametrize(
    "text",
    [
        "use sk-learn-compatible-estimators-here",  # prose after sk-: no digits or upper case
        "task-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",  # 'sk-' inside a word
        "npm_install",  # npm word
        "sk_live_",  # prefix only
        "shpat_" + "g" * 32,  # Shopify: not hex
        "dop_v1_" + "0123456789abcdef" * 4,  # a run nobody's generator writes
        "xoxb-123",  # Slack: too short
        "secret_manager_configuration_for_the_billing_service_v2",  # 'secret_' prose
        "AKCp" + "x" * 69,  # JFrog placeholder
        "the SK-1234 part number",  # Twilio prefix in prose
    ],
)
def test_prose_and_templates_are_not_keys(detect: Detect, text: str) -> None:
    assert detect("API_KEY", text) == []


TRIGGER = compile_re2(API_KEY.trigger)
PLAN = veil.default_plan()
UNPREFIXED = [f for f in FORMATS if f.trigger]


def test_formats_whose_fragment_starts_with_a_run_have_a_trigger() -> None:
    # Their whole fragment would be the trigger otherwise: a counted run RE2 follows from every character.
    assert {f.name for f in UNPREFIXED} == {
        "Discord bot token", "Telegram bot token", "Asana personal access token", "Mailchimp API key",
        "Azure AD (Entra ID) client secret", "Terraform Cloud / Enterprise API token",
    }
    assert "[0-9a-f]{32}" not in API_KEY.trigger and "[MNO]" not in API_KEY.trigger


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
@pytest.mark.parametrize("glue", ["", " ", "x", "_", '"', "token=", "é"])
def test_the_trigger_finds_every_format_wherever_the_pattern_does(fmt: SecretFormat, glue: str) -> None:
    # The trigger picks the strings the scan reads: a token it misses would cross unread.
    pattern = compile_re2(API_KEY.pattern)
    for seed in range(3):
        text = f"{glue}{example_of(fmt, seed)}{glue}".encode()
        if pattern.search(text) is not None:
            assert TRIGGER.search(text) is not None, text


@pytest.mark.parametrize("fmt", UNPREFIXED, ids=[f.name for f in UNPREFIXED])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_format_trigger_is_part_of_every_match_of_its_fragment(fmt: SecretFormat, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(re.compile(fmt.scan, re.ASCII), fullmatch=True, alphabet=st.characters(codec="ascii")))
    assert compile_re2(fmt.trigger).search(text.encode()) is not None, text


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
@pytest.mark.parametrize("note", ["deploy note: {} ok", 'deploy\nnote "{}" \u00e9t\u00e9', "{}"])
def test_the_default_plan_takes_every_format_out_of_a_json_body(fmt: SecretFormat, note: str) -> None:
    # End to end through the events pass, whose trigger picks the strings the scan reads.
    token = example_of(fmt)
    body = orjson.dumps({"id": "ord_7Qx", "note": note.format(token), "items": [1, 2]})
    out = PLAN.redact_body(body, "application/json").output
    assert token.encode() not in out
    assert token not in str(orjson.loads(out))
