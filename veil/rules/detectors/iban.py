"""IBAN: International Bank Account Numbers, compact or printed in groups of 4.

Candidates are upper-case (``DE89 3704 0044 0532 0130 00`` or
``DE89370400440532013000``); stdnum checks the mod-97 check digits, the
country's length and BBAN structure, and national checks where it has them.

Caveat: a printed IBAN immediately followed by another upper-case/digit group
of 1-4 chars ("... 3000 EUR") is read as one candidate, fails, and is missed.
"""

from __future__ import annotations

from stdnum import iban as _iban

from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.verdicts import remembered


def is_iban(candidate: str) -> bool:
    """Valid IBAN per stdnum: check digits, country length, BBAN format."""
    compact = candidate.replace(" ", "")
    if not compact.isascii() or not 15 <= len(compact) <= 34:
        return False
    return bool(_iban.is_valid(compact))


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
