"""UK_NINO: UK National Insurance numbers (``AB123456C`` or ``AB 12 34 56 C``).

Upper case only. The prefix follows HMRC allocation rules: first letter not
D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; and not BG, GB, KN, NK, NT,
TN or ZZ (administrative/temporary). The suffix is A-D.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_BAD_FIRST = frozenset("DFIQUV")
_BAD_SECOND = frozenset("DFIOQUV")
_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def is_uk_nino(candidate: str) -> bool:
    """Two allowed prefix letters, six digits, suffix A-D; spaces ignored."""
    compact = candidate.replace(" ", "").upper()
    if len(compact) != 9 or not compact.isascii():
        return False
    prefix, digits, suffix = compact[:2], compact[2:8], compact[8]
    return (
        prefix.isalpha()
        and prefix[0] not in _BAD_FIRST
        and prefix[1] not in _BAD_SECOND
        and prefix not in _BAD_PREFIXES
        and digits.isdigit()
        and suffix in "ABCD"
    )


UK_NINO = DetectorSpec(
    name="UK_NINO",
    pattern=r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?:\d{6}|(?: \d{2}){3} ?)[A-D]\b",
    validator=is_uk_nino,
    context=("nino", "national insurance", "ni number"),
    description="UK National Insurance number.",
    examples=("NI number: AB 12 34 56 C", "nino=JG103759A"),
)

DETECTORS: tuple[DetectorSpec, ...] = (UK_NINO,)
