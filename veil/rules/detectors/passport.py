"""US_PASSPORT: US passport book numbers (9 digits, or a letter + 8 digits).

Nine-character ids are everywhere, so a context word (``passport``...) is
required within the window before the number or in the field name. One
repeated digit (``000000000``) is a placeholder and is not reported.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec


def is_us_passport(candidate: str) -> bool:
    """Nine characters, the last eight digits, not all one digit."""
    digits = candidate[1:] if candidate[:1].isalpha() else candidate
    return candidate.isascii() and len(candidate) == 9 and len(set(digits)) > 1


_NUMBER = r"[A-Z]?\d{8}|\d{9}"
_LEAD = r"(?:^|[^0-9A-Za-z.+\-])"
"""LEAD_NUMBER, '_' let in."""

US_PASSPORT = DetectorSpec(
    name="US_PASSPORT",
    family="identifier",
    # As LEAD_NUMBER before and a word boundary after, but '_' may touch the number on either side
    # (issue #15: ``passport 912803456_tok_A_k1_b``, ``passport tok_A_k1_b_C03005988``): the character
    # after is consumed and trimmed (a trailing edge). Letters or digits glued on still make a longer id.
    pattern=rf"{_LEAD}(?P<value>{_NUMBER})(?:[^0-9A-Za-z]|$)",
    validator=is_us_passport,
    context=("passport", "passport number", "passport no", "travel document"),
    context_required=True,
    description="US passport number; only reported near the word 'passport'.",
    examples=("Passport number: 912803456", "passport C03005988"),
)

DETECTORS: tuple[DetectorSpec, ...] = (US_PASSPORT,)
