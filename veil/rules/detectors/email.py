"""EMAIL: RFC 5321/6531-shaped addresses with a dotted ASCII domain.

The local part may use Latin (accented too), Greek and Cyrillic letters
(``josé.luis@...``, ``иван@...``). Any other character ends it, which is what
finds ``jane@example.com`` inside unspaced CJK text such as
``連絡先はjane@example.comです``. The top-level label must be 2+ letters and end
at a word boundary, so ``user@host`` (no TLD) and ``a@b.c0m`` do not match.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_LOCAL_CHAR = r"[\p{Latin}\p{Greek}\p{Cyrillic}\p{Nd}_%+\-]"
_LOCAL = rf"{_LOCAL_CHAR}(?:{_LOCAL_CHAR}|\.{_LOCAL_CHAR})*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"

EMAIL = DetectorSpec(
    name="EMAIL",
    # Leading boundary: not preceded by a local-part character, so the whole
    # local part is reported, never a tail of it.
    pattern=rf"(?:^|[^\p{{Latin}}\p{{Greek}}\p{{Cyrillic}}\p{{Nd}}_%+.\-])(?P<value>{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}})\b",
    # The domain's first label and its dot, ASCII only: the Unicode classes of the
    # local part make the events pass's automaton larger, and slower once evicted from the cache.
    trigger=r"@[A-Za-z0-9][A-Za-z0-9\-]{0,62}\.",
    context=("email", "e mail", "mail"),
    description="Email address (ASCII local part, domain with a letter TLD).",
    examples=("contact: jane.doe+news@example.co.uk", "José: jose@exemplo.com.br"),
)

DETECTORS: tuple[DetectorSpec, ...] = (EMAIL,)
