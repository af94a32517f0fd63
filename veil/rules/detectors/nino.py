"""UK_NINO: UK National Insurance numbers (``AB123456C``, ``AB 12 34 56 C``, ``ab123456c``).

Compact in any case, spaced (``AB 12 34 56 C``, ``AB 123456 C``) in upper case;
a spaced lower-case form counts only with context. The prefix
follows HMRC allocation rules: first letter not D, F, I, Q, U, V; second not
D, F, I, O, Q, U, V; and not BG, GB, KN, NK, NT, TN or ZZ (administrative or
temporary). The suffix is A-D. Without its suffix letter (``AB123456``, as
some forms print it) a number counts only with ``NINO``/``national
insurance``/``NI number`` nearby or as the field name (``with_context``).
"""

from __future__ import annotations

from veil.rules.detectors._common import OUTPUT_SHAPED_DIGIT
from veil.rules.detectors.base import DetectorSpec

_BAD_FIRST = frozenset("DFIQUV")
_BAD_SECOND = frozenset("DFIOQUV")
_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _prefix_and_digits_valid(compact: str) -> bool:
    prefix, digits = compact[:2], compact[2:8]
    return (
        prefix.isalpha()
        and prefix[0] not in _BAD_FIRST
        and prefix[1] not in _BAD_SECOND
        and prefix not in _BAD_PREFIXES
        and digits.isdigit()
    )


def _compact(candidate: str) -> str:
    compact = candidate.replace(" ", "").upper()
    return compact if compact.isascii() else ""


def is_uk_nino(candidate: str) -> bool:
    """Two allowed prefix letters, six digits, suffix A-D; spaces and case ignored."""
    compact = _compact(candidate)
    return len(compact) == 9 and _prefix_and_digits_valid(compact) and compact[8] in "ABCD"


def _is_written_nino(candidate: str) -> bool:
    # Lower case only compact: "at 123456 a" or "ok 12 34 56 c" in prose are words and numbers.
    return is_uk_nino(candidate) and (" " not in candidate or not any(ch.islower() for ch in candidate))


def _is_nino_in_context(candidate: str) -> bool:
    """Any valid number, and one without its suffix letter: with a NINO word nearby."""
    compact = _compact(candidate)
    return is_uk_nino(candidate) or (len(compact) == 8 and _prefix_and_digits_valid(compact))


_NUMBER = r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?(?:\d{6}|\d{2} \d{2} \d{2})(?: ?[A-D])?"

UK_NINO = DetectorSpec(
    name="UK_NINO",
    family="identifier",
    # A value group per form (issue #15): upper case may touch '_' or lower case on either side
    # (``tok_A_k1_AB123456C``, ``AB123456C_k1``, ``xAB123456Ctok_...``) and follow veil-shaped text ending
    # in a digit (``hash_..._c0AB 12 34 56 C``); a longer upper-case or digit run never (``XAB123456C``);
    # other case wants no word character around it, as ids glue lower case to '_' (``ord_ab123456c``).
    pattern=(
        rf"(?:(?:^|[^A-Z0-9])(?P<value>{_NUMBER})(?:[^A-Z0-9]|$)"
        rf"|(?:^|[^A-Za-z0-9_])(?P<value_any_case>(?i:{_NUMBER}))(?:[^A-Za-z0-9_]|$)"
        rf"|{OUTPUT_SHAPED_DIGIT}(?P<value_after_output>{_NUMBER})(?:[^A-Z0-9]|$))"
    ),
    validator=_is_written_nino,
    with_context=_is_nino_in_context,
    context=("nino", "national insurance", "national insurance number", "ni number", "ni no"),
    description="UK National Insurance number, any case; without its suffix letter only with context.",
    examples=("NI number: AB 12 34 56 C", "nino=JG103759A", "ni no jg103759a", "NINO: AB123456"),
)

DETECTORS: tuple[DetectorSpec, ...] = (UK_NINO,)
