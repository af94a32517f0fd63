"""US_PASSPORT: US passport book numbers (9 digits, or a letter + 8 digits).

Nine-character ids are everywhere, so a context word (``passport``...) is
required within the window before the number or in the field name. One
repeated digit (``000000000``) is a placeholder and is not reported.
"""

from __future__ import annotations

from veil.rules.detectors._common import LEAD_NUMBER
from veil.rules.detectors.base import DetectorSpec


def is_us_passport(candidate: str) -> bool:
    """Nine characters, the last eight digits, not all one digit."""
    digits = candidate[1:] if candidate[:1].isalpha() else candidate
    return candidate.isascii() and len(candidate) == 9 and len(set(digits)) > 1


US_PASSPORT = DetectorSpec(
    name="US_PASSPORT",
    pattern=rf"{LEAD_NUMBER}(?P<value>[A-Z]?\d{{8}}|\d{{9}})\b",
    validator=is_us_passport,
    context=("passport", "passport number", "passport no", "travel document"),
    context_required=True,
    description="US passport number; only reported near the word 'passport'.",
    examples=("Passport number: 912803456", "passport C03005988"),
)

DETECTORS: tuple[DetectorSpec, ...] = (US_PASSPORT,)
