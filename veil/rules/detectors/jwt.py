"""JWT: JSON Web Tokens (JWS compact form: header.payload.signature).

The header must start with ``eyJ`` (base64url of ``{"``) and decode to a JSON
object. All three segments are required and non-empty, so an unsigned
``alg: none`` token (empty signature) is not detected.
"""

from __future__ import annotations

import base64
import binascii
import json

from veil.rules.detectors.base import DetectorSpec


def is_jwt(candidate: str) -> bool:
    """Three dot-separated segments whose first base64url-decodes to a JSON object."""
    parts = candidate.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    header = parts[0]
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        decoded = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False
    return isinstance(decoded, dict)


JWT = DetectorSpec(
    name="JWT",
    pattern=r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]+",
    validator=is_jwt,
    context=("jwt", "token", "authorization", "id_token", "access_token"),
    description="JSON Web Token whose header decodes to a JSON object.",
    examples=(
        "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (JWT,)
