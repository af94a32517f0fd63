"""EMAIL: RFC 5321/6531-shaped addresses with a dotted domain, internationalized or not.

The local part may use Latin (accented too), Greek and Cyrillic letters
(``josé.luis@...``, ``иван@...``). Any other character ends it, which is what
finds ``jane@example.com`` inside unspaced CJK text such as
``連絡先はjane@example.comです``. The top-level label must be 2+ letters and end
where no letter follows ('_', '-' or a digit may: ``jane@example.com_2024``), so
``user@host`` (no TLD) and ``a@b.c0m`` (one letter before the digit) do not match.
Domains may be IDNs (``jane@bücher.de``, ``иван@пример.рф``) or punycode.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_LOCAL_CHAR = r"[\p{Latin}\p{Greek}\p{Cyrillic}\p{Nd}_%+\-]"
_LOCAL = rf"{_LOCAL_CHAR}(?:{_LOCAL_CHAR}|\.{_LOCAL_CHAR})*"
# Domain labels may be internationalized (IDN, ``bücher.de``, ``пример.рф``) or their
# punycode (``xn--bcher-kva.de``); a top-level label is letters, or punycode.
# Non-ASCII label characters are any but spaces and punctuation (general, CJK, fullwidth):
# Unicode's letter classes would make the combined scan's automaton too large for RE2's DFA.
_INTL = r"[^\x00-\x7F\x{2000}-\x{206F}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]"
_LABEL_CHAR = rf"(?:[A-Za-z0-9]|{_INTL})"
_LABEL = rf"{_LABEL_CHAR}(?:(?:{_LABEL_CHAR}|-){{0,61}}{_LABEL_CHAR})?"
_TLD = rf"(?:xn--[A-Za-z0-9\-]{{1,59}}|[A-Za-z]{{2,63}}|{_INTL}{{2,63}})"
_END = r"(?:[^A-Za-z]|$)"
"""After the top-level label: what cannot continue it (a letter would be more label; a top-level
label holds no digit or '-'). '_', '-' or a digit may follow: names glue addresses to words and
numbers (``export_jane@example.com_2024.csv``, ``jane@example.comx0``: the label is ``comx``;
``jane@example.comx-y``). A '-' that starts a longer label (``jane@example.com-x.net``) is read as
one: the domain's labels are matched greedily first. A trailing edge, not ``\b``: RE2 has no look-ahead, so the character is matched and
left out of the value (:mod:`veil.rules.detectors.matching`)."""

EMAIL = DetectorSpec(
    name="EMAIL",
    family="email",
    # Leading boundary: not preceded by a local-part character, so the whole local part
    # is reported, never a tail of it. A dot counts as a boundary: a local part cannot
    # start with one or hold two in a row, so ".jane@..." and "a..jane@..." (the address
    # after the dots) would otherwise cross unseen; the leftmost match still takes a
    # whole "jane.doe@..." from its start.
    pattern=rf"(?:^|[^\p{{Latin}}\p{{Greek}}\p{{Cyrillic}}\p{{Nd}}_%+\-])(?P<value>{_LOCAL}@(?:{_LABEL}\.)+{_TLD}){_END}",
    # The domain's first label and its dot, ASCII only: the Unicode classes of the
    # local part make the events pass's automaton larger, and slower once evicted from the cache.
    # or a non-ASCII character in the first label (an IDN domain).
    trigger=r"@[A-Za-z0-9][A-Za-z0-9\-]{0,62}\.|@[A-Za-z0-9\-]{0,62}[^\x00-\x7F]",
    context=("email", "e mail", "mail"),
    description="Email address (Latin, Greek or Cyrillic local part; domain with a letter or punycode TLD, IDNs too).",
    examples=("contact: jane.doe+news@example.co.uk", "José: jose@exemplo.com.br", "mail jane@bücher.de"),
)

DETECTORS: tuple[DetectorSpec, ...] = (EMAIL,)
