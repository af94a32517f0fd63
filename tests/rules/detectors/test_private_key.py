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
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7", ["-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7"]),  # truncated: fail closed
        (json_escaped := pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA").replace("\n", "\\n"), [json_escaped]),  # escaped in JSON text
        (pem("PRIVATE KEY", "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"), [pem("PRIVATE KEY", "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n")]),  # blank lines
        (enc := pem("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\nMIIEowIBAAKCAQEA7"), [enc]),  # legacy encrypted headers
        (pgp := pem("PGP PRIVATE KEY BLOCK", "Version: GnuPG v2\n\nlQOYBF0wXlQBCADb3Hq2"), [pgp]),  # PGP armor header
        (dsa := pem("DSA PRIVATE KEY"), [dsa]),  # DSA
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
        "-----BEGIN RSA PRIVATE KEY-----",  # header line alone, as in docs
        "Paste your key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----",  # docs with '...'
        pem("RSA PRIVATE KEY", "MIIEow..."),  # docs: a few characters then '...'
        pem("EC PRIVATE KEY", "<your key here>"),  # docs: placeholder
        '"-----BEGIN PRIVATE KEY-----\\n-----END PRIVATE KEY-----\\n"',  # empty block, JSON-escaped
    ],
)
def test_private_key_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("PRIVATE_KEY", text) == []
