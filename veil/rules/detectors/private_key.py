"""PRIVATE_KEY: PEM/OpenSSH/PGP private key blocks.

Matches ``-----BEGIN [ALG ]PRIVATE KEY-----`` through the matching kind of END
line, across lines (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... KEY BLOCK). A
block whose END line is missing (truncated log line, cut-off body) is still
reported from the BEGIN line through the base64 body that follows, failing
closed. Public keys and certificates are not matched.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_KIND = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"

PRIVATE_KEY = DetectorSpec(
    name="PRIVATE_KEY",
    pattern=(
        rf"-----BEGIN {_KIND}-----(?:(?s:.)*?-----END {_KIND}-----"
        r"|[A-Za-z0-9+/=\s\\:,\-]*)"
    ),
    context=("key", "private key", "pem"),
    description="PEM-style private key block (multi-line).",
    examples=(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (PRIVATE_KEY,)
