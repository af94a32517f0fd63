"""The reference matcher's documented semantics (the engine is tested against these)."""

from __future__ import annotations

import pytest

from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.matching import compile_detector, find_spans, has_context, split_words
from veil.rules.regex import PatternError


def spans(spec: DetectorSpec, text: str, field_name: str = "") -> list[tuple[int, int]]:
    return find_spans(compile_detector(spec), text, field_name)


def test_value_group_is_the_finding_and_the_rest_is_kept() -> None:
    text = "Authorization: Bearer abc123def456"
    assert spans(BUILTIN_DETECTORS["BEARER_TOKEN"], text) == [(22, 34)]


def test_whole_match_is_the_finding_when_value_group_does_not_take_part() -> None:
    spec = DetectorSpec(name="T", pattern=r"k=(?P<value>\d+)|#\d+")
    assert spans(spec, "k=12 #34") == [(2, 4), (5, 8)]


# A value group per branch (issue #15): each branch has its own edges, the branch RE2 prefers at a
# position wins, and the scan resumes at the value's end (an edge's character may lead the next).
BRANCHED = DetectorSpec(
    name="T",
    pattern=r"(?:(?:^|[^0-9a-z])(?P<value>\d{3}-\d{2})(?:[^0-9]|$)|[a-z](?P<value_glued>\d{3}-\d{2})(?:[^0-9a-z]|$))",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id 123-45 ok", ["123-45"]),  # the first branch: any non-digit after
        ("123-45x", ["123-45"]),
        ("q123-45 ok", ["123-45"]),  # the second branch: after a letter, no letter after
        ("q123-45x", []),  # the second branch's trailing edge refuses the letter
        ("123-45_678-90", ["123-45", "678-90"]),  # the first branch's edge ('_') leads the next value
        ("123-456", []),  # a digit after: no branch
    ],
)
def test_a_value_group_per_branch(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in spans(BRANCHED, text)] == expected


def test_branches_are_compiled_alone_and_the_engine_agrees_with_the_reference() -> None:
    from veil.rules.detectors.matching import value_span

    det = compile_detector(BRANCHED)
    assert len(det.branches) == 2 and det.branches[0].fast is not None  # the first branch keeps the fast form
    data = b"q123-45 ok"
    assert value_span(det, data, 0) == (1, 7)


def test_value_groups_outside_a_top_level_alternation_are_refused() -> None:
    with pytest.raises(PatternError, match="each sit in one branch"):
        compile_detector(DetectorSpec(name="T", pattern=r"a(?P<value>b)|c(?P<value_x>d)e(?P<value_y>f)"))


def test_a_one_character_class_lead_keeps_the_fast_form() -> None:
    from veil.rules.detectors.matching import value_span

    det = compile_detector(DetectorSpec(name="T", pattern=r"[:=](?P<value>\d{4})(?:[^0-9]|$)"))
    assert det.fast is not None and det.boundary and det.value_re is None
    assert spans(det.spec, "pin=1234;") == [(4, 8)]
    assert value_span(det, b":1234", 0) == (1, 5)


def test_compile_detector_records_whether_pattern_has_value_group() -> None:
    assert compile_detector(DetectorSpec(name="T", pattern=r"a(?P<value>b)")).value_group
    assert not compile_detector(DetectorSpec(name="T", pattern=r"ab")).value_group


def test_compile_detector_rejects_lookaround() -> None:
    with pytest.raises(PatternError):
        compile_detector(DetectorSpec(name="T", pattern=r"(?<=x)y"))


def test_rejected_candidate_retries_one_byte_after_match_start() -> None:
    """'123' fails the validator, so the search resumes at '2' and finds '234'."""
    spec = DetectorSpec(name="T", pattern=r"\d{3}", validator=lambda s: s != "123")
    assert spans(spec, "1234") == [(1, 4)]


def test_accepted_candidate_resumes_at_match_end() -> None:
    spec = DetectorSpec(name="T", pattern=r"\d{2}")
    assert spans(spec, "12345") == [(0, 2), (2, 4)]


def test_retry_moves_to_the_next_utf8_character_boundary() -> None:
    spec = DetectorSpec(name="T", pattern=r"[^ ]x", validator=lambda s: s.isascii())
    assert spans(spec, "éx ax") == [(3, 5)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José: jose@exemplo.com.br 电话 +44 20 7946 0958", [(6, 25)]),  # accent and CJK
        ("💳💳 a@b.io", [(3, 9)]),  # astral-plane emoji count as one str index each
        ("", []),  # empty
        ("\ud800 a@b.io", [(2, 8)]),  # lone surrogate survives encoding
    ],
)
def test_offsets_are_str_indices(text: str, expected: list[tuple[int, int]]) -> None:
    assert spans(BUILTIN_DETECTORS["EMAIL"], text) == expected


def test_non_ascii_offsets_for_phone_card_and_iban() -> None:
    text = "José: jose@exemplo.com.br 电话 +44 20 7946 0958 Karte 4111 1111 1111 1111 Überweisung DE89370400440532013000"
    found = {
        name: [text[s:e] for s, e in spans(BUILTIN_DETECTORS[name], text)]
        for name in ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN")
    }
    assert found == {
        "EMAIL": ["jose@exemplo.com.br"],
        "PHONE": ["+44 20 7946 0958"],
        "CREDIT_CARD": ["4111 1111 1111 1111"],
        "IBAN": ["DE89370400440532013000"],
    }
    assert spans(BUILTIN_DETECTORS["PHONE"], text) == [(29, 45)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dateOfBirth", ["date", "of", "birth"]),  # camelCase
        ("aws_secret_access_key", ["aws", "secret", "access", "key"]),  # snake_case
        ("X-Aws-Secret", ["x", "aws", "secret"]),  # kebab-case header
        ("HTTPServer SSN", ["http", "server", "ssn"]),  # acronym then word
        ("dob1990", ["dob", "1990"]),  # digits split off
        ("Geburtsdatum: né", ["geburtsdatum", "né"]),  # non-ASCII letters stay in the word
        ("", []),  # empty
    ],
)
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words


SPEC = DetectorSpec(name="T", pattern=r"\d+", context=("ssn", "date of birth"), context_window=20)


@pytest.mark.parametrize(
    ("text", "start", "field_name", "expected"),
    [
        ("SSN: 1", 5, "", True),  # case-insensitive
        ("the ssns 1", 9, "", False),  # whole words only
        ("Date-Of-Birth 1", 14, "", True),  # multi-word, any separators
        ("date birth 1", 11, "", False),  # sequence must be complete
        ("ssn" + " " * 17 + "1", 20, "", True),  # 'ssn' starts exactly 20 chars before
        ("ssn" + " " * 18 + "1", 21, "", False),  # window cuts 'ssn' to 'sn'
        ("1", 0, "userSsn", True),  # field name
        ("1", 0, "dateOfBirth", True),  # multi-word in camelCase field name
        ("1 ssn", 0, "", False),  # context after the candidate does not count
    ],
)
def test_has_context(text: str, start: int, field_name: str, expected: bool) -> None:
    assert has_context(SPEC, text, start, field_name) is expected


def test_context_required_without_context_words_never_matches() -> None:
    spec = DetectorSpec(name="T", pattern=r"\d+", context_required=True)
    assert spans(spec, "ssn 123", "ssn") == []


# Confidence (issue #14): a strict validator, a weaker one that needs context, and a veto by what precedes.
WEIGHED = DetectorSpec(
    name="T",
    pattern=r"\d{4}",
    validator=lambda s: s.startswith("1"),
    with_context=lambda s: s.startswith("2"),
    context=("pin",),
    context_window=10,
    not_after=r"(?i)\bv ?",
)


@pytest.mark.parametrize(
    ("text", "field_name", "expected"),
    [
        ("1234", "", ["1234"]),  # the strict validator alone
        ("2234", "", []),  # weaker validator, no context: near miss
        ("pin 2234", "", ["2234"]),  # weaker validator + context word before
        ("2234", "userPin", ["2234"]),  # weaker validator + field name
        ("2234 pin", "", []),  # context after the candidate does not count
        ("pin" + " " * 8 + "2234", "", []),  # context word outside the window
        ("pin 3234", "pin", []),  # both validators reject: context cannot help
        ("v1234", "", []),  # not_after: 'v' right before
        ("V 1234", "", []),  # not_after is the spec's own pattern (case-insensitive here)
        ("rv 1234", "", ["1234"]),  # '\bv' does not match inside 'rv'
        ("v 1234 1234", "", ["1234"]),  # the veto reads only what precedes each candidate
        ("pin v 2234", "pin", []),  # a veto wins over context
    ],
)
def test_with_context_and_not_after(text: str, field_name: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in spans(WEIGHED, text, field_name)] == expected


def test_with_context_is_ignored_when_the_strict_validator_accepts() -> None:
    spec = DetectorSpec(name="T", pattern=r"\d+", validator=lambda s: True, with_context=lambda s: False)
    assert spans(spec, "12") == [(0, 2)]


def test_context_required_still_applies_to_candidates_the_strict_validator_accepts() -> None:
    spec = DetectorSpec(name="T", pattern=r"\d+", context=("pin",), context_required=True, with_context=lambda s: True)
    assert spans(spec, "12") == []
    assert spans(spec, "pin 12") == [(4, 6)]
