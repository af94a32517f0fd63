"""IBAN: International Bank Account Numbers, compact or printed in groups of 4.

Candidates are upper-case (``DE89 3704 0044 0532 0130 00`` or
``DE89370400440532013000``); stdnum checks the mod-97 check digits, the
country's length and BBAN structure, and national checks where it has them.

Caveat: a printed IBAN immediately followed by another upper-case/digit group
of 1-4 chars ("... 3000 EUR") is read as one candidate, fails, and is missed.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum import numdb
from stdnum.util import get_cc_module

from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.verdicts import remembered

_ALNUM = re.compile(r"[A-Z0-9]+")
_BASE36 = str.maketrans({chr(ord("A") + i): str(10 + i) for i in range(26)})  # A=10 ... Z=35, as int(c, 36)


def _bban_patterns() -> dict[str, re.Pattern[str]] | None:
    """Each country's BBAN pattern, built from stdnum's registry exactly as ``stdnum.iban.validate`` builds it.

    None (every candidate goes to stdnum) if the registry holds anything but
    plain two-letter entries, since then its lookup is more than a dict's.
    """
    patterns: dict[str, re.Pattern[str]] = {}
    try:
        prefixes = list(numdb.get("iban").prefixes)  # stdnum's registry, not a public API: checked, not trusted
    except (AttributeError, LookupError, OSError, ValueError):  # pragma: no cover
        return None
    for entry in prefixes:
        if not isinstance(entry, tuple) or len(entry) != 5:  # pragma: no cover
            return None
        length, low, high, props, children = entry
        if length != 2 or low != high or children:
            return None
        if low in patterns:
            return None  # stdnum would merge the entries' properties
        if props:  # an entry without properties is no country: stdnum rejects it
            structure = re.sub(r"([1-9][0-9]*)!([nac])", _structure_part, props.get("bban", ""))
            patterns[low] = re.compile(f"^{structure}$")
    return patterns


def _structure_part(match: re.Match[str]) -> str:
    chars = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}[match.group(2)]
    return f"{chars}{{{match.group(1)}}}"


_BBAN = _bban_patterns()
_HAS_NATIONAL_CHECK: dict[str, bool] = {}  # filled on first sight of a country, as stdnum imports its module


def _has_national_check(country: str) -> bool:
    """Whether stdnum has a national module that checks more after the generic rules (BE, ES, ME, NO in 2.2)."""
    known = _HAS_NATIONAL_CHECK.get(country)
    if known is None:
        known = _HAS_NATIONAL_CHECK[country] = get_cc_module(country, "iban") is not None
    return known


def _is_iban_by_stdnum(candidate: str) -> bool:
    """The reference: stdnum's full check (10-70 µs; the Belgian and Spanish ones are the slowest)."""
    compact = candidate.replace(" ", "")
    if not compact.isascii() or not 15 <= len(compact) <= 34:
        return False
    return bool(_iban.is_valid(compact))


def is_iban(candidate: str) -> bool:
    """Valid IBAN per stdnum: check digits, country length, BBAN format.

    stdnum's generic rules (a known country, the BBAN pattern, which fixes the
    length, and mod 97) are replayed here in a few µs; a candidate that
    passes them all and whose country has a national check goes to stdnum,
    and so does anything outside upper-case letters and digits (stdnum also
    upper-cases and drops '-' and '.'). The verdict is stdnum's either way
    (issue #13).
    """
    compact = candidate.replace(" ", "")
    if not compact.isascii() or not 15 <= len(compact) <= 34:
        return False
    if _BBAN is None or not _ALNUM.fullmatch(compact):
        return _is_iban_by_stdnum(candidate)
    bban = _BBAN.get(compact[:2])
    if bban is None or not bban.match(compact[4:]):
        return False
    if int((compact[4:] + compact[:4]).translate(_BASE36)) % 97 != 1:
        return False
    return not _has_national_check(compact[:2]) or _is_iban_by_stdnum(candidate)


IBAN = DetectorSpec(
    name="IBAN",
    pattern=(
        r"\b(?P<value>[A-Z]{2}\d{2}[A-Z0-9]{11,30}"
        r"|[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)\b"
    ),
    validator=remembered(is_iban),
    # Country, check digits and the first four characters, grouped or not.
    trigger=r"\b[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}",
    context=("iban", "account", "bank"),
    description="IBAN, validated with check digits and per-country length/format.",
    examples=("IBAN: DE89 3704 0044 0532 0130 00", "pay to GB82WEST12345698765432 today"),
)

DETECTORS: tuple[DetectorSpec, ...] = (IBAN,)
