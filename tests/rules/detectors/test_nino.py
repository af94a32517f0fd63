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
        ("ab123456c", ["ab123456c"]),  # lower case, compact
        ("Jg103759a", ["Jg103759a"]),  # mixed case, compact
        ("AB 123456 C", ["AB 123456 C"]),  # digits unspaced, prefix and suffix apart
        ("NI number: ab 12 34 56 c", ["ab 12 34 56 c"]),  # lower case spaced, with context
        ("NINO: AB123456", ["AB123456"]),  # no suffix letter, with context
        ("national insurance AB 12 34 56", ["AB 12 34 56"]),  # spaced, no suffix, with context
        # glued to '_' or veil-shaped text (issue #15 re-review N4): upper case
        ("tok_A_k1_AB123456C", ["AB123456C"]),
        ("AB123456C_k1", ["AB123456C"]),
        ("hash_US_SSN_2567092a9c5fd570AB 12 34 56 C", ["AB 12 34 56 C"]),
    ],
)
def test_nino_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("UK_NINO", text) == expected


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("AB123456", "nino", ["AB123456"]),  # no suffix, the field name says NINO
        ("ab 12 34 56 c", "nationalInsuranceNumber", ["ab 12 34 56 c"]),
        ("AB123456", "reference", []),  # the field name says nothing
    ],
)
def test_nino_context_from_the_field_name(detect: Detect, text: str, field: str, expected: list[str]) -> None:
    assert detect("UK_NINO", text, field) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nino ab123456c", "nino [REDACTED:UK_NINO]"),
        ("NI: AB 12 34 56 C.", "NI: [REDACTED:UK_NINO]."),
        ("NINO: AB123456 on file", "NINO: [REDACTED:UK_NINO] on file"),
        ("ref AB123456 on file", "ref AB123456 on file"),
    ],
)
def test_default_plan_redacts_nino(expected: str, text: str) -> None:
    import veil

    assert veil.default_plan().redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "DA123456C",  # first letter D never used
        "AO123456C",  # second letter O never used
        "GB123456A",  # administrative prefix
        "ZZ123456A",  # temporary prefix
        "AB123456E",  # suffix beyond D
        "ab 12 34 56 c",  # lower case and spaced: prose, without context
        "qq123456c",  # Q prefix (HMRC's specimen), lower case
        "AB123456",  # no suffix letter, no context
        "at 123456 a",  # a word and a number in prose
        "NINO: QQ123456",  # no suffix, invalid prefix, even with context
        "TN123456",  # temporary prefix, no suffix
        "AB1234567C",  # seven digits
        "XAB123456C",  # glued to a letter
        "QQ123456C",  # Q prefix (specimen)
        "ord_ab123456c",  # lower case glued to '_': an id's tail
        "AB123456C9",  # a digit after
    ],
)
def test_nino_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("UK_NINO", text) == []
