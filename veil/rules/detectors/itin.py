"""US_ITIN: US Individual Taxpayer Identification Numbers (area 9xx).

The IRS issues ITINs as ``9XX-XX-XXXX`` with the group in 50-65, 70-88, 90-92
or 94-99; the SSA never issues area 9xx, so a 9xx number is never an SSN and
stdnum's SSN check rejects it. Written with separators and in those ranges, a
number counts on its own. Nine bare digits, or a 9xx number with another
group, count only with a taxpayer or SSN word nearby (``ITIN``, ``TIN``,
``tax id``, ``SSN``, ``social security``) or as the field name: people write
their ITIN where a form asks for an SSN, and it is as sensitive. Such a number
is reported as ``US_ITIN`` (what it is), never as ``US_SSN``. Group 00 and
serial 0000 never count.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.ssn import PATTERN, SHAPE_TRIGGER, digits_of, is_formatted
from veil.rules.detectors.verdicts import remembered

_ITIN_GROUPS = frozenset(range(50, 66)) | frozenset(range(70, 89)) | frozenset(range(90, 93)) | frozenset(range(94, 100))


def _is_nine_xx(digits: str) -> bool:
    """Area 9xx, group not 00, serial not 0000: the shape of a taxpayer number."""
    return bool(digits) and digits[0] == "9" and digits[3:5] != "00" and digits[5:] != "0000"


def is_us_itin(candidate: str) -> bool:
    """An ITIN by the IRS's ranges (9XX, group 50-65/70-88/90-92/94-99, serial not 0000); separators allowed."""
    digits = digits_of(candidate)
    return _is_nine_xx(digits) and int(digits[3:5]) in _ITIN_GROUPS


def _is_formatted_itin(candidate: str) -> bool:
    return is_formatted(candidate) and is_us_itin(candidate)


def _is_nine_xx_candidate(candidate: str) -> bool:
    return _is_nine_xx(digits_of(candidate))


US_ITIN = DetectorSpec(
    name="US_ITIN",
    family="digits",
    pattern=PATTERN,
    validator=remembered(_is_formatted_itin),
    with_context=remembered(_is_nine_xx_candidate),
    trigger=SHAPE_TRIGGER,
    context=(
        "itin", "tin", "tax id", "taxpayer id", "taxpayer identification number", "tax identification number",
        "ssn", "social security", "social security number",
    ),
    context_window=32,
    description="US ITIN (area 9xx); bare digits or groups outside the IRS ranges only with a taxpayer/SSN word nearby.",
    examples=("ITIN 912-70-1234", "tax id: 900701234", "SSN 912-34-5678"),
)

DETECTORS: tuple[DetectorSpec, ...] = (US_ITIN,)
