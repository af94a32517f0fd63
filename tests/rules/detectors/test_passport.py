"""US_PASSPORT: nine-character numbers, only with a passport context."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "field_name", "expected"),
    [
        ("Passport number: 912803456", "", ["912803456"]),  # digits
        ("passport C03005988", "", ["C03005988"]),  # letter + 8 digits
        ("912803456", "passportNumber", ["912803456"]),  # context from camelCase field
        ("912803456", "passport_no", ["912803456"]),  # snake_case field
        ("PASSPORT NO. 505093722 issued", "", ["505093722"]),  # upper-case context
        ("travel document: A12345678", "", ["A12345678"]),  # multi-word context
    ],
)
def test_passport_found_with_context(detect: Detect, text: str, field_name: str, expected: list[str]) -> None:
    assert detect("US_PASSPORT", text, field_name) == expected


@pytest.mark.parametrize(
    ("text", "field_name"),
    [
        ("912803456", ""),  # no context
        ("order 912803456", "order_id"),  # unrelated context
        ("passport 000000000", ""),  # placeholder digits
        ("passport 1234567890", ""),  # ten digits
        ("passport 12345678", ""),  # eight digits
        ("passport AB1234567", ""),  # two letters
        ("passports are checked; " + "x" * 60 + " 912803456", ""),  # context outside the window
    ],
)
def test_passport_near_misses_are_not_found(detect: Detect, text: str, field_name: str) -> None:
    assert detect("US_PASSPORT", text, field_name) == []
