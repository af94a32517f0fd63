"""US_ITIN: area-9xx taxpayer numbers; IRS ranges on their own, anything else 9xx only with context."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import veil
from veil.rules.detectors.itin import is_us_itin

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("ITIN 912-70-1234", "", ["912-70-1234"]),  # group 70: first of 70-88
        ("912-50-1234", "", ["912-50-1234"]),  # group 50, no context needed
        ("912.65.1234", "", ["912.65.1234"]),  # dotted, group 65
        ("999 99 9999", "", ["999 99 9999"]),  # spaced, group 99
        ("900-92-0001", "", ["900-92-0001"]),  # group 92
        ("tax id: 900701234", "", ["900701234"]),  # bare digits after a taxpayer word
        ("900701234", "itin", ["900701234"]),  # bare digits, field name
        ("SSN 912-34-5678", "", ["912-34-5678"]),  # 9xx right after SSN: group outside the ranges
        ("social security number: 912345678", "", ["912345678"]),  # bare 9xx after SSN words
        ("912-34-5678", "taxpayerId", ["912-34-5678"]),  # camelCase field name
        ("x_912-70-1234", "", ["912-70-1234"]),  # glued to a word (issue #15)
        ("912-70-1234_k1", "", ["912-70-1234"]),  # a word glued after it
        ("cafe912-70-1234x", "", ["912-70-1234"]),  # hex letters before: written numbers are in no hex id
    ],
)
def test_itin_found_with_exact_span(detect: Detect, text: str, field: str, expected: list[str]) -> None:
    assert detect("US_ITIN", text, field) == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("912-34-5678", ""),  # group 34: outside the IRS ranges, no context
        ("912-93-5678", ""),  # group 93: the one gap in 90-99
        ("912-66-5678", ""),  # group 66: gap between 65 and 70
        ("912-89-5678", ""),  # group 89
        ("900701234", ""),  # bare digits, no context
        ("ITIN 912-00-1234", ""),  # group 00, even with context
        ("ITIN 912-70-0000", ""),  # serial 0000, even with context
        ("123-70-1234", ""),  # not area 9xx
        ("ITIN 812701234", ""),  # not area 9xx, with context
        ("1912-70-1234", ""),  # inside a longer run
        ("912-70-1234-5", ""),  # a longer dashed number
        ("v1.912.70.1234", ""),  # inside a longer dotted number
        ("x1912-70-1234", ""),  # glued to a word, inside a longer run
    ],
)
def test_itin_near_misses_are_not_found(detect: Detect, text: str, field: str) -> None:
    assert detect("US_ITIN", text, field) == []


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [("912-70-1234", True), ("912701234", True), ("912-69-1234", False), ("812-70-1234", False), ("912-70-0000", False)],
)
def test_named_validator_is_the_irs_ranges(candidate: str, valid: bool) -> None:
    assert is_us_itin(candidate) is valid


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"note": "ITIN 912-70-1234"}', b'{"note": "ITIN [REDACTED:US_ITIN]"}'),
        (b'{"note": "SSN: 912345678"}', b'{"note": "SSN: [REDACTED:US_ITIN]"}'),
        (b'{"note": "ref 912-34-5678"}', b'{"note": "ref 912-34-5678"}'),  # no context, outside the ranges
    ],
)
def test_default_plan_redacts_itin_in_json(body: bytes, expected: bytes) -> None:
    assert veil.default_plan().redact_body(body, "application/json").output == expected
