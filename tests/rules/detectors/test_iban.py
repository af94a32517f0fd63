"""IBAN: check digits and per-country length/format via stdnum; national checks and case only weigh with context."""

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
        ("DE89-3704-0044-0532-0130-00", ["DE89-3704-0044-0532-0130-00"]),  # dashed groups
        ("to BE41539007547035.", ["BE41539007547035"]),  # Belgian national check fails, mod 97 holds
        ("ES29 2100 0418 4602 0005 1332", ["ES29 2100 0418 4602 0005 1332"]),  # Spanish national check fails
        ("iban: de89370400440532013000", ["de89370400440532013000"]),  # lower case with context
        ("to BE41 5390 0754 7035 now", ["BE41 5390 0754 7035"]),  # a short lower-case word after a printed one
        ("IBAN GB15W3ST12345698765432", ["GB15W3ST12345698765432"]),  # structure off, length and mod 97 hold
        # Upper case glued to '_' or lower case (issue #15: they crossed): no upper case or digit around it.
        ("tok_A_k1_DE89370400440532013000", ["DE89370400440532013000"]),
        ("DE89370400440532013000tok_A_k1_b", ["DE89370400440532013000"]),
        ("DE89370400440532013000_k1", ["DE89370400440532013000"]),
        ("hash_IBAN_0123456789abcdefGB82WEST12345698765432", ["GB82WEST12345698765432"]),
        ("tok_A_k1_DE89 3704 0044 0532 0130 00_k1", ["DE89 3704 0044 0532 0130 00"]),  # printed
        ("x_DE89-3704-0044-0532-0130-00xyz", ["DE89-3704-0044-0532-0130-00"]),  # dashed
        # after veil-shaped text ending in a digit (issue #15 re-review N3), compact or spaced
        ("tok_A_k1_9DE89370400440532013000", ["DE89370400440532013000"]),
        ("hash_IBAN_011ca09747a48651DE89370400440532013000", ["DE89370400440532013000"]),
        ("tok_A_k1_af4GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"]),
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
        "de89370400440532013000",  # lower case, no context
        "GB15W3ST12345698765432",  # digit where GB's bank code has letters (mod 97 holds), no context
        "iban: de89370400440532013001",  # lower case with context, mod 97 fails
        "IBAN GB82WEST1234569876543",  # with context, one char short for GB
        "DE89-3704-0044 0532-0130-00",  # mixed separators
        "iban de89 3704 0044 0532 0130 00",  # lower case grouped: never, even with context
        "ADE89370400440532013000",  # glued to an upper-case letter: a longer run
        "DE89370400440532013000X",  # and after it
        "ref9DE89370400440532013000",  # a digit before
        "ref_DE89 3704 0044 0532 0130 00X",  # a printed one whose last group runs on
        "iban: xde89370400440532013000",  # lower case glued to a letter, even with context
        "ord_ab12cdef0123456789abcdef01",  # a hex id shaped like a lower-case IBAN (no context)
        # lower case glued to '_', even with context: ids glue lower-case hex to '_' (ord_bc46baffd6a0),
        # and each such string went to the full scan while '_' could lead (+70% on PII-free bodies)
        "iban_de89370400440532013000_k1",
    ],
)
def test_iban_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("IBAN", text) == []


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("de89370400440532013000", "iban", ["de89370400440532013000"]),  # lower case, the field name says IBAN
        ("de89370400440532013000", "bankAccount", ["de89370400440532013000"]),
        ("de89370400440532013000", "commit", []),  # the field name says nothing
    ],
)
def test_iban_context_from_the_field_name(detect: Detect, text: str, field: str, expected: list[str]) -> None:
    assert detect("IBAN", text, field) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"memo": "pay DE89-3704-0044-0532-0130-00"}', b'{"memo": "pay [REDACTED:IBAN]"}'),
        (b'{"memo": "to BE41 5390 0754 7035 now"}', b'{"memo": "to [REDACTED:IBAN] now"}'),
        (b'{"memo": "iban de89370400440532013000"}', b'{"memo": "iban [REDACTED:IBAN]"}'),
        (b'{"memo": "ref de89370400440532013000"}', b'{"memo": "ref de89370400440532013000"}'),
    ],
)
def test_default_plan_redacts_iban_in_json(body: bytes, expected: bytes) -> None:
    import veil

    assert veil.default_plan().redact_body(body, "application/json").output == expected
