"""US_SSN: US Social Security numbers.

Written ``123-45-6789``, ``123.45.6789`` or ``123 45 6789``, a number counts
on its own. Nine bare digits (``123456789``) count only with an SSN word
within ``context_window`` characters before them (``SSN``, ``social security
number``...) or in the name of the field holding them (``{"ssn": ...}``,
``socialSecurityNumber``): the confidence of :attr:`DetectorSpec.with_context`.
Numbers stdnum rejects (area 000, 666 or 9xx, group 00, serial 0000, known
advertising numbers) never count here; area 9xx is a taxpayer number, found
as ``US_ITIN`` (:mod:`veil.rules.detectors.itin`).

A candidate may not follow a digit or '+', nor a digit and '.' or '-', and a
longer dotted/dashed number it starts (``123-45-6789-1``) is read whole and fails. Words may be
glued on either side of a written number: ids, keys and hashes glue numbers
to names (``x_536-22-1847``, ``536-22-1847_k1``, ``hash_0123abcd536-22-1847``),
and the number is as sensitive there (issue #15); only a digit after it makes
a longer number. Nine bare digits glued to a hex letter or followed by a word
character are read as part of a hex id (``cus_ced355357945``,
``ord_828367436b1b``): written with separators, no hex id holds them.
"""

from __future__ import annotations

from stdnum.us import ssn as _ssn

from veil.rules.detectors._common import (
    OUTPUT_SHAPED_DIGIT,
    SEPARATOR_LED,
    TRAIL_DIGITS,
    is_ascii_digits,
    strip_separators,
)
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.verdicts import remembered

SSN_SEPARATORS = " -."

LEAD = r"(?:^|[^0-9+.\-])"
"""Before a number written with separators: not a digit or '+' (letters and '_' may lead); '.' or
'-' in a branch of their own (``SEPARATOR_LED``: ``No.536-22-1847``), as after a digit they make one
longer number (``3.536-22-1847``, ``12-536-22-1847``)."""

BARE_LEAD = r"(?:^|[^0-9A-Fa-f+.])"
"""Before nine bare digits: as :data:`LEAD`, and not a hex letter (``SSN-123456789``, ``ssn_078051123``
count; ``cus_ced355357945`` is a hex id). Hex ids end in nine digits often enough (one 12-character id
in ~200) that letting a-f lead sent such strings to the full scan: +28% on fresh PII-free 10 KB bodies."""

TAIL = r"(?:[.\-]\d+)*"
"""A further ``.digits``/``-digits`` run is swallowed, so the longer number is judged whole (and fails)."""

WRITTEN = r"\d{3}(?:-\d{2}-|\.\d{2}\.| \d{2} )\d{4}" + TAIL
"""Dashed, dotted or spaced, one separator throughout."""

BARE = r"\d{9}" + TAIL

PATTERN = (
    rf"(?:{LEAD}(?P<value>{WRITTEN}){TRAIL_DIGITS}|{BARE_LEAD}(?P<value_bare>{BARE})(?:[^0-9A-Za-z_]|$)"
    rf"|{SEPARATOR_LED}(?P<value_sep_led>{WRITTEN}){TRAIL_DIGITS}"
    rf"|{OUTPUT_SHAPED_DIGIT}(?P<value_after_output>{WRITTEN}){TRAIL_DIGITS})"
)
"""A value group per form, each with its own edges. Any non-digit (or the end) may follow a written
number; bare digits want no word character either, as hex ids glue letters after nine digits
(``ord_828367436b1b``)."""

SHAPE_TRIGGER = (
    rf"(?:{LEAD}|{SEPARATOR_LED}|{OUTPUT_SHAPED_DIGIT})[0-9]{{3}}[ .\-][0-9]{{2}}[ .\-][0-9]{{4}}(?:[^0-9]|$)"
    rf"|{BARE_LEAD}[0-9]{{9}}(?:[^0-9A-Za-z_]|$)"
)
"""The pattern's nine digits with its leads and what may follow them: digits inside ids
(``ord_828367436b1b``, ``evt_d9117...``) pick no string."""


def digits_of(candidate: str) -> str:
    """The nine digits of a 3-2-4 candidate, or "" if it is anything else."""
    digits = strip_separators(candidate, SSN_SEPARATORS)
    return digits if len(digits) == 9 and is_ascii_digits(digits) else ""


def is_formatted(candidate: str) -> bool:
    """Whether the candidate is written with separators (``123-45-6789``), not as bare digits."""
    return len(candidate) == 11 and bool(digits_of(candidate))


# stdnum's table of numbers it refuses whatever their ranges (advertising numbers). Read from the
# library, so an update of it is followed; without it every verdict goes to the library.
_BLACKLIST: frozenset[str] | None = (
    frozenset(table) if isinstance(table := getattr(_ssn, "_ssn_blacklist", None), (set, frozenset)) else None
)


def _valid_digits(digits: str) -> bool:
    """``stdnum.us.ssn.is_valid(digits)`` for nine ASCII digits, without its cleaning and regex.

    For such a string stdnum's cleaning changes nothing, its pattern matches,
    and its verdict is its range rules (area 000, 666, 9xx; group 00; serial
    0000) and its blacklist, read here as it reads them: a twelfth of its time
    on fresh values (issue #13). ``tests/rules/detectors/test_fast_validators.py``
    holds the two to the same verdicts.
    """
    if _BLACKLIST is None:
        return bool(_ssn.is_valid(digits))
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area == "000" or area == "666" or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return f"{area}-{group}-{serial}" not in _BLACKLIST


def is_us_ssn(candidate: str) -> bool:
    """Valid SSN per stdnum (ranges and blacklist); spaces, dashes or dots between groups allowed."""
    digits = digits_of(candidate)
    return bool(digits) and _valid_digits(digits)


def _is_formatted_ssn(candidate: str) -> bool:
    if len(candidate) != 11:
        return False
    digits = digits_of(candidate)
    return bool(digits) and _valid_digits(digits)


US_SSN = DetectorSpec(
    name="US_SSN",
    family="digits",
    pattern=PATTERN,
    validator=remembered(_is_formatted_ssn),
    with_context=remembered(is_us_ssn),
    trigger=SHAPE_TRIGGER,
    context=("ssn", "social security", "social security number", "social security no"),
    context_window=32,
    description="US Social Security number; nine bare digits only with an SSN word nearby or as the field name.",
    examples=("SSN 123-45-6789", "ssn: 123456789", "social security number 123 45 6789", "SSN 078.05.1123"),
)

DETECTORS: tuple[DetectorSpec, ...] = (US_SSN,)
