"""Obfuscated values are found: compatibility forms, invisible characters, percent-encoding.

Each value is matched in its normalized form and the ORIGINAL span is replaced, on
every engine path (text, JSON by splice with and without escapes, JSON by walk).
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.rules.test_json_escapes import _agree, encode
from tests.strategies import NEUTRAL_KEYS, NEUTRAL_WORDS
from veil import compile_policy, default_plan
from veil.rules.normalize import needs_normalizing, normalize

JSON = "application/json"
# A path selector sends every body through the walk, the reference.
WALKED = compile_policy(
    "version: 1\nrules:\n  - id: sel\n    fields: [{path: $.nothing.here, action: redact}]\n"
    "  - id: scan\n    scan: {detectors: [EMAIL, CREDIT_CARD, US_SSN, PHONE], action: redact}\n"
)

FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

OBFUSCATED = [
    # (text, the obfuscated value, its type)
    ("mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ today", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "EMAIL"),
    ("mail jane＠example.com today", "jane＠example.com", "EMAIL"),  # only the at sign
    ("mail jane﹫example.com today", "jane﹫example.com", "EMAIL"),  # small form variant of @
    ("mail ja\u200bne@exa\u200cmple.com today", "ja\u200bne@exa\u200cmple.com", "EMAIL"),
    ("mail jane\u00ad.roe@example.com today", "jane\u00ad.roe@example.com", "EMAIL"),  # soft hyphen
    ("to=jane%40example.com&x=1", "jane%40example.com", "EMAIL"),
    ("to jane%2Eroe%40example%2Ecom.", "jane%2Eroe%40example%2Ecom", "EMAIL"),
    ("card ４１１１ １１１１ １１１１ １１１１ ok", "４１１１ １１１１ １１１１ １１１１", "CREDIT_CARD"),
    ("card 4111 11\u200b11 1111 1\u2060111 ok", "4111 11\u200b11 1111 1\u2060111", "CREDIT_CARD"),
    ("card 4111%201111%201111%201111 ok", "4111%201111%201111%201111", "CREDIT_CARD"),
    ("ssn ５３６-２２-１２３４ filed", "５３６-２２-１２３４", "US_SSN"),
    ("call ＋４４ ２０ ７９４６ ０９５８ now", "＋４４ ２０ ７９４６ ０９５８", "PHONE"),
    ("mail jane@bücher.de today", "jane@bücher.de", "EMAIL"),  # IDN, nothing to normalize
    ("mail jos%E9%40example.com now", "jos%E9%40example.com", "EMAIL"),  # a Latin-1 byte in the run
    ("card 4111\u00a01111\u00a01111\u00a01111 ok", "4111\u00a01111\u00a01111\u00a01111", "CREDIT_CARD"),
    ("tel 01\u202f23\u202f45\u202f67\u202f89", "01\u202f23\u202f45\u202f67\u202f89", "PHONE"),  # French
]


@pytest.mark.parametrize(("text", "value", "kind"), OBFUSCATED)
def test_obfuscated_value_is_replaced_in_text(text: str, value: str, kind: str) -> None:
    result = default_plan().redact_text(text)
    assert result.text == text.replace(value, f"[REDACTED:{kind}]")
    assert [f.type for f in result.report.findings] == [kind]


@pytest.mark.parametrize(("text", "value", "kind"), OBFUSCATED)
@pytest.mark.parametrize("plan", [default_plan(), WALKED], ids=["splice", "walk"])
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf8", "escaped"])
def test_obfuscated_value_is_replaced_in_json(text: str, value: str, kind: str, plan: Any, ascii_only: bool) -> None:
    doc = {"items": [{"note": text, "status": "shipped"}]}
    body = orjson.dumps(doc)
    if ascii_only:  # every non-ASCII character as a \u escape
        body = orjson.dumps(doc).decode().encode("ascii", "backslashreplace").replace(b"\\x", b"\\u00")
        assert orjson.loads(body) == doc
    out = orjson.loads(plan.redact_body(body, JSON).output)
    assert out == {"items": [{"note": text.replace(value, f"[REDACTED:{kind}]"), "status": "shipped"}]}


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii",
        "café über 東京 🙂",  # already NFKC, nothing invisible
        "50% off, 100%",  # '%' without two hex digits
        "%ZZ and %4",
    ],
)
def test_ordinary_text_is_not_normalized(text: str) -> None:
    assert normalize(text) is None


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "jane@example.com"),
        ("a\u200bb\u200dc\ufeffd", "abcd"),
        ("x%40y %E2%82%AC %C3", "x@y € %C3"),  # a byte that is not UTF-8 stays
        ("%C3%40%E9%41", "%C3@%E9A"),  # and the rest of its run is still decoded
        ("a\u00a0b\u202fc\u3000d", "a b c d"),  # spaces NFKC makes plain
        ("①②", "12"),
        ("𝟏𝟐𝟑", "123"),
    ],
)
def test_normalized_forms(text: str, normalized: str) -> None:
    found = normalize(text)
    assert found is not None and found.text == normalized


OBFUSCATORS = {
    "fullwidth": lambda s: s.translate(FULLWIDTH),
    "zero-width": lambda s: "\u200b".join(s),
    "percent": lambda s: "".join(f"%{ord(c):02X}" if not c.isalnum() else c for c in s),
}


@given(
    st.sampled_from(["jane.roe@example.com", "4111 1111 1111 1111", "536-22-1234"]),
    st.sampled_from(sorted(OBFUSCATORS)),
    st.lists(st.sampled_from(NEUTRAL_WORDS + ["%", "\u200b", "ｘ", "100%"]), max_size=4),
    st.lists(st.sampled_from(NEUTRAL_WORDS + ["%", "\u200b", "ｘ", "100%"]), max_size=4),
)
def test_the_original_span_of_an_obfuscated_value_is_what_is_replaced(
    value: str, how: str, before: list[str], after: list[str]
) -> None:
    hidden = OBFUSCATORS[how](value)
    head = " ".join(before) + " " if before else ""
    text = head + hidden + (" " + " ".join(after) if after else "")
    result = default_plan().redact_text(text)
    assert hidden not in result.text and value not in result.text
    (finding,) = [f for f in result.report.findings]
    assert text[finding.start : finding.end] == hidden
    assert result.text.startswith(head) and result.text.endswith(text[len(head) + len(hidden) :])


@given(st.text(max_size=40))
def test_the_offset_map_is_monotonic_and_in_bounds(text: str) -> None:
    found = normalize(text)
    if found is None:
        assert not needs_normalizing(text) or "%" in text
        return
    last = 0
    for end in range(1, len(found.text) + 1):
        start_o, end_o = found.span(end - 1, end)
        assert last <= start_o < end_o <= len(text)
        last = start_o


obfuscated_words = st.sampled_from(
    NEUTRAL_WORDS + [o[1] for o in OBFUSCATED] + ["100%", "%41", "\u200b", "ｏｋ", "a%2"]
)
texts = st.lists(obfuscated_words, max_size=4).map(" ".join)
docs = st.recursive(
    texts | st.integers(-10, 10), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(NEUTRAL_KEYS), c, max_size=3),
    max_leaves=10,
).filter(lambda d: isinstance(d, (dict, list)))


@given(docs, st.randoms(use_true_random=False), st.sampled_from([0.0, 0.3]))
def test_bodies_with_obfuscated_values_give_what_the_walk_gives(doc: Any, rng: random.Random, rate: float) -> None:
    _agree(default_plan(), encode(doc, rng, rate))
