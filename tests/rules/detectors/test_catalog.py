"""The built-in catalog as a whole: names, order, compilation, examples, validators."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.rules.detectors import BUILTIN_DETECTORS, PRIORITY, VALIDATORS
from veil.rules.detectors.matching import CompiledDetector, find_spans
from veil.rules.regex import compile_re2

EXPECTED_ORDER = [
    "PRIVATE_KEY", "JWT", "API_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "BEARER_TOKEN",
    "URL_CREDENTIALS", "SECRET", "EMAIL", "IBAN", "CREDIT_CARD", "US_SSN", "US_ITIN", "UK_NINO", "US_PASSPORT",
    "DATE_OF_BIRTH", "IP_ADDRESS", "MAC_ADDRESS", "PHONE", "URL",
]  # fmt: skip


def test_builtin_type_names_and_priority_order_are_the_public_contract() -> None:
    assert list(BUILTIN_DETECTORS) == EXPECTED_ORDER
    assert list(PRIORITY) == EXPECTED_ORDER
    assert all(spec.name == name for name, spec in BUILTIN_DETECTORS.items())


@pytest.mark.parametrize("name", list(BUILTIN_DETECTORS))
def test_builtin_pattern_compiles_with_re2(name: str) -> None:
    spec = BUILTIN_DETECTORS[name]
    compile_re2(spec.pattern, case_insensitive=spec.case_insensitive)


@pytest.mark.parametrize("name", list(BUILTIN_DETECTORS))
def test_builtin_spec_is_documented(name: str) -> None:
    spec = BUILTIN_DETECTORS[name]
    assert spec.description
    assert spec.examples
    assert all(word == word.lower() for word in spec.context)


@pytest.mark.parametrize(
    ("name", "example"),
    [(name, example) for name, spec in BUILTIN_DETECTORS.items() for example in spec.examples],
)
def test_builtin_examples_are_found(compiled: dict[str, CompiledDetector], name: str, example: str) -> None:
    assert find_spans(compiled[name], example) != []


def test_required_named_validators_exist() -> None:
    required = {"luhn", "iban", "us_ssn", "uk_nino", "phone", "ip_address", "jwt", "date"}
    assert required <= set(VALIDATORS)


@pytest.mark.parametrize("name", ["luhn", "credit_card", "iban", "us_ssn", "us_itin", "uk_nino", "phone", "ip_address", "mac_address", "jwt", "date", "aws_secret_key", "api_key", "secret_value"])
@pytest.mark.parametrize(
    "junk",
    ["", " ", "\x00", "é", "💳" * 20, "\ud800", "1234567890" * 20 + "1", "-", "....", "+", "eyJ.eyJ.x", "::::"],
)
def test_named_validators_return_false_on_junk_and_never_raise(name: str, junk: str) -> None:
    assert VALIDATORS[name](junk) is False


TRIGGERED = [name for name, spec in BUILTIN_DETECTORS.items() if spec.trigger]


def test_some_detector_has_a_trigger() -> None:
    assert "URL_CREDENTIALS" in TRIGGERED  # or the property below tests nothing


def _pieces(name: str) -> list[str]:
    spec = BUILTIN_DETECTORS[name]
    # Its examples, cut anywhere, plus the characters its pattern cares about.
    cut = [example[i:j] for example in spec.examples for i in range(0, len(example), 3) for j in (i + 4, i + 12, len(example))]
    return cut + list(":/@#?[]'\" \t.-_+x1Aé") + ["://", "a:b@", "@h", "x://", "//:@"]


@pytest.mark.parametrize("name", TRIGGERED)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_trigger_matches_wherever_its_pattern_does(name: str, data: st.DataObject) -> None:
    # A trigger only picks which strings get scanned: missing one would let a value through.
    spec = BUILTIN_DETECTORS[name]
    pattern = compile_re2(spec.pattern, case_insensitive=spec.case_insensitive)
    trigger = compile_re2(spec.trigger, case_insensitive=spec.case_insensitive)
    text = "".join(data.draw(st.lists(st.sampled_from(_pieces(name)), max_size=12)))
    raw = text.encode("utf-8")
    if pattern.search(raw) is not None:
        assert trigger.search(raw) is not None, text
    for example in spec.examples:
        assert trigger.search(example.encode("utf-8")) is not None


def _python_pattern(name: str) -> re.Pattern[str] | None:
    try:  # Python's re in ASCII mode reads these patterns as RE2 does; \p{...} classes it cannot read
        return re.compile(BUILTIN_DETECTORS[name].pattern, re.ASCII)
    except re.error:
        return None


FROM_REGEX = [name for name in TRIGGERED if _python_pattern(name) is not None]


def test_most_triggers_are_checked_against_texts_made_from_their_pattern() -> None:
    assert {"CREDIT_CARD", "PHONE", "IBAN"} <= set(FROM_REGEX)


@pytest.mark.parametrize("name", FROM_REGEX)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_trigger_matches_texts_made_from_its_pattern(name: str, data: st.DataObject) -> None:
    # Texts the pattern itself generates reach its rarer shapes (six groups, trunk prefixes, long runs).
    spec = BUILTIN_DETECTORS[name]
    source = _python_pattern(name)
    assert source is not None
    text = data.draw(st.from_regex(source, alphabet=st.characters(codec="ascii")))
    raw = text.encode("utf-8")
    if compile_re2(spec.pattern, case_insensitive=spec.case_insensitive).search(raw) is not None:
        assert compile_re2(spec.trigger, case_insensitive=spec.case_insensitive).search(raw) is not None, text
