"""BEARER_TOKEN: the credential after the word ``Bearer`` (any case).

Only the token is reported (``value`` group), so ``Authorization: Bearer``
survives redaction. The token is an RFC 6750 ``b64token`` not ending in '.';
to keep prose ("the bearer of this letter") out, it must be 8+ characters with
a digit, or 20+ characters mixing upper and lower case. A JWT after ``Bearer``
(the usual case in JSON ``"Authorization": "Bearer eyJ..."`` values) is left to
the JWT detector, so it is reported as a JWT; a template (``${TOKEN}``,
``<token>``, ``{{token}}``) never matches.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.jwt import is_jwt


def is_bearer_token(candidate: str) -> bool:
    """8+ chars with a digit, or 20+ chars with both upper and lower case; not a JWT."""
    if len(candidate) < 8 or (candidate.startswith("e") and is_jwt(candidate)):
        return False
    if any(c.isdigit() for c in candidate):
        return True
    return len(candidate) >= 20 and any(c.isupper() for c in candidate) and any(c.islower() for c in candidate)


_TOKEN = r"[A-Za-z0-9\-._~+/]*[A-Za-z0-9\-_~+/]=*"
"""An RFC 6750 ``b64token`` not ending in '.'."""

BEARER_TOKEN = DetectorSpec(
    name="BEARER_TOKEN",
    family="secret",
    # No letter or digit before the word, but '_' may be (issue #15: ``tok_A_k1_b_Bearer ...``), in a
    # branch of its own: a consumed ``(?:^|[^0-9A-Za-z])`` would start the scan's candidate at the
    # newline before every header value that begins with the word, one more decision each.
    pattern=rf"(?:\bbearer[ \t]+(?P<value>{_TOKEN})|[_]bearer[ \t]+(?P<value_after_underscore>{_TOKEN}))",
    validator=is_bearer_token,
    case_insensitive=True,
    context=("authorization", "auth", "token"),
    description="Token following 'Bearer' (the word itself is kept).",
    examples=("Authorization: Bearer 9f8e7d6c5b4a3210abcdef", "authorization: bearer abc.def-123_XYZ"),
)

DETECTORS: tuple[DetectorSpec, ...] = (BEARER_TOKEN,)
