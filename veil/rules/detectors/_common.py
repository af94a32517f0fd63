"""Pattern fragments and small helpers shared by the built-in detectors.

RE2 has no look-behind, so "not preceded by X" is written as a consumed
boundary: ``(?:^|[^X])`` in front of a ``(?P<value>...)`` group. RE2 only
matches ``^`` at the true start of the text (not at the ``pos`` a search
resumes from), so the boundary really means "the character before the value is
not X", which is what keeps a detector from firing inside a longer run of
digits, dotted numbers or identifier characters.
"""

from __future__ import annotations

# Before a number-like value: not a word character, '.', '-' or '+'
# (so no match inside 1234567890123456789, 3.14159..., or 12-4111-...).
LEAD_NUMBER = r"(?:^|[^0-9A-Za-z_.+\-])"

# Before a number that is sensitive wherever it appears, even glued to a name (a card):
# not a digit, '.', '-' or '+' (so still no match inside a longer digit run, a decimal,
# a dashed or signed number), but letters and '_' may come first: ids and keys glue
# numbers to words (``pan_4111...``, ``x_4111...``, ``receipt_4111....pdf``). Not a hex letter
# either: hex digests and session tokens hold long digit runs (``...dcf3a7514f4f5299...``), and a
# Luhn-valid one in a token broke logins under builtin:app (about one hex token in a hundred).
# Numbers written with separators may follow a hex letter in a branch of their own, ended by
# TRAIL_NOT_HEX (hashes glue them: ``hash_0a1b4111 1111 ...``; UUIDs hold digit groups between hex).
LEAD_DIGITS = r"(?:^|[^0-9A-Fa-f.+\-])"

# After a number that is sensitive wherever it appears, even with a word glued after it
# (``4111...abc``, ``x_4111..._y``, ``4111..._exp``): not a digit, so a longer digit run is
# still one candidate, judged whole. RE2 has no look-ahead, so the character is consumed;
# ``matching`` trims it from the value's span and resumes the scan at the value's end (it may
# lead the next value). The value must end with a digit.
TRAIL_DIGITS = r"(?:[^0-9]|$)"

# A word shaped like veil's own outputs (``hash_<TYPE>_<hex>``, ``tok_``/``vtok_<TYPE>_<key>_<base32>``)
# ending in a digit, and maybe '.', '-' or '/': a number written with separators may follow it
# glued (``hash_..._c0`` then ``4111 1111 ...``), as may an upper-case id or IBAN. Anywhere else a digit before a number makes one longer number; these words
# are what the property glues values to, and a written number's groups say where it
# starts (RE2 gives the word back one character at a time until the number's shape fits).
OUTPUT_ENDING_IN_DIGIT = r"(?:hash|v?tok)_[A-Za-z0-9_]*[0-9]"
OUTPUT_SHAPED_DIGIT = rf"{OUTPUT_ENDING_IN_DIGIT}[.\-/]?"

# A '.' or '-' no digit precedes, before a number written with separators (``No.4111 1111 ...``,
# ``x-212-555-0143``): after a digit it makes one longer dotted or dashed number (``1.4111 ...``,
# ``2024-01-15``). Two characters: the number's branch is not in the fast form, which costs only
# where it matches (as a lead in a trigger it must stay this narrow: ISO dates are everywhere).
SEPARATOR_LED = r"(?:^|[^0-9])[.\-]"

# A ``not_after`` for numbers '-' may lead: not four hex digits before it, a UUID's dashed groups
# (``...a716-4466-...``; ``card-4111 ...`` is no hex).
UUID_GROUP_BEFORE = r"[0-9A-Fa-f]{4}-"

# After a number a hex letter led: neither a hex digit nor '-' and a hex digit, so the digit groups
# of a UUID (``f86668c1-6d05-4818-9450-085b63a029a5``) are no value; nor '.' or '/' and a digit,
# which keeps a swallowed ``.digits`` tail from being given back (RE2 would settle for a shorter
# value, as it would for the UUID's ``05-4818-9450``). Only in a branch with a value group of its
# own: the edge may be two characters, and the scan resumes at the value's end.
TRAIL_NOT_HEX = r"(?:[^0-9A-Fa-f.\-/]|-[^0-9A-Fa-f]|[./][^0-9]|[.\-/]?$)"

MONTHS = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
)  # fmt: skip


def strip_separators(text: str, separators: str = " -") -> str:
    """``text`` without any of ``separators`` (used before checksum validation)."""
    for separator in separators:
        text = text.replace(separator, "")
    return text


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # the digit sum of 2 * d


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of ``digits`` (ASCII digits only: callers check) is 0: the verdict
    of ``stdnum.luhn.is_valid`` for such a string, in a third of its time."""
    if not digits:
        return False
    total = 0
    doubled = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        total += _DOUBLED[d] if doubled else d
        doubled = not doubled
    return total % 10 == 0


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits only (``str.isdigit`` also takes '²')."""
    return text.isascii() and text.isdigit()


USPS_RUN = r"(?:^|[^0-9A-Za-z_])9[2-5][0-9]{2}[ \-](?:[0-9]{4}[ \-])*"
"""What precedes a number inside a grouped USPS tracking number (IMpb: 20-22 digits starting
92-95, printed in groups of four): a ``not_after`` for cards and phones. Only those prefixes:
any 9xxx group before a card would let "9999 4111 1111 1111 1111" hide it. And only as a word of
its own: the tail of a hex token or hash (``hash_EMAIL_000a9200 4111 1111 1111 1111``) is none."""
