"""UK_NINO: allocation-rule prefixes, six digits, suffix A-D."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NI number: AB 12 34 56 C", ["AB 12 34 56 C"]),  # spaced
        ("nino=JG103759A", ["JG103759A"]),  # compact
        ("CE123456D.", ["CE123456D"]),  # sentence dot
        ("ZA 98 76 54D", ["ZA 98 76 54D"]),  # suffix glued to the last pair
        ('{"ni":"HN112233B"}', ["HN112233B"]),  # JSON
        ("WK445566A, TW778899C", ["WK445566A", "TW778899C"]),  # two
    ],
)
def test_nino_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("UK_NINO", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DA123456C",  # first letter D never used
        "AO123456C",  # second letter O never used
        "GB123456A",  # administrative prefix
        "ZZ123456A",  # temporary prefix
        "AB123456E",  # suffix beyond D
        "ab123456c",  # lower case
        "AB1234567C",  # seven digits
        "XAB123456C",  # glued to a letter
        "QQ123456C",  # Q prefix (specimen)
    ],
)
def test_nino_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("UK_NINO", text) == []
