"""A field name can be the context a weaker candidate needs, on both JSON paths alike.

``{"nino": "AB123456"}`` (no suffix letter) only counts because of its key; the splice
path must scan such a value with its key as context, as the walk does. And a value
string is not scanned whole merely because it holds a short context word as a
substring ("beanie" holds "ni").
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil import compile_policy, default_plan
from veil.rules.detectors.matching import split_words
from veil.rules.regex import compile_re2
from veil.rules.view import _key_word_pattern

JSON = "application/json"
WALKED = compile_policy(
    "version: 1\nrules:\n  - id: sel\n    fields: [{path: $.nothing.here, action: redact}]\n"
    "  - id: scan\n    scan: true\n"
)

CASES = [
    ({"nino": "AB123456"}, {"nino": "[REDACTED:UK_NINO]"}),
    ({"customerNino": "ab123456"}, {"customerNino": "[REDACTED:UK_NINO]"}),
    ({"tax_id": "900701234"}, {"tax_id": "[REDACTED:US_ITIN]"}),
    ({"note": "my nino is ab 12 34 56"}, {"note": "my nino is [REDACTED:UK_NINO]"}),
    ({"note": "ITIN 900701234"}, {"note": "ITIN [REDACTED:US_ITIN]"}),
    ({"opinion": "AB123456"}, {"opinion": "AB123456"}),  # 'ni' inside a word is no context
    ({"item": "Merino beanie AB123456"}, {"item": "Merino beanie AB123456"}),
    ({"id": "ord_828367436b1b", "ref": "123456789"}, {"id": "ord_828367436b1b", "ref": "123456789"}),
]


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_field_names_give_context_on_the_splice_path(doc: dict[str, str], expected: dict[str, str]) -> None:
    out = default_plan().redact_body(orjson.dumps(doc), JSON).output
    assert orjson.loads(out) == expected


@pytest.mark.parametrize(("doc", "expected"), CASES)
def test_field_names_give_context_on_the_walk(doc: dict[str, str], expected: dict[str, str]) -> None:
    out = WALKED.redact_body(orjson.dumps(doc), JSON).output
    assert orjson.loads(out) == expected


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("ssn1", "536221234", "US_SSN"), ("2ssn", "536221234", "US_SSN"), ("SSN_NO", "536221234", "US_SSN"),
        ("ssn-2", "536221234", "US_SSN"), ("nino2", "AB123456", "UK_NINO"), ("customerNino", "AB123456", "UK_NINO"),
        ("HTTPNino", "AB123456", "UK_NINO"),
    ],
)
def test_a_context_word_next_to_digits_or_capitals_is_a_word_of_the_key(key: str, value: str, kind: str) -> None:
    doc = {"user": {key: value}}  # bare digits / no suffix letter: counts only with the key as context
    for plan in (default_plan(), WALKED):
        out = orjson.loads(plan.redact_body(orjson.dumps(doc), JSON).output)
        assert out == {"user": {key: f"[REDACTED:{kind}]"}}, (key, plan)


KEY_WORDS = sorted(default_plan().view(None, JSON).splice_key_words)
KEY_EVENTS = compile_re2(_key_word_pattern(frozenset(KEY_WORDS)))  # the key part of the events pattern


@given(
    st.lists(st.sampled_from(["user", "x", "2", "HTTP", "id", "_", "-", " ", "Ab", "9"]), max_size=3),
    st.sampled_from(KEY_WORDS),
    st.sampled_from([str.lower, str.upper, str.capitalize]),
    st.lists(st.sampled_from(["user", "x", "2", "No", "_", "-", "ID", "9"]), max_size=3),
)
def test_the_events_pattern_finds_every_key_holding_a_key_word(before: list[str], word: str, case: Any, after: list[str]) -> None:
    key = "".join(before) + case(word) + "".join(after)
    if word not in split_words(key):
        return  # not a word of this key (e.g. "userssn"): the key's decision would not use it either
    body = orjson.dumps({key: "v"})
    assert KEY_EVENTS.search(body) is not None, key
