"""US_SSN: formatted numbers anywhere, bare nine digits only with an SSN word nearby or as the field name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import veil
from veil.rules.detectors.ssn import is_us_ssn

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("SSN 123-45-6789", "", ["123-45-6789"]),  # dashed
        ("id 123 45 6789 on file", "", ["123 45 6789"]),  # spaced
        ("078.05.1123", "", ["078.05.1123"]),  # dotted
        ("078 05 1123", "", ["078 05 1123"]),  # spaced, no keyword
        ("ssn: 123456789", "", ["123456789"]),  # bare after keyword, keyword not in span
        ("Social Security Number: 234567890", "", ["234567890"]),  # long keyword
        ('{"ssn": "345678901"}', "", ["345678901"]),  # keyword in the same JSON text
        ("SSN#078051121", "", ["078051121"]),  # '#' separator
        ("SSN-078051121", "", ["078051121"]),  # '-' separator
        ("the applicant's SSN is 078051121", "", ["078051121"]),  # a few words between
        ("078051123", "ssn", ["078051123"]),  # bare, the field name says SSN
        ("078051123", "socialSecurityNumber", ["078051123"]),  # camelCase field name
        ("a 123-45-6789, b 234-56-7890", "", ["123-45-6789", "234-56-7890"]),  # two
        ("x123-45-6789", "", ["123-45-6789"]),  # glued to a word: ids glue numbers to names (issue #15)
        ("scan_x_536-22-1847.pdf", "", ["536-22-1847"]),  # a file name
        ("ssn_078051123", "", ["078051123"]),  # bare, the glued word is the context
        # a word glued after a written number, or a hex letter before it (issue #15): no id holds separators
        ("536-22-1847_k1", "", ["536-22-1847"]),
        ("x_536-22-1847abc", "", ["536-22-1847"]),
        ("536 22 1847x", "", ["536 22 1847"]),
        ("536.22.1847_a", "", ["536.22.1847"]),
        ("deadbeef536-22-1847", "", ["536-22-1847"]),
        ("hash_US_SSN_0123abcd536-22-1847cafe", "", ["536-22-1847"]),
        ("536-22-1847_078-05-1123", "", ["536-22-1847", "078-05-1123"]),  # the edge's '_' leads the next
        ("No.536-22-1847", "", ["536-22-1847"]),  # after '.' that no digit precedes
        ("tok_A_k1_-536-22-1847", "", ["536-22-1847"]),
    ],
)
def test_ssn_found_with_exact_span(detect: Detect, text: str, field: str, expected: list[str]) -> None:
    assert detect("US_SSN", text, field) == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("000-12-3456", ""),  # area 000
        ("666-12-3456", ""),  # area 666
        ("SSN 666-12-3456", ""),  # area 666, even with context
        ("ssn 666123456", "ssn"),  # bare area 666 with context
        ("912-34-5678", ""),  # area 9xx: an ITIN, never an SSN
        ("SSN 912345678", ""),  # area 9xx after SSN: reported as US_ITIN, not here
        ("123-00-4567", ""),  # group 00
        ("ssn 123004567", ""),  # group 00, bare, context
        ("123-45-0000", ""),  # serial 0000
        ("078-05-1120", ""),  # famous advertising number (stdnum blacklist)
        ("id 123456789", ""),  # bare nine digits without keyword
        ("123456789", "order_id"),  # bare digits, field says nothing
        ("SSN" + " " * 40 + "123456789", ""),  # keyword outside the context window
        ("1123-45-6789", ""),  # inside a longer run
        ("123-45-67890", ""),  # serial too long
        ("123-45-6789-12", ""),  # a longer dashed number
        ("1.123.45.6789", ""),  # inside a longer dotted number
        ("123.45.6789.1", ""),  # a longer dotted number
        ("123-45.6789", ""),  # mixed separators
        ("123-456-789", ""),  # wrong grouping
        ("ssn: 1234567890", ""),  # ten digits after keyword
        ("x1123-45-6789", ""),  # glued to a word, inside a longer run
        ("x_536-22-18470", ""),  # glued to a word, serial too long
        ("ord_536221847", ""),  # bare digits glued to a word that says nothing
        ("ord_828367436b1b", "ssn"),  # nine digits inside a hex id, even in an SSN field
        ("cus_ced355357945", "ssn"),  # nine digits ending a hex id: after a hex letter
        ("ssn 536221847abc", ""),  # bare digits with a word glued after: a hex id's head
        ("536-22-18471x", ""),  # a written number with a longer serial, a word after
        ("deadbeef1536-22-1847", ""),  # inside a longer first group, hex before
        ("3.536-22-1847", ""),  # a digit and '.' before: one longer dotted number
        ("12-536-22-1847", ""),  # a digit and '-' before: one longer dashed number
    ],
)
def test_ssn_near_misses_are_not_found(detect: Detect, text: str, field: str) -> None:
    assert detect("US_SSN", text, field) == []


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [("078-05-1123", True), ("078.05.1123", True), ("078051123", True), ("666-05-1123", False), ("", False), ("078-05-112", False)],
)
def test_named_validator_takes_any_separator_and_bare_digits(candidate: str, valid: bool) -> None:
    """``validator: us_ssn`` in a custom detector keeps its meaning: a valid SSN, formatted or bare."""
    assert is_us_ssn(candidate) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN on file: 078.05.1123", "SSN on file: [REDACTED:US_SSN]"),
        ("ssn 078051123 ok", "ssn [REDACTED:US_SSN] ok"),
        ("order 078051123 shipped", "order 078051123 shipped"),
        ("SSN 912-34-5678", "SSN [REDACTED:US_ITIN]"),
    ],
)
def test_default_plan_redacts_ssn_in_text(text: str, expected: str) -> None:
    assert veil.default_plan().redact_text(text).text == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"ssn": "078051123"}', b'{"ssn": "[REDACTED:US_SSN]"}'),  # field-name class
        (b'{"note": "SSN 078 05 1123"}', b'{"note": "SSN [REDACTED:US_SSN]"}'),
        (b'{"note": "ref 078.05.1123"}', b'{"note": "ref [REDACTED:US_SSN]"}'),
        (b'{"id": "078051123"}', b'{"id": "078051123"}'),  # bare digits, nothing says SSN
    ],
)
def test_default_plan_redacts_ssn_in_json(body: bytes, expected: bytes) -> None:
    assert veil.default_plan().redact_body(body, "application/json").output == expected
