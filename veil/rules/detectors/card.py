"""CREDIT_CARD: payment card numbers confirmed by brand prefix, length and Luhn.

Accepted shapes: 13-19 bare digits, or the printed groupings 4-4-4-1..4,
Amex 4-6-5 and Diners 4-6-4, separated consistently by single spaces or
single dashes (a 19-digit card is only found unseparated). The number may not
be preceded by a word character, '.', '-' or '+' and must end at a word
boundary, so no match inside a longer digit run or a decimal like 0.4111....

Caveat: about 1 in 10 random digit strings with a card prefix and length pass
Luhn, so long numeric ids that start with 2-6 can still be reported.
"""

from __future__ import annotations

from veil.rules.detectors._common import LEAD_NUMBER, is_ascii_digits, luhn_valid, strip_separators
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
)


def _brand_accepts(digits: str) -> bool:
    for ranges, lengths in _BRANDS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            if low <= digits[: len(low)] <= high:
                return True
    return False


def is_card_number(candidate: str) -> bool:
    """Brand prefix + length fit, not one repeated digit, and the Luhn checksum holds."""
    digits = strip_separators(candidate)
    if not is_ascii_digits(digits) or not 13 <= len(digits) <= 19:
        return False
    if len(set(digits)) == 1:
        return False
    return _brand_accepts(digits) and luhn_valid(digits)


def is_luhn(candidate: str) -> bool:
    """Digits (spaces and dashes ignored) that pass the Luhn checksum; for custom detectors."""
    digits = strip_separators(candidate)
    return is_ascii_digits(digits) and len(digits) >= 2 and luhn_valid(digits)


def _grouped(sep: str) -> str:
    s = r"\-" if sep == "-" else " "
    return (
        # No 4-4-4-4-3 shape: "4111 1111 1111 1111 123" is a card and its CVV far
        # more often than a 19-digit card, so the number ends after 4 groups.
        rf"[2-6]\d{{3}}(?:{s}\d{{4}}){{2}}{s}\d{{1,4}}"
        rf"|3[47]\d{{2}}{s}\d{{6}}{s}\d{{5}}"
        rf"|3\d{{3}}{s}\d{{6}}{s}\d{{4}}"
    )


CREDIT_CARD = DetectorSpec(
    name="CREDIT_CARD",
    pattern=rf"{LEAD_NUMBER}(?P<value>[2-6]\d{{12,18}}|{_grouped(' ')}|{_grouped('-')})\b",
    validator=remembered(is_card_number),
    # Every shape starts with four digits, then four more after at most one separator: the
    # trigger leaves out the automaton's counting of 12 to 18 digits and of the groups.
    trigger=rf"{LEAD_NUMBER}[2-6][0-9]{{3}}[ \-]?[0-9]{{4}}",
    context=("card", "credit card", "cc", "pan", "visa", "mastercard", "amex"),
    description="Payment card number (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro), Luhn-checked.",
    examples=("card 4111 1111 1111 1111 exp 12/29", "amex: 3782-822463-10005", "pan=5555555555554444"),
)

DETECTORS: tuple[DetectorSpec, ...] = (CREDIT_CARD,)
