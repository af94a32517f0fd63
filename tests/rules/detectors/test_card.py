"""CREDIT_CARD: brand prefix + length + Luhn, printed groupings, no partial runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from veil.rules.detectors import VALIDATORS

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visa 4111111111111111", ["4111111111111111"]),  # Visa bare
        ("card 4111 1111 1111 1111 exp 12/29", ["4111 1111 1111 1111"]),  # spaces, expiry after
        ("4012-8888-8888-1881", ["4012-8888-8888-1881"]),  # dashes
        ("4111 1111 1111 1111 123 12/29", ["4111 1111 1111 1111"]),  # CVV group after the number
        ("4222222222222", ["4222222222222"]),  # 13-digit Visa
        ("4111111111111111110", ["4111111111111111110"]),  # 19-digit Visa
        ("mc 5555555555554444", ["5555555555554444"]),  # Mastercard 5x
        ("mc2 2223003122003222", ["2223003122003222"]),  # Mastercard 2-series
        ("amex: 3782-822463-10005", ["3782-822463-10005"]),  # Amex 4-6-5
        ("371449635398431", ["371449635398431"]),  # Amex bare
        ("6011 1111 1111 1117", ["6011 1111 1111 1117"]),  # Discover
        ("jcb 3530111333300000", ["3530111333300000"]),  # JCB
        ("diners 3056 930902 5904", ["3056 930902 5904"]),  # Diners 4-6-4
        ("up 6200000000000005", ["6200000000000005"]),  # UnionPay
        ("maestro 6759649826438453", ["6759649826438453"]),  # Maestro
        ('{"pan":"5105105105105100"}', ["5105105105105100"]),  # JSON string
        ("a,4111111111111111,b", ["4111111111111111"]),  # CSV field
        ("mir 2200123456789019", ["2200123456789019"]),  # Mir 2200-2204
        ("2200 1234 5678 9019", ["2200 1234 5678 9019"]),  # Mir, printed
        ("rupay 8100123456789017", ["8100123456789017"]),  # RuPay 81
        ("5089123456789018", ["5089123456789018"]),  # RuPay 508
        ("6070123456789017", ["6070123456789017"]),  # RuPay 60
        ("diners 36123456789013", ["36123456789013"]),  # Diners, 14 digits
        ("2100 1234 5678 9010", ["2100 1234 5678 9010"]),  # IIN no brand claims, printed as a card
        ("card number 2100123456789010", ["2100123456789010"]),  # unknown IIN, bare, with context
        ("4242424242424242", ["4242424242424242"]),  # a test card is still a card
        ("No.4111 1111 1111 1111", ["4111 1111 1111 1111"]),  # after '.' that no digit precedes
        ("tok_A_k1_-5500-0000-0000-0004", ["5500-0000-0000-0004"]),
        ("card-4111 1111 1111 1111", ["4111 1111 1111 1111"]),  # 'card' is no hex group
    ],
)
def test_card_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("CREDIT_CARD", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn fails
        "4111 1111 1111 1112",  # Luhn fails, grouped
        "6666666666666",  # passes Luhn and prefix but one repeated digit
        "1234567890123452",  # no brand starts with 1
        "7111111111111111",  # no brand starts with 7
        "4111111111111111111111111",  # 16-digit card inside a 25-digit run
        "9994111111111111111",  # card digits inside a longer run
        "0.4111111111111111",  # decimal fraction
        "4111-1111 1111-1111",  # mixed separators
        "411111111111111",  # 15-digit Visa is not a Visa length
        "id-4111111111111111",  # bare digits glued to an identifier with '-': a dashed id
        "7.4111 1111 1111 1111",  # a decimal, then groups
        "550e8400-4111-1111-1111-1111",  # grouped after a UUID-like hex group and '-'
        "2100123456789010",  # unknown IIN, bare, no context
        "2100 1234 5678 9011",  # unknown IIN printed, Luhn fails
        "card 2100123456789011",  # unknown IIN, context, Luhn fails
        "card 2222222222222222",  # all-same digits, even with context
        "7012345678901232",  # 7: no card starts with it (Luhn valid)
        "9400 1000 0000 0000 0000 00",  # USPS tracking: 9 is left out
    ],
)
def test_card_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("CREDIT_CARD", text) == []


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("79927398713", True),  # classic Luhn example
        ("7992 7398 713", True),  # separators ignored
        ("79927398710", False),  # wrong check digit
        ("abc", False),  # not digits
        ("", False),  # empty
        ("٧٩٩٢٧٣٩٨٧١٣", False),  # non-ASCII digits
    ],
)
def test_luhn_validator(candidate: str, valid: bool) -> None:
    assert VALIDATORS["luhn"](candidate) is valid


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("8800123456789010", "cardNumber", ["8800123456789010"]),  # unknown IIN, the field name says card
        ("8800123456789010", "pan", ["8800123456789010"]),
        ("8800123456789010", "orderId", []),  # the field name says nothing
    ],
)
def test_card_context_from_the_field_name(detect: Detect, text: str, field: str, expected: list[str]) -> None:
    assert detect("CREDIT_CARD", text, field) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"note": "paid with 2200 1234 5678 9019"}', b'{"note": "paid with [REDACTED:CREDIT_CARD]"}'),
        (b'{"note": "card 2100123456789010"}', b'{"note": "card [REDACTED:CREDIT_CARD]"}'),
        (b'{"note": "order 2100123456789010"}', b'{"note": "order 2100123456789010"}'),
        # glued to a name: the engine's combined scan finds what the reference matcher finds
        (b'{"note":"pan_4111111111111111"}', b'{"note":"pan_[REDACTED:CREDIT_CARD]"}'),
        (b'{"file":"receipt_4111111111111111.pdf"}', b'{"file":"receipt_[REDACTED:CREDIT_CARD].pdf"}'),
        (b'{"ref":"x_41111111111111112"}', b'{"ref":"x_41111111111111112"}'),
    ],
)
def test_default_plan_redacts_cards_in_json(body: bytes, expected: bytes) -> None:
    import veil

    assert veil.default_plan().redact_body(body, "application/json").output == expected


@pytest.mark.parametrize(
    "text",
    [
        "track 9400 1526 6643 1222 1013 78 now",  # USPS: six groups, a Luhn-valid tail of four
        "ref 9205-4743-0563-6541-0315-04",
    ],
)
def test_the_tail_of_a_longer_grouped_number_is_not_a_card(detect: Detect, text: str) -> None:
    assert detect("CREDIT_CARD", text) == []


def test_groups_of_digits_before_a_card_do_not_hide_it(detect: Detect) -> None:
    assert detect("CREDIT_CARD", "ORD-1234 4111 1111 1111 1111") == ["4111 1111 1111 1111"]
    two = "4111 1111 1111 1111 5555 5555 5555 4444"
    assert detect("CREDIT_CARD", two) == ["4111 1111 1111 1111", "5555 5555 5555 4444"]


@pytest.mark.parametrize(
    "text",
    ["9999 4111 1111 1111 1111", "ext 9123 4111 1111 1111 1111", "PO Box 9012 4111 1111 1111 1111"],
)
def test_a_9xxx_group_that_no_tracking_number_starts_with_does_not_hide_a_card(detect: Detect, text: str) -> None:
    assert detect("CREDIT_CARD", text) == ["4111 1111 1111 1111"]


# -- numbers glued to names (issue #15 review) --------------------------------------------
# Ids, log keys and file names glue a number to a word: a card there is as sensitive, so a
# letter or '_' before one is a boundary. A digit, '.', '-' or '+' still is not, and the
# whole digit run is the candidate: never a card cut out of a longer number.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x_4111111111111111", ["4111111111111111"]),
        ("hash_FIELD_4111111111111111", ["4111111111111111"]),  # hash-shaped name, glued
        ("pan4111111111111111", ["4111111111111111"]),  # glued to letters
        ("pan_4111 1111 1111 1111", ["4111 1111 1111 1111"]),  # printed groups, glued
        ("receipt_4111111111111111.pdf", ["4111111111111111"]),  # a file name
        ("log card=x card_5555555555554444 ok", ["5555555555554444"]),
        ("amex_3782-822463-10005", ["3782-822463-10005"]),
        ("card_2100123456789010", ["2100123456789010"]),  # unknown IIN: the glued word is context
        ("númeroé4111111111111111", ["4111111111111111"]),  # a non-ASCII letter before
    ],
)
def test_card_glued_after_a_letter_or_underscore_is_found(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("CREDIT_CARD", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "x_4111111111111112",  # Luhn fails after '_'
        "x_41111111111111112",  # a valid 16-digit card is the head of this 17-digit run
        "x_4111111111111111111111111",  # 25 digits after '_'
        "pan_7012345678901232",  # no card starts with 7, Luhn valid
        "order_2100123456789010",  # unknown IIN, Luhn valid, no card word
        "ts1718000000123",  # a timestamp in ms glued to letters (13 digits, starts with 1)
        "createdAt1718000000123456",  # in µs
        "evt_1718000000123456789",  # in ns
        "550e8400-e29b-41d4-a716-446655440000",  # UUID: its longest run is 12 digits
        "v2.4111111111111111",  # after a dot
        "sku-4111111111111111",  # after a dash (dashed ids and numbers)
        "tel+378282246310005",  # 15 digits after '+': a phone's country code and number (16 or more are a card)
        "IMG_20240615123045123",  # a photo's date-time name (17 digits from 20...)
    ],
)
def test_glued_near_misses_are_not_cards(detect: Detect, text: str) -> None:
    assert detect("CREDIT_CARD", text) == []


# -- words glued after the number (issue #15 review) -----------------------------------------
# The same holds on the other side: only a digit after the number makes it part of a longer
# one. The pattern consumes the character after the value (RE2 has no look-ahead); the span
# is still the digits only, and that character may lead the next card.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111abc", ["4111111111111111"]),
        ("x_4111111111111111_y", ["4111111111111111"]),
        ("x4111111111111111y", ["4111111111111111"]),
        ("/x/4111111111111111abc", ["4111111111111111"]),
        ("4111111111111111_exp", ["4111111111111111"]),
        ("4111 1111 1111 1111abc", ["4111 1111 1111 1111"]),  # printed groups, then letters
        ("3782-822463-10005_amex", ["3782-822463-10005"]),
        ("4111111111111111cafe", ["4111111111111111"]),  # hex letters after only: found (a token's run has hex before)
        ("4111111111111111é", ["4111111111111111"]),  # a non-ASCII letter after: not in the span
        ("4111111111111111_5555555555554444", ["4111111111111111", "5555555555554444"]),
        ("4111111111111111x5555555555554444", ["4111111111111111", "5555555555554444"]),
        ("4111111111111111 5555555555554444", ["4111111111111111", "5555555555554444"]),
        ("4111111111111111\\n", ["4111111111111111"]),  # an escaped break after it
        # printed groups after a hex letter: no digest or token holds separators
        ("card4111 1111 1111 1111", ["4111 1111 1111 1111"]),
        ("deadbeef4111-1111-1111-1111", ["4111-1111-1111-1111"]),
        ("hash_CREDIT_CARD_0123456789abcdef3782 822463 10005", ["3782 822463 10005"]),
    ],
)
def test_card_with_a_word_glued_after_it_is_found(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("CREDIT_CARD", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "x_41111111111111112y",  # a valid 16-digit card is the head of this 17-digit run
        "41111111111111112abc",  # the same, at the start of the text
        "4111111111111111111111111abc",  # 25 digits, then letters
        "ts1718000000123abc",  # a timestamp in ms glued on both sides
        "1718000000123_x",  # the same at the start
        "ord_506382006a99",  # a hex id: short digit runs
        "550e8400-e29b-41d4-a716-446655440000",  # UUID
        "IMG_20240101_123456",  # a photo's name
        "IMG_20240615123045123_HDR",  # 17 digits from 20..., letters after
        "4111111111111112abc",  # Luhn fails
        "7012345678901232_x",  # no brand starts with 7
        # a digit run inside hex (a digest, a session token): a hex letter before it is no edge
        "deadbeef4111111111111111",
        "deadbeef4111111111111111cafe",
        "card4111111111111111",  # 'd' is a hex letter: bare digits after it read as a digest's
        "e14111 1111 1111 1111",  # grouped, but inside a longer first group
        "726954dd321775dc1ae4c5ed352992421d9dcf3a7514f4f4111111111111111",
    ],
)
def test_glued_after_near_misses_are_not_cards(detect: Detect, text: str) -> None:
    assert detect("CREDIT_CARD", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111abc", "[REDACTED:CREDIT_CARD]abc"),
        ("x_4111111111111111_y", "x_[REDACTED:CREDIT_CARD]_y"),
        ("/x/4111111111111111abc", "/x/[REDACTED:CREDIT_CARD]abc"),
        ("4111111111111111_exp", "[REDACTED:CREDIT_CARD]_exp"),
        ("4111111111111111x5555555555554444", "[REDACTED:CREDIT_CARD]x[REDACTED:CREDIT_CARD]"),
        ("x_41111111111111112y", "x_41111111111111112y"),
    ],
)
def test_the_engine_redacts_only_the_digits_of_a_card_glued_to_words(text: str, expected: str) -> None:
    """The engine's capture-free path trims the consumed character as the reference does."""
    import veil

    assert veil.default_plan().redact_text(text).text == expected


def test_a_uk_iban_whose_account_digits_pass_as_a_card_is_one_iban() -> None:
    """GB IBANs glue 14 account digits to the bank's letters; these pass brand and Luhn
    (Maestro), and the card detector alone finds them: the whole IBAN is still reported."""
    import veil
    from veil.rules.detectors.card import is_card_number

    iban = "GB23NWBK59459845551439"
    assert is_card_number(iban[8:])
    result = veil.default_plan().redact_text(f"pay to {iban} today")
    assert result.text == "pay to [REDACTED:IBAN] today"
    assert [f.type for f in result.report.findings] == ["IBAN"]
