"""A detector's ``lead`` starts every match of its pattern: the scanner finds candidates by it.

If a lead missed the start of some match, the production scanner (which searches by
leads) would miss a value the reference matcher (which searches by full patterns) finds.
"""

from __future__ import annotations

import pytest

from tests.rules.detectors.test_secret_formats import example_of
from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.matching import compile_detector
from veil.rules.detectors.secret_formats import FORMATS
from veil.rules.regex import compile_re2, without_captures
from veil.rules.scanner import DetectorSet

LED = {name: spec for name, spec in BUILTIN_DETECTORS.items() if spec.lead}


def test_api_key_has_a_lead() -> None:
    assert "API_KEY" in LED


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])
def test_the_lead_matches_where_each_format_starts(fmt: object) -> None:
    spec = LED["API_KEY"]
    text = f"key: {example_of(fmt)} ok"  # type: ignore[arg-type]
    data = text.encode()
    pattern = compile_re2(without_captures(spec.pattern))
    lead = compile_re2(without_captures(spec.lead))
    starts = [m.start() for m in pattern.finditer(data)]
    assert starts, "the example must match the pattern"
    for start in starts:
        assert lead.match(data, start) is not None


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])
def test_the_scanner_finds_each_format_through_its_lead(fmt: object) -> None:
    token = example_of(fmt)  # type: ignore[arg-type]
    detectors = DetectorSet(tuple(compile_detector(s) for s in BUILTIN_DETECTORS.values()))
    text = f"deploy with {token} today"
    at = text.index(token)
    hits = detectors.scan([text], remember=False)
    # Found whole as a key, or its value part as an assignment's (``AccountKey=...`` is a SECRET there).
    assert [h for h in hits if h.start <= at + len(token) - 8 and h.end >= at + len(token)]
