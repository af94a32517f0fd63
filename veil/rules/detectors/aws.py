"""AWS_ACCESS_KEY and AWS_SECRET_KEY.

Access key ids are distinctive (``AKIA``/``ASIA``/... + 16 upper-case
alphanumerics) and need no context, glued to '_' or lower case on either side
too. Secret keys are 40 base64-ish characters
with nothing distinctive, so AWS_SECRET_KEY requires a context word that says
*secret* (``secret``, ``secret_access_key``, ``SecretAccessKey``...) before it or
in the field name: the bare word ``aws`` is not enough (``aws s3 ls
s3://bucket/Reports/2024/...`` holds 40 such characters and no secret). The
value must also stand alone (not after ``-``, ``.``, ``_`` or ``:`` as inside a
bucket name, host or ARN), mix upper case, lower case and digits (a 40-char
hex SHA-1 never passes) and not read as a path of plain words
(``acme/Reports/2024/Q1/...``). A longer base64 run is one candidate and fails
the length check.
"""

from __future__ import annotations

import re

from veil.rules.detectors._common import OUTPUT_SHAPED_DIGIT
from veil.rules.detectors.base import DetectorSpec

_ACCESS_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA")
_ACCESS_KEY = re.compile(rf"(?:{'|'.join(_ACCESS_PREFIXES)})[A-Z0-9]{{16}}")
_PLAIN_SEGMENT = re.compile(r"[A-Z]?[a-z]+[0-9]*|[0-9]+|[A-Z]+[0-9]*|[A-Z][0-9]+")


def is_aws_access_key(candidate: str) -> bool:
    """An access key id: a known prefix and 16 upper-case alphanumerics, nothing else."""
    return _ACCESS_KEY.fullmatch(candidate) is not None


def is_aws_secret_key(candidate: str) -> bool:
    """Exactly 40 chars of [A-Za-z0-9/+] with upper, lower and digit present, not a path of words."""
    if len(candidate) != 40 or not candidate.isascii():
        return False
    mixed = (
        any(c.isupper() for c in candidate)
        and any(c.islower() for c in candidate)
        and any(c.isdigit() for c in candidate)
    )
    if not mixed:
        return False
    segments = candidate.split("/")
    # A key has a '/' about once in 64 characters, anywhere; a path has plain words between them.
    return not (len(segments) >= 3 and all(_PLAIN_SEGMENT.fullmatch(s) for s in segments if s))


_ACCESS_ID = rf"(?:{'|'.join(_ACCESS_PREFIXES)})[A-Z0-9]{{16}}"

AWS_ACCESS_KEY = DetectorSpec(
    name="AWS_ACCESS_KEY",
    family="secret",
    # Any character outside [A-Z0-9] on either side, '_' and lower case too (``tok_A_k1_AKIA...``,
    # ``AKIA..._k1``, ``keyAKIA...``): the prefix and the upper-case run decide where the id starts
    # and ends. A longer upper-case run on either side is no id (``MY_AKIA...2``, ``XAKIA...``).
    # After veil-shaped text ending in a digit too (``hash_..._c0AKIA...``): a branch of its own.
    pattern=(
        rf"(?:(?:^|[^A-Z0-9])(?P<value>{_ACCESS_ID})(?:[^A-Z0-9]|$)"
        rf"|{OUTPUT_SHAPED_DIGIT}(?P<value_after_output>{_ACCESS_ID})(?:[^A-Z0-9]|$))"
    ),
    context=("aws", "access key", "access_key_id"),
    description="AWS access key id (AKIA/ASIA/... + 16 characters).",
    examples=("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"),
)

AWS_SECRET_KEY = DetectorSpec(
    name="AWS_SECRET_KEY",
    family="secret",
    pattern=r"(?:^|[^A-Za-z0-9/+_.:\-])(?P<value>[A-Za-z0-9/+]{40,})",
    validator=is_aws_secret_key,
    context=("secret", "secret key", "secret_access_key", "aws_secret_access_key"),
    context_required=True,
    context_window=64,
    description="AWS secret access key; only reported near a 'secret' context word.",
    examples=("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",),
)

DETECTORS: tuple[DetectorSpec, ...] = (AWS_ACCESS_KEY, AWS_SECRET_KEY)
