"""PRIVATE_KEY: PEM/OpenSSH/PGP private key blocks that hold a key.

Matches ``-----BEGIN [ALG ]PRIVATE KEY-----`` through the matching kind of END
line, across lines (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... KEY BLOCK), with
real or JSON-escaped (``\\n``) line breaks. The block must hold key material:
at least 16 base64 characters right after the BEGIN line (past blank lines and
RFC 1421/OpenPGP armor headers such as ``Proc-Type:``, ``DEK-Info:``,
``Version:``), so a BEGIN line on its own or around ``...`` in documentation is
not a key. A block whose END line is missing (truncated log line, cut-off body)
is still reported from the BEGIN line through the base64 body that follows,
failing closed. Public keys and certificates are not matched.
"""

from __future__ import annotations

from veil.rules.detectors.base import DetectorSpec

_KIND = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_BREAKS = r"(?:\s|\\r|\\n|[A-Za-z][A-Za-z0-9\-]*: [^\r\n\\]*)*"  # blank lines, escaped breaks, armor headers

PRIVATE_KEY = DetectorSpec(
    name="PRIVATE_KEY",
    family="secret",
    pattern=(
        rf"-----BEGIN {_KIND}-----{_BREAKS}[A-Za-z0-9+/]{{16}}"
        rf"(?:(?s:.)*?-----END {_KIND}-----|[A-Za-z0-9+/=\s\\:,\-]*)"
    ),
    context=("key", "private key", "pem"),
    description="PEM-style private key block with key material (multi-line).",
    examples=(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7xQ2\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (PRIVATE_KEY,)
