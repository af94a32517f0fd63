"""The combined scanner agrees with the reference single-detector matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import NEUTRAL_WORDS, PII_VALUES
from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.matching import compile_detector, find_spans
from veil.rules.scanner import DetectorSet

CORPUS = [json.loads(line) for line in (Path(__file__).parent.parent / "corpus" / "detectors.jsonl").read_text().splitlines() if line.strip()]
COMPILED = {name: compile_detector(spec) for name, spec in BUILTIN_DETECTORS.items()}
# Values the built-ins weigh by context (issue #14): each means something else with and without it.
CONFIDENCE_VALUES = [
    "SSN", "ssn:", "078051123", "912-70-1234", "912701234", "912.34.5678", "ITIN", "nino", "AB123456", "ab 12 34 56 c",
    "iban", "de89370400440532013000", "phone", "4155552671", "card", "4000000000000002", "version", "rv:", "1.9.1.20",
    "Chrome/", "tracking", "1Z", "01 2345 6784", "v",
]


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c['type']}:{c['text'][:30]}")
def test_single_detector_scan_equals_reference(case: dict[str, object]) -> None:
    det = COMPILED[str(case["type"])]
    text = str(case["text"])
    field = str(case.get("field", ""))
    hits = DetectorSet((det,)).scan([text], [field])
    assert [(h.start, h.end) for h in hits] == find_spans(det, text, field)


@given(st.lists(st.sampled_from(NEUTRAL_WORDS + PII_VALUES), max_size=8).map(" ".join), st.sampled_from(sorted(COMPILED)))
def test_scanning_many_strings_at_once_equals_one_at_a_time(text: str, name: str) -> None:
    det = COMPILED[name]
    texts = [text, "filler " + text, text + " tail"]
    hits = DetectorSet((det,)).scan(texts)
    for index, t in enumerate(texts):
        assert [(h.start, h.end) for h in hits if h.which == index] == find_spans(det, t)


def test_priority_decides_between_detectors_at_one_position() -> None:
    dets = tuple(COMPILED[n] for n in BUILTIN_DETECTORS)
    hits = DetectorSet(dets).scan(["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX3Zh"])
    # BEARER_TOKEN and JWT both match after "Bearer "; JWT comes first in priority, so it names the value.
    assert [dets[h.detector].spec.name for h in hits] == ["JWT"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A secret's key name is read as context: a value standing in it is found, before the secret.
        ("API_KEY_4111111111111111=Xk9vQ2mZ7pL4", [("CREDIT_CARD", "4111111111111111"), ("SECRET", "Xk9vQ2mZ7pL4")]),
        ("DB_PASSWORD_AKIAIOSFODNN7EXAMPLE_PROD: Xk9vQ2mZ7pL4",
         [("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"), ("SECRET", "Xk9vQ2mZ7pL4")]),
        # The scan resumes at the value's end, so the host the match read after it is scanned too.
        ("postgres://app:Xk9vQ2mZ7pL4@10.0.0.5:5432/app", [("URL_CREDENTIALS", "app:Xk9vQ2mZ7pL4"), ("IP_ADDRESS", "10.0.0.5")]),
        # A finding in the key name that would run into the value is left to the value's.
        ("token_Xk9vQ2mZ7pL4=Ab3dE5gH7jK9", [("SECRET", "Ab3dE5gH7jK9")]),
    ],
)
def test_text_a_match_reads_around_its_value_is_scanned_too(text: str, expected: list[tuple[str, str]]) -> None:
    dets = tuple(COMPILED[n] for n in BUILTIN_DETECTORS)
    found = DetectorSet(dets)
    for remember in (True, False):
        hits = found.scan(["x", text], remember=remember)
        assert [(dets[h.detector].spec.name, text[h.start : h.end]) for h in hits if h.which == 1] == expected
    for name in {n for n, _ in expected}:  # each detector alone: the reference's spans
        alone = DetectorSet((COMPILED[name],)).scan([text])
        assert [(h.start, h.end) for h in alone] == find_spans(COMPILED[name], text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # EMAIL starts first, at 'b', but JWT (higher priority) starts inside its span and runs past it
        ("b@eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
         [("JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJl")]),
        # near miss: a higher-priority value that ends inside the finding takes nothing from it
        ("jane.doe@example.com", [("EMAIL", "jane.doe@example.com")]),
        ("call +1 212-555-0143 now", [("PHONE", "+1 212-555-0143")]),
    ],
)
def test_a_finding_gives_way_to_a_higher_priority_one_that_runs_past_it(text: str, expected: list[tuple[str, str]]) -> None:
    dets = tuple(COMPILED[n] for n in BUILTIN_DETECTORS)
    hits = DetectorSet(dets).scan([text])
    assert [(dets[h.detector].spec.name, text[h.start : h.end]) for h in hits] == expected


CONTEXT_READ = ["API_KEY_4111111111111111=Xk9vQ2mZ7pL4", "postgres://app:Xk9vQ2mZ7pL4@10.0.0.5/db", "SECRET_078-05-1120: Qw8eR7tY6uI5"]


@given(st.lists(st.sampled_from(NEUTRAL_WORDS + PII_VALUES + CONTEXT_READ + ["_", "=", ".", ":"]), max_size=8).map("".join),
       st.sampled_from(sorted(COMPILED)))
def test_glued_assignments_scan_like_the_reference(text: str, name: str) -> None:
    det = COMPILED[name]
    assert [(h.start, h.end) for h in DetectorSet((det,)).scan([text])] == find_spans(det, text)


def test_protected_tokens_are_consumed_silently() -> None:
    """Only a token the plan's keys open (tests/rules/test_lookalike_tokens.py has the look-alikes)."""
    from veil.rules.actions.keys import Keyring
    from veil.rules.actions.tokenize import Tokenize
    from veil.rules.protected import own_outputs

    dets = tuple(COMPILED[n] for n in BUILTIN_DETECTORS)
    tokenizer = Tokenize(Keyring({"k1": bytes(32)}, active="k1"))
    token = tokenizer.apply("+44 20 7946 0958", "PHONE")
    assert DetectorSet(dets, own_outputs([tokenizer], [])).scan([f"call {token}"]) == []


FAST = [name for name, det in COMPILED.items() if det.fast is not None]


@given(
    st.lists(st.sampled_from(NEUTRAL_WORDS + PII_VALUES + ["é", "連絡", "0", "-", ".", "+"]), max_size=6).map("".join),
    st.sampled_from(FAST),
    st.integers(0, 40),
)
def test_capture_free_value_span_equals_the_captured_group(text: str, name: str, pos: int) -> None:
    """The DFA-only shortcut in value_span gives what the pattern's value group gives."""
    from veil.rules.detectors.matching import value_span

    det = COMPILED[name]
    data = text.encode()
    pos = min(pos, len(data))
    while pos < len(data) and 0x80 <= data[pos] < 0xC0:
        pos += 1
    m = det.regex.match(data, pos)
    expected = None if m is None else (m.start("value"), m.end("value"))
    assert value_span(det, data, pos) == expected


# A detector with every confidence signal (issue #14): strict and weaker validators, context words, a veto.
WEIGHED = compile_detector(
    DetectorSpec(
        name="T",
        pattern=r"(?:^|[^0-9])(?P<value>[0-9]{4})",
        validator=lambda s: s.startswith("1"),
        with_context=lambda s: s.startswith("2"),
        context=("pin", "card pin"),
        context_window=12,
        not_after=r"(?i)\bv ?|[a-z]/",
    )
)
WEIGHED_WORDS = ["pin", "card", "v", "x/", "rv", " ", "1234", "2234", "3234", "é", "12345", ":"]


@given(
    st.lists(st.lists(st.sampled_from(WEIGHED_WORDS), max_size=8).map("".join), min_size=1, max_size=4),
    st.sampled_from(["", "pin", "cardPin", "card", "name"]),
)
def test_confidence_signals_scan_equals_reference(texts: list[str], field: str) -> None:
    """with_context, context words (in the text and the field name) and not_after: scanner == reference."""
    hits = DetectorSet((WEIGHED,)).scan(texts, [field] * len(texts))
    for index, t in enumerate(texts):
        assert [(h.start, h.end) for h in hits if h.which == index] == find_spans(WEIGHED, t, field)


@pytest.mark.parametrize("name", [n for n, s in BUILTIN_DETECTORS.items() if s.with_context or s.not_after])
@given(text=st.lists(st.sampled_from(NEUTRAL_WORDS + PII_VALUES + CONFIDENCE_VALUES), max_size=6).map(" ".join),
       field=st.sampled_from(["", "ssn", "nino", "iban", "phone", "cardNumber", "version", "tracking"]))
def test_builtin_confidence_detectors_scan_equals_reference(name: str, text: str, field: str) -> None:
    det = COMPILED[name]
    hits = DetectorSet((det,)).scan([text], [field])
    assert [(h.start, h.end) for h in hits] == find_spans(det, text, field)
