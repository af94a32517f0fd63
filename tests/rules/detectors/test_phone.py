"""PHONE: written phone numbers confirmed by phonenumbers; ids, dates and prices are not phones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +44 20 7946 0958 today", ["+44 20 7946 0958"]),  # UK international
        ("+44 (0)20 7946 0958", ["+44 (0)20 7946 0958"]),  # UK with (0)
        ("+1 (212) 555-0143", ["+1 (212) 555-0143"]),  # US international with parentheses
        ("+12125550143", ["+12125550143"]),  # E.164, no separators
        ("+33 1 42 68 53 00", ["+33 1 42 68 53 00"]),  # French pairs
        ("+91-98765-43210", ["+91-98765-43210"]),  # Indian mobile, dashes
        ("tel: (212) 555-0143", ["(212) 555-0143"]),  # NANP parentheses
        ("call 212.555.0143.", ["212.555.0143"]),  # NANP dots, sentence dot excluded
        ("1-800-555-0199", ["1-800-555-0199"]),  # NANP with 1 prefix
        ("020 7946 0958", ["020 7946 0958"]),  # UK national trunk 0
        ("Festnetz 030 12345678", ["030 12345678"]),  # German national
        ("01.42.68.53.00", ["01.42.68.53.00"]),  # French dotted
        ("98765 43210", ["98765 43210"]),  # Indian mobile national
        ("Tel +1-202-555-0173, fax +1 202 555 0174", ["+1-202-555-0173", "+1 202 555 0174"]),  # two
        ("+1 212 555 0143 ext 12", ["+1 212 555 0143"]),  # extension word not included
    ],
)
def test_phone_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("PHONE", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Price: $1,234.56 or 1 234 567,89 EUR",  # prices
        "Order #123-456-7890",  # NANP shape, area code 123 invalid
        "order 2024-000123",  # order number
        "at 2024-01-31T12:30:45Z",  # ISO timestamp
        "version 1.2.3 and 10.0.19041.1",  # version strings
        "id 123456789 and 98765432 and 1234567",  # bare 6-10 digit ids
        "ts 1700000000123",  # epoch millis
        "01-31-2024",  # US date with dashes (valid Italian digits once)
        "03 12 2024",  # spaced date
        "2024 01 31 12 30",  # spaced date-time
        "0123-4567",  # too short for a national number
        "555-123-4567-8901",  # longer dashed id swallowed whole
        "212-555-0143/12",  # followed by /digits
        "12:30:45",  # time
        "+1 555 0100",  # too short international
        "5+3 = 8",  # arithmetic
        "ISBN 978-3-16-148410-0",  # ISBN
    ],
)
def test_phone_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("PHONE", text) == []


@pytest.mark.parametrize(
    "text",
    [
        "ups 1Z 999 AA1 01 2345 6784",  # UPS number printed in groups: its tail is phone-shaped
        "1Z 999 AA1 01 2345 6784",  # the same without the carrier's name
        "1Z212-555-0143",  # digits the 1Z run goes on into
        "0430 1234 5678 9012",  # four groups of four: tracking or card shape
        "9400 1000 0000 0000 0000 00",  # USPS, 22 digits
        "tracking: 020 7946 0958",  # after a tracking word
        "FedEx 7489 1234 5678",  # FedEx 12 digits after the carrier
        "DHL Express 12 3456 7890",  # DHL 10 digits
        "Sendungsnummer 0034 0434 1610 9404 2557",  # DHL Germany
    ],
)
def test_tracking_numbers_are_not_phones(detect: Detect, text: str) -> None:
    assert detect("PHONE", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UPS driver phone 020 7946 0958", ["020 7946 0958"]),  # another word between carrier and number
        ("call 020 7946 0958 re parcel", ["020 7946 0958"]),  # a tracking word after the number
        ("+44 1234 5678 9012", []),  # '+': parsed as is (invalid here), never called tracking-shaped
        ("1Z+44 20 7946 0958", ["+44 20 7946 0958"]),  # '+' cannot continue a UPS number's run
        ("1Z (212) 555-0143", ["(212) 555-0143"]),  # nor '('
        ("1Z x +44 20 7946 0958", ["+44 20 7946 0958"]),
        ("tel:+442079460958", ["+442079460958"]),  # glued after a colon
        ("Phone:0207 946 0958", ["0207 946 0958"]),
        ("the parcel +44 20 7946 0958", ["+44 20 7946 0958"]),  # a tracking word alone is no label
        ("tracking (212) 555-0143", ["(212) 555-0143"]),
        ("tracking no. 020 7946 0958", []),  # a label is
        ("parcel number: 020 7946 0958", []),
    ],
)
def test_phones_near_tracking_words(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("PHONE", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("212-555-0143_home", ["212-555-0143"]),  # a word glued after (issue #15)
        ("(212) 555-0143abc", ["(212) 555-0143"]),
        ("+44 20 7946 0958_k1", ["+44 20 7946 0958"]),
        ("tok_A_k1_x+1 415 555 2671cafe", ["+1 415 555 2671"]),  # glued on both sides
        ("+1 (415) 555-2671", ["+1 (415) 555-2671"]),  # an area code in brackets, then digits
        ("212-555-01430_x", []),  # a longer last group: not this number
        ("212-555-0143.5x", []),  # a dotted tail makes a longer id
        ("/users/+44 20 7946 0958/orders", ["+44 20 7946 0958"]),  # a path's '/' before it
        ("see /x/212-555-0143", ["212-555-0143"]),
        ("ref 2/+44 20 7946 0958", ["+44 20 7946 0958"]),  # '/' is an edge whatever precedes it
        ("hash_PHONE_42b36249ec4cc355/+44 20 7946 0958", ["+44 20 7946 0958"]),
        ("tok_A_k1_.+44 20 7946 0958", ["+44 20 7946 0958"]),  # '.' or '-' with no digit before
        ("x-212-555-0143", ["212-555-0143"]),
        ("v1.2.212-555-0143", []),  # a digit and '.' before: one longer dotted number
        ("2024-020 7946 0958", []),  # a digit and '-' before
        ("6040bc3b-0734-4324-8267-657a3ba6d3f2", []),  # a UUID's groups after a hex group and '-'
    ],
)
def test_phone_with_a_word_glued_after_it(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("PHONE", text) == expected


def test_the_tail_of_a_longer_grouped_number_is_not_a_phone(detect: Detect) -> None:
    assert detect("PHONE", "usps 9205 4743 0563 6541 0315 04 ok") == []
    assert detect("PHONE", "call 0207 946 0958 or +44 20 7946 0958") == ["0207 946 0958", "+44 20 7946 0958"]
    assert detect("PHONE", "ORD-1234 +44 20 7946 0958") == ["+44 20 7946 0958"]  # one group is an id


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Sign-ups: +44 20 7946 0958", "+44 20 7946 0958"),  # 'ups' is no carrier
        ("PO Box 9012 (212) 555-0143", "(212) 555-0143"),
    ],
)
def test_words_and_groups_that_only_look_like_parcels_do_not_hide_a_phone(detect: Detect, text: str, phone: str) -> None:
    assert detect("PHONE", text) == [phone]
