"""The combined scanner agrees with the reference single-detector matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import NEUTRAL_WORDS, PII_VALUES
from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.matching import compile_detector, find_spans
from veil.rules.scanner import DetectorSet

CORPUS = [json.loads(line) for line in (Path(__file__).parent.parent / "corpus" / "detectors.jsonl").read_text().splitlines() if line.strip()]
COMPILED = {name: compile_detector(spec) for name, spec in BUILTIN_DETECTORS.items()}


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c['type']}:{c['text'][:30]}")
def test_single_detector_scan_equals_reference(case: dict[str, object]) -> None:
    det = COMPILED[str(case["type"])]
    text = str(case["text"])
    hits = DetectorSet((det,)).scan([text])
    assert [(h.start, h.end) for h in hits] == find_spans(det, text)


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
    assert [dets[h.detector].spec.name for h in hits] == ["BEARER_TOKEN"]


def test_protected_tokens_are_consumed_silently() -> None:
    from veil.rules.actions.tokenize import TOKEN_PATTERN

    dets = tuple(COMPILED[n] for n in BUILTIN_DETECTORS)
    token = "tok_PHONE_k1_" + "2345672345672345672345672345"
    assert DetectorSet(dets, (TOKEN_PATTERN,)).scan([f"call {token}"]) == []


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
    expected = None if m is None else (m.start("value"), m.end("value"), m.end())
    assert value_span(det, data, pos) == expected
