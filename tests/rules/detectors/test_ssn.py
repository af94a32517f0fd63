"""US_SSN: formatted numbers anywhere, bare nine digits only after an SSN keyword."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN 123-45-6789", ["123-45-6789"]),  # dashed
        ("id 123 45 6789 on file", ["123 45 6789"]),  # spaced
        ("ssn: 123456789", ["123456789"]),  # bare after keyword, keyword not in span
        ("Social Security Number: 234567890", ["234567890"]),  # long keyword
        ('{"ssn": "345678901"}', ["345678901"]),  # keyword in the same JSON text
        ("SSN#078051121", ["078051121"]),  # '#' separator
        ("a 123-45-6789, b 234-56-7890", ["123-45-6789", "234-56-7890"]),  # two
    ],
)
def test_ssn_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("US_SSN", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "912-34-5678",  # area 9xx
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "078-05-1120",  # famous advertising number (stdnum blacklist)
        "id 123456789",  # bare nine digits without keyword
        "1123-45-6789",  # inside a longer run
        "123-45-67890",  # serial too long
        "123-456-789",  # wrong grouping
        "ssn: 1234567890",  # ten digits after keyword
    ],
)
def test_ssn_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("US_SSN", text) == []
