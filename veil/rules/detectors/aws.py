"""AWS_ACCESS_KEY and AWS_SECRET_KEY.

Access key ids are distinctive (``AKIA``/``ASIA``/... + 16 upper-case
alphanumerics) and need no context. Secret keys are 40 base64-ish characters
with nothing distinctive, so AWS_SECRET_KEY requires a context word (``aws``,
``secret``, ``secret_access_key``...) before it or in the field name, and the
value must mix upper case, lower case and digits (a 40-char hex SHA-1 never
passes). A longer base64 run is one candidate and fails the length check.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_ACCESS_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA")


def is_aws_secret_key(candidate: str) -> bool:
    """Exactly 40 chars of [A-Za-z0-9/+] with upper, lower and digit present."""
    if len(candidate) != 40 or not candidate.isascii():
        return False
    return (
        any(c.isupper() for c in candidate)
        and any(c.islower() for c in candidate)
        and any(c.isdigit() for c in candidate)
    )


AWS_ACCESS_KEY = DetectorSpec(
    name="AWS_ACCESS_KEY",
    pattern=rf"\b(?:{'|'.join(_ACCESS_PREFIXES)})[A-Z0-9]{{16}}\b",
    context=("aws", "access key", "access_key_id"),
    description="AWS access key id (AKIA/ASIA/... + 16 characters).",
    examples=("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"),
)

AWS_SECRET_KEY = DetectorSpec(
    name="AWS_SECRET_KEY",
    pattern=r"(?:^|[^A-Za-z0-9/+])(?P<value>[A-Za-z0-9/+]{40,})",
    validator=is_aws_secret_key,
    context=("aws", "secret", "secret key", "secret_access_key", "aws_secret_access_key"),
    context_required=True,
    context_window=64,
    description="AWS secret access key; only reported near an AWS/secret context word.",
    examples=("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",),
)

DETECTORS: tuple[DetectorSpec, ...] = (AWS_ACCESS_KEY, AWS_SECRET_KEY)
