"""DATE_OF_BIRTH: calendar dates next to a birth-related word.

Formats: ISO ``1990-01-31`` / ``1990/01/31`` (optionally with a time part),
``31/01/1990``, ``01/31/1990``, ``31.01.1990``, ``31-01-1990``,
``31 January 1990`` / ``31st Jan 1990`` and ``January 31, 1990``. A context
word (``born``, ``birth``, ``dob``, ``date of birth``, ``birthday``...) is
required before the date or in the field name: a bare date is not a birth
date. The validator accepts a real calendar date with a year in 1900-2100
(no clock is read, so "in the future" is not checked); ``01/02/1990`` is
accepted if either day/month order is a real date.
"""

from __future__ import annotations

import datetime

from veil.rules.detectors._common import MONTHS
from veil.rules.detectors.base import DetectorSpec

_MONTH_NUMBER = {name[:3]: i for i, name in enumerate(MONTHS, start=1)}
_MONTH_WORD = "(?:" + "|".join(f"{m[:3]}(?:{m[3:]})?" if len(m) > 3 else m for m in MONTHS) + r"|sept)\.?"
_DAY_SUFFIX = r"(?:st|nd|rd|th)?"


def _real_date(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= 2100:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _month_of(word: str) -> int:
    return _MONTH_NUMBER.get(word.strip(".").lower()[:3], 0)


def is_plausible_date(candidate: str) -> bool:
    """A real calendar date in 1900-2100 in one of the DATE_OF_BIRTH formats."""
    text = candidate.strip()
    if len(text) >= 10 and text[4:5] in ("-", "/") and text[:4].isdigit():  # ISO, maybe with a time
        parts = text[:10].split(text[4])
        if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
            return _real_date(int(parts[0]), int(parts[1]), int(parts[2]))
        return False
    for sep in "/.-":
        parts = text.split(sep)
        if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
            a, b, year = (int(p) for p in parts)
            return len(parts[2]) == 4 and (_real_date(year, b, a) or _real_date(year, a, b))
    words = text.replace(",", " ").split()
    if len(words) != 3 or not words[2].isdigit():
        return False
    year = int(words[2])
    first, second = words[0], words[1]
    if _month_of(first):  # January 31, 1990
        day_text, month = second, _month_of(first)
    else:  # 31 January 1990
        day_text, month = first, _month_of(second)
    day_digits = day_text.rstrip("stndrh")
    if not month or not (day_digits.isascii() and day_digits.isdigit()):
        return False
    return _real_date(year, month, int(day_digits))


_ISO = r"(?:19|20|21)\d{2}(?:-\d{2}-\d{2}|/\d{2}/\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?"
_NUMERIC = r"\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}-\d{1,2}-\d{4}"
_DAY_MONTH = rf"\d{{1,2}}{_DAY_SUFFIX} {_MONTH_WORD},? \d{{4}}"
_MONTH_DAY = rf"{_MONTH_WORD} \d{{1,2}}{_DAY_SUFFIX},? \d{{4}}"
_DATE = rf"{_ISO}|{_NUMERIC}|{_DAY_MONTH}|{_MONTH_DAY}"

DATE_OF_BIRTH = DetectorSpec(
    name="DATE_OF_BIRTH",
    family="identifier",
    # No letter or digit on either side, as a word boundary would have it, but '_' may touch the date
    # (issue #15: ``born: 1985-03-12_tok_A_k1_b``, ``born tok_A_k1_b_1985-03-12``, ``dob_12/03/1985``):
    # the character after is consumed and trimmed (a trailing edge: RE2 has no look-ahead), and '_'
    # before leads a branch of its own. Not ``(?:^|[^0-9A-Za-z])`` before: the scan's candidate would
    # start at the newline joining a date-only string to the one before it, and each ISO timestamp
    # of a body cost two decisions (+20% on a PII-free 100 KB scan). Each branch repeats the date's
    # pattern, and the combined scan's RE2 program grows with it (about 4,300 instructions a copy).
    pattern=(
        rf"(?:\b(?P<value>{_DATE})(?:[^0-9A-Za-z]|$)"
        rf"|[_](?P<value_after_underscore>{_DATE})(?:[^0-9A-Za-z]|$))"
    ),
    validator=is_plausible_date,
    context=("born", "birth", "dob", "date of birth", "birthday", "birthdate", "bday"),
    context_required=True,
    case_insensitive=True,
    description="Date of birth: a real date near 'born', 'birth', 'dob', 'birthday'...",
    examples=("Date of birth: 1990-01-31", "born on January 31, 1990", "DOB 31.01.1990"),
)

DETECTORS: tuple[DetectorSpec, ...] = (DATE_OF_BIRTH,)
