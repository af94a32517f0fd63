"""IBAN: International Bank Account Numbers, compact or printed in groups of 4.

Upper-case candidates (``DE89 3704 0044 0532 0130 00``, ``DE89-3704-0044-0532-0130-00``
or ``DE89370400440532013000``) count when stdnum's generic rules hold: a known
country, its BBAN structure (which fixes the length) and the mod-97 check
digits. National checks (Belgian, Spanish, Norwegian... check digits inside
the BBAN) no longer veto: an IBAN whose mod 97 holds is one digit in 97 of
being chance, and one a national rule rejects is still a payee's account, or
a mistyped one (issue #14). With ``iban``/``account``/``bank`` nearby or as
the field name, the evidence may be weaker still: lower case (compact only), or a BBAN whose
letters and digits do not follow the country's structure, as long as the
country, the length and mod 97 hold (``with_context``).

Upper-case IBANs may be glued to '_' or lower case on either side (issue #15:
``tok_A_k1_DE89...``, ``DE89...tok_A_k1_b``); an upper-case letter or a digit
glued to one makes a longer run, which is no IBAN.

Caveat: a printed IBAN immediately followed by another upper-case/digit group
of 1-4 chars ("... 3000 EUR") is read as one candidate, fails, and is missed.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum import numdb

from veil.rules.detectors._common import OUTPUT_SHAPED_DIGIT
from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.verdicts import remembered

_ALNUM = re.compile(r"[A-Z0-9]+")
_BASE36 = str.maketrans({chr(ord("A") + i): str(10 + i) for i in range(26)})  # A=10 ... Z=35, as int(c, 36)


def _bban_patterns() -> dict[str, tuple[re.Pattern[str], int]] | None:
    """Each country's BBAN pattern and length, from stdnum's registry exactly as ``stdnum.iban.validate`` builds it.

    None (every candidate goes to stdnum) if the registry holds anything but
    plain two-letter entries, since then its lookup is more than a dict's.
    """
    patterns: dict[str, tuple[re.Pattern[str], int]] = {}
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
            bban = props.get("bban", "")
            structure = re.sub(r"([1-9][0-9]*)!([nac])", _structure_part, bban)
            size = sum(int(n) for n in re.findall(r"([1-9][0-9]*)!", bban))
            patterns[low] = (re.compile(f"^{structure}$"), size)
    return patterns


def _structure_part(match: re.Match[str]) -> str:
    chars = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}[match.group(2)]
    return f"{chars}{{{match.group(1)}}}"


_BBAN = _bban_patterns()
_SEPARATORS = str.maketrans("", "", " -.")  # what stdnum's compact drops (besides surrounding whitespace)
_GROUPING = str.maketrans("", "", " -")  # how the pattern groups a printed IBAN


def _is_iban_by_stdnum(candidate: str) -> bool:
    """The reference: stdnum's generic rules, its national checks left out (10-70 µs)."""
    compact = candidate.translate(_GROUPING)
    if not compact.isascii() or not 15 <= len(compact) <= 34:
        return False
    return bool(_iban.is_valid(compact, check_country=False))


def _mod97_holds(compact: str) -> bool:
    return int((compact[4:] + compact[:4]).translate(_BASE36)) % 97 == 1


def is_iban(candidate: str) -> bool:
    """Valid IBAN per stdnum's generic rules: a known country, its BBAN format and length, mod-97 check digits.

    Replayed here in a few µs for upper-case letters and digits with spaces
    or dashes; anything else goes to stdnum (which also upper-cases and drops
    '.'). The verdict is stdnum's (``is_valid(check_country=False)``) either
    way: country-specific national checks are not applied (issue #14).
    """
    compact = candidate.translate(_GROUPING)
    if not compact.isascii() or not 15 <= len(compact) <= 34:
        return False
    if _BBAN is None or not _ALNUM.fullmatch(compact):
        return _is_iban_by_stdnum(candidate)
    country = _BBAN.get(compact[:2])
    return country is not None and country[0].match(compact[4:]) is not None and _mod97_holds(compact)


def _is_printed_iban(candidate: str) -> bool:
    """The detector's own evidence: an IBAN (``is_iban``) written in upper case."""
    return not any(ch.islower() for ch in candidate) and is_iban(candidate)


def _is_iban_in_context(candidate: str) -> bool:
    """Weaker evidence, for a candidate with a bank word nearby: any case, the country's length and mod 97."""
    compact = candidate.translate(_SEPARATORS).upper()
    if not compact.isascii() or not _ALNUM.fullmatch(compact) or _BBAN is None:
        return False
    country = _BBAN.get(compact[:2])
    return country is not None and len(compact) == 4 + country[1] and _mod97_holds(compact)


_UPPER_LEAD = r"(?:^|[^A-Z0-9])"
_UPPER_TRAIL = r"(?:[^A-Z0-9]|$)"

IBAN = DetectorSpec(
    name="IBAN",
    family="identifier",
    # A value group per form, each with its own edges: upper case may be glued to '_' or lower case
    # on either side (``tok_A_k1_DE89...``, ``DE89...tok_A_k1_b``), a longer upper-case/digit run
    # never (``XDE89...``, ``DE89...0X``); lower case only with no word character around it: ids glue
    # lower-case hex to '_' (``ord_bc46baffd6a0``), which sent one string in 230 of PII-free bodies to
    # the full scan (+70% on 10 KB PII-free bodies) while '_' could lead.
    # Lower case only compact: a grouped form would take a short word after it as its last group.
    pattern=(
        rf"(?:{_UPPER_LEAD}(?P<value>[A-Z]{{2}}\d{{2}}[A-Z0-9]{{11,30}}){_UPPER_TRAIL}"
        rf"|(?:^|[^A-Za-z0-9_])(?P<value_any_case>[A-Za-z]{{2}}\d{{2}}[A-Za-z0-9]{{11,30}})(?:[^A-Za-z0-9_]|$)"
        rf"|{_UPPER_LEAD}(?P<value_spaced>[A-Z]{{2}}\d{{2}}(?: [A-Z0-9]{{4}}){{2,7}}(?: [A-Z0-9]{{1,4}})?){_UPPER_TRAIL}"
        rf"|{_UPPER_LEAD}(?P<value_dashed>[A-Z]{{2}}\d{{2}}(?:-[A-Z0-9]{{4}}){{2,7}}(?:-[A-Z0-9]{{1,4}})?){_UPPER_TRAIL}"
        # Upper case after veil-shaped text ending in a digit (``hash_..._c0DE89...``), compact or spaced.
        rf"|{OUTPUT_SHAPED_DIGIT}(?P<value_after_output>[A-Z]{{2}}\d{{2}}(?:[A-Z0-9]{{11,30}}"
        rf"|(?: [A-Z0-9]{{4}}){{2,7}}(?: [A-Z0-9]{{1,4}})?)){_UPPER_TRAIL})"
    ),
    validator=remembered(_is_printed_iban),
    with_context=remembered(_is_iban_in_context),
    # Country, check digits and the first four characters, grouped or not.
    trigger=(
        rf"{_UPPER_LEAD}[A-Z]{{2}}[0-9]{{2}}[ \-]?[A-Z0-9]{{4}}"
        r"|(?:^|[^A-Za-z0-9_])[A-Za-z]{2}[0-9]{2}[ \-]?[A-Za-z0-9]{4}"
        rf"|{OUTPUT_SHAPED_DIGIT}[A-Z]{{2}}[0-9]{{2}}"
    ),
    context=("iban", "account", "bank"),
    description="IBAN: country, BBAN format and length, mod-97 check digits; lower case only with context.",
    examples=(
        "IBAN: DE89 3704 0044 0532 0130 00",
        "pay to GB82WEST12345698765432 today",
        "DE89-3704-0044-0532-0130-00",
        "iban be41539007547035",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (IBAN,)
