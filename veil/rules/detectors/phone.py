"""PHONE: telephone numbers in international or separated national format.

RE2 proposes only shapes that look like written phone numbers, and
:mod:`phonenumbers` must call the candidate a *valid* number:

* ``+CC ...``: '+' then digit groups with optional single space/dot/dash
  separators and an optional ``(0)``/``(area)`` group; parsed with no region.
* NANP ``(212) 555-0143`` / ``212-555-0143`` / ``212.555.0143`` with an
  optional ``1-`` prefix; trunk-prefixed ``020 7946 0958``/``030-1234567``
  (leading 0, space or dash separators); French ``01.23.45.67.89``; Indian
  mobile ``98765 43210``. National candidates are tried against a few
  regions chosen by shape (see :func:`is_phone_number`).

Bare digit runs never match (no separators = no candidate, except after '+'),
nor do ISO dates, times, prices with ',' or versions. A candidate may not be
preceded by a digit or '+', nor by a digit and '.' or '-', nor followed by a digit, and a following
``.digits``/``-digits``/``/digits`` run is swallowed so the longer id fails.

Parcel tracking numbers are left alone (issue #14): a national candidate of
four or more groups of exactly four digits (``0430 1234 5678 9012``) is a
tracking or card number's shape, never a phone's, and a candidate right after
a carrier or tracking word (``tracking:``, ``UPS``, ``FedEx``, ``DHL``,
``waybill``...) or inside a UPS ``1Z...`` number (``1Z 999 AA1 01 2345 6784``)
is not a phone (``not_after``, ``inside``); a number that starts with ``+`` or ``(`` cannot
continue a UPS number, so ``1Z+44 20 7946 0958`` is a phone.

A word may be glued on either side (``tel_+44 20 7946 0958``,
``212-555-0143_home``): ids and keys glue numbers to names, and the number is
as sensitive there (issue #15); only a digit after it makes a longer number,
and a hex letter on both sides makes it digit groups of a UUID.

Caveat: a number directly followed by another space-separated digit group
("+44 20 7946 0958 12") is read as one longer candidate and missed. Bare digit
runs (``call14155552671``, ``phone 4155552671``) are not proposed.
"""

from __future__ import annotations

import phonenumbers

from veil.rules.detectors._common import (
    OUTPUT_SHAPED_DIGIT,
    SEPARATOR_LED,
    TRAIL_DIGITS,
    TRAIL_NOT_HEX,
    USPS_RUN,
    UUID_GROUP_BEFORE,
)
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.phone_fast import (
    DIGITS_ONLY,
    MAX_LENGTH,
    SHAPE,
    Verdict,
    decide_international,
    decide_national,
)
from veil.rules.detectors.verdicts import remembered

TRUNK_REGIONS: tuple[str, ...] = ("GB", "DE", "FR", "NL", "AU", "IN")
"""Regions tried for a national number written with its leading trunk '0'."""

NANP_REGIONS: tuple[str, ...] = ("US", "CA")
"""Regions tried for a 10-digit number without a trunk prefix (or 11 starting with 1)."""

_MIN_NATIONAL_DIGITS = 9  # below this, dates like 01-31-2024 and short codes parse in lax regions


def _valid_in(text: str, region: str | None) -> bool:
    """The library's own answer: parse, then is_valid_number, and no extension."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number)) and not number.extension


def _regions_for(digits: str) -> tuple[str, ...]:
    """The regions a national candidate is tried in, by its digits (9 or more)."""
    if digits.startswith("0"):
        return TRUNK_REGIONS
    if len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")):
        return NANP_REGIONS + (("IN",) if len(digits) == 10 and digits[0] in "6789" else ())
    return ()


def _is_phone_number_by_library(candidate: str) -> bool:
    """The reference: every region tried with ``phonenumbers.parse`` (tens of µs each).

    ``is_phone_number`` must give the same verdict for every string; it
    falls back to this for shapes its fast path does not model.
    """
    if not candidate.isascii():
        return False
    if candidate.startswith("+"):
        return _valid_in(candidate, None)
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if len(digits) < _MIN_NATIONAL_DIGITS:
        return False
    return any(_valid_in(candidate, region) for region in _regions_for(digits))


def _settle(verdict: Verdict, candidate: str, region: str | None) -> bool:
    if verdict is Verdict.UNDECIDED:
        return _valid_in(candidate, region)
    return verdict is Verdict.VALID


def is_phone_number(candidate: str) -> bool:
    """Valid per phonenumbers, with the region set chosen by the number's shape.

    ``+...`` is parsed on its own. Otherwise the candidate needs 9+ digits:
    a leading 0 means a trunk prefix (``TRUNK_REGIONS``); 10 digits, or 11
    starting with 1, mean NANP (``NANP_REGIONS``); 10 digits starting 6-9 may
    also be an Indian mobile. Regions that accept numbers without a trunk
    prefix of any length (DE, IT) are never tried for prefix-less digits.

    Candidates shaped like the pattern's (digits and separators, at most one
    leading '+') are decided by :mod:`phone_fast`, which replays parse and
    is_valid_number on phonenumbers' metadata in a few µs; anything else, and
    the few steps the replay does not model, go to phonenumbers itself, with
    the same verdicts either way (issue #13).

    >>> is_phone_number("+44 20 7946 0958"), is_phone_number("123-456-7890")
    (True, False)
    """
    if not candidate.isascii():
        return False
    if len(candidate) > MAX_LENGTH or not SHAPE.fullmatch(candidate):
        return _is_phone_number_by_library(candidate)
    digits = candidate.translate(DIGITS_ONLY)
    if candidate.startswith("+"):
        return _settle(decide_international(digits), candidate, None)
    if len(digits) < _MIN_NATIONAL_DIGITS:
        return False
    return any(_settle(decide_national(digits, region), candidate, region) for region in _regions_for(digits))


def _is_tracking_shaped(candidate: str) -> bool:
    """Four or more groups of exactly four digits and no '+': a tracking or card number, not a phone."""
    groups = candidate.replace("-", " ").split(" ")
    return not candidate.startswith("+") and len(groups) >= 4 and all(len(g) == 4 and g.isdigit() for g in groups)


def _is_written_phone(candidate: str) -> bool:
    return not _is_tracking_shaped(candidate) and is_phone_number(candidate)


_INTL = r"\+[1-9]\d{0,3}(?:[ .\-]?(?:\(\d{1,4}\) ?)?\d{1,5}){1,6}"  # ends with a digit, as TRAIL_DIGITS wants
_NANP = r"(?:1[ .\-]?)?(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}"
_TRUNK = r"\(?0\d{1,4}\)?[ \-]\d{2,8}(?:[ \-]\d{2,4}){0,3}"
_FR_DOTS = r"0\d(?:\.\d{2}){4}"
_IN_MOBILE = r"[6-9]\d{4}[ \-]\d{5}"
_TAIL = r"(?:[.\-/]\d+)*"
_EDGE = r"(?:^|[^0-9.+\-])"
"""Not inside a longer number; a word or '/' may come before (``tel_+44...``, ``/users/+44...``); '.' or '-'
in a branch of their own (``SEPARATOR_LED``: ``No.+44...``, ``x-212-555-0143``)."""

_NOT_HEX_EDGE = r"(?:^|[^0-9A-Fa-f.+\-])"
"""As :data:`_EDGE`, not a hex letter: a number a hex letter leads has a branch of its own, which
no hex letter may end (a UUID's dashed digit groups: ``f86668c1-6d05-4818-9450-085b63a029a5``)."""

_SHAPES = rf"(?:{_INTL}|{_NANP}|{_TRUNK}|{_FR_DOTS}|{_IN_MOBILE}){_TAIL}"

PHONE = DetectorSpec(
    name="PHONE",
    family="phone",
    pattern=(
        rf"(?:{_NOT_HEX_EDGE}(?P<value>{_SHAPES}){TRAIL_DIGITS}|[A-Fa-f](?P<value_hex_led>{_SHAPES}){TRAIL_NOT_HEX}"
        rf"|{SEPARATOR_LED}(?P<value_sep_led>{_SHAPES}){TRAIL_DIGITS}"
        rf"|{OUTPUT_SHAPED_DIGIT}(?P<value_after_output>{_SHAPES}){TRAIL_DIGITS})"
    ),
    validator=remembered(_is_written_phone),
    # After a carrier or tracking word: a parcel, not a phone.
    # Words alone ("the parcel", "tracking") say nothing: a label ("tracking no:") or a carrier's name does.
    not_after=(
        r"(?:(?i:\b(?:tracking|shipment|parcel|consignment)[ _\-]?(?:number|no|num|id|#)\.?|\btracking ?[:#=]"
        r"|\b(?:waybill|awb|fedex|sendungsnummer))|\b(?:UPS|USPS|DHL))[ :#=.]*"
        rf"|{USPS_RUN}"  # carrier names in capitals only: "Sign-ups: +44 ..." is a phone
        rf"|{UUID_GROUP_BEFORE}"
    ),
    # Inside a UPS "1Z" number (``1Z 999 AA1 01 2345 6784``): only a value its run would go on into.
    inside=r"(?i:\b1z[0-9a-z ]{0,16})",
    # A part of each shape: "+" and a digit (international), three digits, a separator and four
    # (North American and Indian mobile, at their end), a trunk 0 (national), "0d.dd" (French).
    # The international shape's up to six groups were most of the automaton.
    trigger=(
        rf"(?:{_EDGE}|{SEPARATOR_LED}|{OUTPUT_SHAPED_DIGIT})(?:\+[1-9]|\(?0[0-9]{{1,4}}\)?[ \-][0-9]{{2}}|0[0-9]\.[0-9]{{2}})"
        r"|[0-9]{3}[ .\-][0-9]{4}"
    ),
    context=("phone", "tel", "mobile", "cell", "fax", "call"),
    description="Phone number, confirmed valid by phonenumbers.",
    examples=("call +44 20 7946 0958", "tel: (212) 555-0143", "Festnetz 030 12345678"),
)

DETECTORS: tuple[DetectorSpec, ...] = (PHONE,)
