"""CREDIT_CARD: payment card numbers confirmed by brand prefix, length and Luhn.

Brands: Visa, Mastercard (51-55 and the 2-series 2221-2720), Amex, Discover,
JCB, Diners (14-19), UnionPay, Maestro, Mir (2200-2204), RuPay (60, 65, 81,
82, 508). A Luhn-valid number whose IIN no brand here claims still counts
when printed as a card is (four groups of four), or with a card word nearby
or as the field name (``with_context``): new ranges appear every year and
the number is as sensitive (issue #14).

Accepted shapes: 13-19 bare digits, or the printed groupings 4-4-4-1..4,
Amex 4-6-5 and Diners 4-6-4, separated consistently by single spaces or
single dashes (a 19-digit card is only found unseparated). The number may not
be preceded by a digit, '.', '-' or '+' nor followed by a digit, so no match
inside a longer digit run (``x_41111111111111112`` is one 17-digit candidate,
never its first 16) or a decimal like 0.4111.... Letters or '_' may come before
or after it: real data glues numbers to names (``pan_4111...``, ``card 4111...``,
``receipt_4111....pdf``, ``4111..._exp``, ``/x/4111...abc``), and a card number
is as sensitive there (issue #15). Bare digits right after a hex letter
(``cafe4111...``, ``card4111...``) are read as part of a hex digest or token,
which holds long digit runs; grouped, they are a card after any letter, unless
a hex letter follows too (a UUID's groups).

Caveat: about 1 in 10 random digit strings with a card prefix and length pass
Luhn, so long numeric ids that start with 2-6 or 8 and match a brand can still be reported.
"""

from __future__ import annotations

from veil.rules.detectors._common import (
    LEAD_DIGITS,
    OUTPUT_SHAPED_DIGIT,
    SEPARATOR_LED,
    TRAIL_DIGITS,
    TRAIL_NOT_HEX,
    USPS_RUN,
    UUID_GROUP_BEFORE,
    is_ascii_digits,
    luhn_valid,
    strip_separators,
)
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.verdicts import remembered

# (prefix ranges as (low, high) over the first len(low) digits, allowed lengths)
_BRANDS: tuple[tuple[tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    ((("4", "4"),), frozenset({13, 16, 19})),  # Visa
    ((("51", "55"), ("2221", "2720")), frozenset({16})),  # Mastercard
    ((("34", "34"), ("37", "37")), frozenset({15})),  # Amex
    ((("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")), frozenset(range(16, 20))),  # Discover
    ((("3528", "3589"),), frozenset(range(16, 20))),  # JCB
    ((("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), frozenset(range(14, 20))),  # Diners
    ((("62", "62"),), frozenset(range(16, 20))),  # UnionPay
    ((("50", "50"), ("56", "69")), frozenset(range(13, 20))),  # Maestro
    ((("2200", "2204"),), frozenset(range(16, 20))),  # Mir
    ((("60", "60"), ("65", "65"), ("81", "82"), ("508", "508")), frozenset({16})),  # RuPay
)


def _brand_accepts(digits: str) -> bool:
    for ranges, lengths in _BRANDS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            if low <= digits[: len(low)] <= high:
                return True
    return False


def _card_digits(candidate: str) -> str:
    """13-19 ASCII digits (separators dropped), not one repeated digit, Luhn-valid; else ""."""
    digits = strip_separators(candidate)
    if not is_ascii_digits(digits) or not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return ""
    return digits if luhn_valid(digits) else ""


def is_card_number(candidate: str) -> bool:
    """Brand prefix + length fit, not one repeated digit, and the Luhn checksum holds."""
    digits = _card_digits(candidate)
    return bool(digits) and _brand_accepts(digits)


def _is_printed_card(candidate: str) -> bool:
    """A brand's number, or any Luhn-valid 16 digits printed in four groups of four."""
    digits = _card_digits(candidate)
    if not digits:
        return False
    return _brand_accepts(digits) or (len(digits) == 16 and len(candidate) == 19)


def _is_card_in_context(candidate: str) -> bool:
    """Any Luhn-valid 13-19 digits, for a candidate with a card word nearby."""
    return bool(_card_digits(candidate))


def is_luhn(candidate: str) -> bool:
    """Digits (spaces and dashes ignored) that pass the Luhn checksum; for custom detectors."""
    digits = strip_separators(candidate)
    return is_ascii_digits(digits) and len(digits) >= 2 and luhn_valid(digits)


def _grouped(sep: str) -> str:
    s = r"\-" if sep == "-" else " "
    return (
        # No 4-4-4-4-3 shape: "4111 1111 1111 1111 123" is a card and its CVV far
        # more often than a 19-digit card, so the number ends after 4 groups.
        rf"[2-68]\d{{3}}(?:{s}\d{{4}}){{2}}{s}\d{{1,4}}"
        rf"|3[47]\d{{2}}{s}\d{{6}}{s}\d{{5}}"
        rf"|3\d{{3}}{s}\d{{6}}{s}\d{{4}}"
    )


CREDIT_CARD = DetectorSpec(
    name="CREDIT_CARD",
    family="digits",
    # A value group per branch, each with its own edges. After a hex letter only the grouped
    # forms, and not followed by another (a UUID's dashed groups hold digit runs between hex:
    # ``...a4111-1111-1111-1111b...``); no digest holds separators.
    # Grouped, also after '.' or '-' (``No.4111 1111 ...``, ``tok_A_k1_-4111-1111-...``), unless a digit
    # comes before that (a decimal or a dashed number) or a UUID's hex group does (``not_after``);
    # bare digits after '-' are a dashed id's (``sku-4111...``).
    pattern=(
        rf"(?:{LEAD_DIGITS}(?P<value>[2-68]\d{{12,18}}|{_grouped(' ')}|{_grouped('-')}){TRAIL_DIGITS}"
        rf"|[A-Fa-f](?P<value_hex_led>{_grouped(' ')}|{_grouped('-')}){TRAIL_NOT_HEX}"
        rf"|{SEPARATOR_LED}(?P<value_sep_led>{_grouped(' ')}|{_grouped('-')}){TRAIL_DIGITS}"
        rf"|{OUTPUT_SHAPED_DIGIT}(?P<value_after_output>{_grouped(' ')}|{_grouped('-')}){TRAIL_DIGITS}"
        # After '+' (a URL's encoded space, ``?q=card+4111...``): 16 to 19 bare digits, or four
        # groups of four, more than an E.164 phone number holds (15), so no international number.
        rf"|\+(?P<value_after_plus>[2-68]\d{{15,18}}|[2-68]\d{{3}}(?: \d{{4}}){{3}}|[2-68]\d{{3}}(?:-\d{{4}}){{3}})"
        rf"{TRAIL_DIGITS})"
    ),
    validator=remembered(_is_printed_card),
    with_context=remembered(_is_card_in_context),
    # Inside a grouped USPS tracking number (9400 1526 6643 1222 1013 78): its tail, not a card.
    # Groups alone say nothing: two cards in a row are eight groups, "ORD-1234 4111 ..." is an
    # id and a card.
    not_after=rf"{USPS_RUN}|{UUID_GROUP_BEFORE}",
    # Every shape starts with 13 digits, or four and a separator and four more: the trigger
    # leaves out the automaton's counting of up to 18 digits and of the groups. Not eight
    # bare digits: hex ids glue those to letters (``ord_506382006a99``), and each would
    # send its string to the full scan.
    trigger=(
        rf"(?:^|[^0-9.+\-]|{SEPARATOR_LED})[2-68][0-9]{{3}}[ \-][0-9]{{4}}|(?:^|[^0-9A-Fa-f+])[2-68][0-9]{{12}}"
        rf"|{OUTPUT_SHAPED_DIGIT}[2-68][0-9]{{3}}[ \-][0-9]{{4}}|\+[2-68][0-9]{{15}}|\+[2-68][0-9]{{3}}[ \-][0-9]{{4}}"
    ),
    context=("card", "credit card", "cc", "pan", "visa", "mastercard", "amex"),
    description="Payment card number (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir, RuPay), Luhn-checked.",
    examples=("card 4111 1111 1111 1111 exp 12/29", "amex: 3782-822463-10005", "pan=5555555555554444"),
)

DETECTORS: tuple[DetectorSpec, ...] = (CREDIT_CARD,)
