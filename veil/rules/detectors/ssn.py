"""US_SSN: US Social Security numbers.

``123-45-6789`` and ``123 45 6789`` match anywhere (word-bounded). Nine bare
digits only match right after a keyword (``SSN``, ``social security
number``...) and a short separator; that alternative reports only the digits
through the ``value`` group, while the formatted alternatives report the whole
match (the ``value`` group does not take part there). Numbers stdnum rejects
(area 000, 666, 9xx; group 00; serial 0000; known advertising numbers) never
count.

Caveat: bare digits in a JSON field named ``ssn`` are not detected, because
the keyword must be in the same string.
"""

from __future__ import annotations

from stdnum.us import ssn as _ssn

from veil.rules.detectors._common import is_ascii_digits, strip_separators
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.verdicts import remembered


def is_us_ssn(candidate: str) -> bool:
    """Valid SSN per stdnum (ranges and blacklist); spaces/dashes between groups allowed."""
    digits = strip_separators(candidate)
    if not is_ascii_digits(digits) or len(digits) != 9:
        return False
    return bool(_ssn.is_valid(digits))


_KEYWORD = r"(?i:\bssn|\bsocial[ _\-]?security(?:[ _\-]?(?:number|num|no))?)"

US_SSN = DetectorSpec(
    name="US_SSN",
    pattern=(
        rf"{_KEYWORD}[\s:#=\"'.\-]{{1,5}}(?P<value>\d{{9}})\b"
        r"|\b\d{3}-\d{2}-\d{4}\b"
        r"|\b\d{3} \d{2} \d{4}\b"
    ),
    validator=remembered(is_us_ssn),
    context=("ssn", "social security", "social security number"),
    description="US Social Security number; nine bare digits only after an SSN keyword.",
    examples=("SSN 123-45-6789", "ssn: 123456789", "social security number 123 45 6789"),
)

DETECTORS: tuple[DetectorSpec, ...] = (US_SSN,)
