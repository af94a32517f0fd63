"""EMAIL: RFC 5321-shaped addresses with an ASCII local part and a dotted domain.

The top-level label must be 2+ letters and end at a word boundary, so
``user@host`` (no TLD) and ``a@b.c0m`` do not match. Internationalized local
parts (``josé@...``) are not detected; the ASCII tail after the accent is not
reported either, since the match must extend back to a non-local character.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_LOCAL = r"[A-Za-z0-9_%+\-](?:[A-Za-z0-9_%+\-]|\.[A-Za-z0-9_%+\-])*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"

EMAIL = DetectorSpec(
    name="EMAIL",
    # Leading boundary: not preceded by a local-part character or an accent
    # (a UTF-8 lead byte would otherwise let "josé@x.com" report "@x.com"-ish tails).
    pattern=rf"(?:^|[^A-Za-z0-9_%+.\-\x{{80}}-\x{{10FFFF}}])(?P<value>{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}})\b",
    context=("email", "e mail", "mail"),
    description="Email address (ASCII local part, domain with a letter TLD).",
    examples=("contact: jane.doe+news@example.co.uk", "José: jose@exemplo.com.br"),
)

DETECTORS: tuple[DetectorSpec, ...] = (EMAIL,)
