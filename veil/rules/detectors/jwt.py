"""JWT: JSON Web Tokens, signed (JWS compact form, 3 parts) or encrypted (JWE, 5 parts).

The header is base64url JSON: ``eyJ`` when it starts ``{"`` (whatever the key
order: ``eyJhbGci``, ``eyJ0eXAi``, ``eyJraWQi``...), ``eyAi`` when it starts
``{ "``, and ``ew0K``/``ewo`` when a pretty-printing encoder starts it with a
newline; the last three must name an ``alg`` (RFC 7515/7516 require one).
Segments may carry ``=`` padding, which some encoders leave in. All parts of a
JWS are required and non-empty, so an unsigned ``alg: none`` token (empty
signature) is not detected; a JWE's encrypted-key part may be empty (``dir``).
"""

from __future__ import annotations

import base64
import binascii
import json

from veil.rules.detectors.base import DetectorSpec

_SEG = r"[A-Za-z0-9_\-]+=*"
# After the header's first characters: the rest of the header, then a JWS's or a JWE's parts.
_REST = (
    r"[A-Za-z0-9_\-]{3,}=*\."
    rf"(?:[A-Za-z0-9_\-]*=*\.{_SEG}\.{_SEG}\.{_SEG}|[A-Za-z0-9_\-]{{2,}}=*\.{_SEG})"
)


def _header(segment: str) -> object:
    raw = segment.rstrip("=")
    try:
        return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8"))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def is_jwt(candidate: str) -> bool:
    """3 non-empty parts (or 5, the second may be empty) whose first base64url-decodes to a JSON object."""
    parts = candidate.split(".")
    if len(parts) == 3:
        if not all(parts):
            return False
    elif len(parts) != 5 or not (parts[0] and all(parts[2:])):
        return False
    header = _header(parts[0])
    if not isinstance(header, dict):
        return False
    return candidate.startswith("eyJ") or "alg" in header


JWT = DetectorSpec(
    name="JWT",
    family="secret",
    pattern=(
        # ``eyJ`` may follow anything, a word too (``tok_A_k1_eyJ...``, ``xeyJ...``): the header must
        # decode from there, which a run of text that merely holds those letters never does. The
        # rarer headers want no letter or digit before (``ewo`` is inside English: ``framework.``).
        rf"(?:(?P<value>eyJ{_REST})|(?:^|[^A-Za-z0-9])(?P<value_pretty>e(?:yAi|w0K|wo){_REST}))"
    ),
    validator=is_jwt,
    context=("jwt", "token", "authorization", "id_token", "access_token"),
    description="JSON Web Token (JWS or JWE) whose header decodes to a JSON object.",
    examples=(
        "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (JWT,)
