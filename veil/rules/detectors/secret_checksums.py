"""Checksums some token formats carry, and the entropy measures the secret detectors share.

A checksum turns "looks like a token" into "was minted as a token": GitHub's
and npm's tokens end in the CRC32 of their random part written in base62, and
``age`` secret keys are bech32 strings. Checking it costs a microsecond and
removes the chance that a random identifier of the right length is redacted.
"""

from __future__ import annotations

import binascii
import math
from collections import Counter

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# npm says only "our Base62 implementation"; Go's big.Int writes digits, then lower, then upper case.
BASE62_LOWER_FIRST = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def base62(number: int, width: int, alphabet: str = BASE62) -> str:
    """``number`` in base62, left-padded with the alphabet's zero to ``width`` characters."""
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(alphabet[rest])
    return "".join(reversed(digits)).rjust(width, alphabet[0])


def crc32_base62_tail(token: str, prefix_length: int, alphabets: tuple[str, ...] = (BASE62,)) -> bool:
    """The last 6 characters are the CRC32 of the characters between the prefix and them.

    This is GitHub's format (github.blog, "Behind GitHub's new authentication
    token formats", 2021-04-05: 30 random base62 characters, then their CRC32 in
    6 base62 characters), also used by npm's ``npm_`` tokens (github.blog,
    "Announcing npm's new access token format", 2021-09-23).
    """
    random_part, tail = token[prefix_length:-6], token[-6:]
    if not random_part.isascii() or not random_part.isalnum():
        return False
    checksum = binascii.crc32(random_part.encode("ascii"))
    return any(base62(checksum, 6, alphabet) == tail for alphabet in alphabets)


BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_BECH32_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _bech32_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_valid(text: str) -> bool:
    """A BIP-173 bech32 string (either case, not mixed) whose 6-character checksum holds."""
    if text.lower() != text and text.upper() != text:
        return False
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 1 or separator + 7 > len(lowered):
        return False
    hrp, data = lowered[:separator], lowered[separator + 1 :]
    if any(c not in BECH32_CHARSET for c in data):
        return False
    return _bech32_polymod(_bech32_expand(hrp) + [BECH32_CHARSET.index(c) for c in data]) == 1


def bech32_checksum(hrp: str, data: list[int]) -> str:
    """The 6 checksum characters of ``data`` (5-bit values) under ``hrp``: for generating examples."""
    polymod = _bech32_polymod(_bech32_expand(hrp) + data + [0] * 6) ^ 1
    return "".join(BECH32_CHARSET[(polymod >> 5 * (5 - i)) & 31] for i in range(6))


def shannon_entropy(text: str) -> float:
    """Shannon entropy of ``text``'s characters, in bits per character (0.0 for an empty text)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())
