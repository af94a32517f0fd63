"""DATE_OF_BIRTH: real dates in common formats, only next to a birth word."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from veil.rules.detectors import VALIDATORS

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "field_name", "expected"),
    [
        ("Date of birth: 1990-01-31", "", ["1990-01-31"]),  # ISO
        ("DOB 31/01/1990", "", ["31/01/1990"]),  # day first
        ("dob: 01/31/1990", "", ["01/31/1990"]),  # month first
        ("geboren (born) 31.01.1990", "", ["31.01.1990"]),  # dotted
        ("born 31 January 1990", "", ["31 January 1990"]),  # day month-name year
        ("born on January 31, 1990", "", ["January 31, 1990"]),  # US long form
        ("birthday: 3rd Sept 1985", "", ["3rd Sept 1985"]),  # ordinal, abbreviation
        ("1990-01-31T00:00:00Z", "dateOfBirth", ["1990-01-31T00:00:00Z"]), # ISO date-time, camelCase field
        ("2001-02-03", "birth_date", ["2001-02-03"]),  # snake_case field
    ],
)
def test_dob_found_with_context(detect: Detect, text: str, field_name: str, expected: list[str]) -> None:
    assert detect("DATE_OF_BIRTH", text, field_name) == expected


@pytest.mark.parametrize(
    ("text", "field_name"),
    [
        ("meeting on 1990-01-31", ""),  # date without context
        ("1990-01-31", "created_at"),  # unrelated field
        ("born 1990-02-30", ""),  # no 30 February
        ("dob 31/13/1990", ""),  # month 13 either way
        ("born 1850-01-01", ""),  # before 1900
        ("dob 31.01.90", ""),  # two-digit year
        ("born 32 January 1990", ""),  # day 32
        ("stubborn 1990-01-31", ""),  # 'born' inside a word
        ("dob 1990-01-311", ""),  # longer digit run
    ],
)
def test_dob_near_misses_are_not_found(detect: Detect, text: str, field_name: str) -> None:
    assert detect("DATE_OF_BIRTH", text, field_name) == []


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("2000-02-29", True),  # leap day
        ("1900-02-29", False),  # 1900 not a leap year
        ("2100-12-31", True),  # upper bound
        ("2101-01-01", False),  # past the upper bound
        ("May 5, 1960", True),  # short month name
        ("Foo 5, 1960", False),  # not a month
        ("", False),  # empty
    ],
)
def test_date_validator(candidate: str, valid: bool) -> None:
    assert VALIDATORS["date"](candidate) is valid
