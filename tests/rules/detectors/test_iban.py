"""IBAN: check digits and per-country length/format via stdnum."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN: DE89 3704 0044 0532 0130 00", ["DE89 3704 0044 0532 0130 00"]),  # German, printed
        ("pay to GB82WEST12345698765432 today", ["GB82WEST12345698765432"]),  # UK, compact
        ("GB82 WEST 1234 5698 7654 32.", ["GB82 WEST 1234 5698 7654 32"]),  # UK printed, dot after
        ("FR1420041010050500013M02606", ["FR1420041010050500013M02606"]),  # letters in BBAN
        ("NL91ABNA0417164300", ["NL91ABNA0417164300"]),  # short IBAN (18)
        ("iban=ES9121000418450200051332;", ["ES9121000418450200051332"]),  # Spain in key=value
        ("CH9300762011623852957", ["CH9300762011623852957"]),  # Switzerland
        ("DE89 3704 0044 0532 0130 00 EUR", ["DE89 3704 0044 0532 0130 00"]),  # currency after a short last group
    ],
)
def test_iban_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("IBAN", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DE89370400440532013001",  # wrong check (mod 97 fails)
        "DE88 3704 0044 0532 0130 00",  # wrong check digits
        "GB82WEST1234569876543",  # one char short for GB
        "DE8937040044053201300000",  # too long for DE
        "XX89370400440532013000",  # unknown country
        "de89370400440532013000",  # lower case
        "ADE89370400440532013000",  # glued to a letter
    ],
)
def test_iban_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("IBAN", text) == []
