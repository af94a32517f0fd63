"""PRIVATE_KEY: multi-line PEM blocks, including truncated ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


def pem(kind: str, body: str = "MIIEowIBAAKCAQEA7\nQWxhZGRpbjpvcGVu") -> str:
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key:\n{pem('RSA PRIVATE KEY')}\nnext", [pem("RSA PRIVATE KEY")]),  # RSA, text around
        (pem("PRIVATE KEY"), [pem("PRIVATE KEY")]),  # PKCS#8
        (pem("ENCRYPTED PRIVATE KEY"), [pem("ENCRYPTED PRIVATE KEY")]),  # encrypted PKCS#8
        (pem("EC PRIVATE KEY"), [pem("EC PRIVATE KEY")]),  # EC
        (pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA"), [pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA")]),  # OpenSSH
        (pem("PGP PRIVATE KEY BLOCK"), [pem("PGP PRIVATE KEY BLOCK")]),  # PGP armor
        (pem("RSA PRIVATE KEY").replace("\n", "\\n"), [pem("RSA PRIVATE KEY").replace("\n", "\\n")]),  # JSON-escaped newlines
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow", ["-----BEGIN RSA PRIVATE KEY-----\nMIIEow"]),  # truncated: fail closed
        (pem("PRIVATE KEY") + " " + pem("EC PRIVATE KEY"), [pem("PRIVATE KEY"), pem("EC PRIVATE KEY")]),  # two blocks
    ],
)
def test_private_key_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("PRIVATE_KEY", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pem("PUBLIC KEY"),  # public key
        pem("CERTIFICATE"),  # certificate
        pem("RSA PUBLIC KEY"),  # RSA public key
        "BEGIN RSA PRIVATE KEY",  # no dashes
        "rotate the private key monthly",  # prose
        "-----BEGIN rsa private key-----",  # lower case
    ],
)
def test_private_key_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("PRIVATE_KEY", text) == []
