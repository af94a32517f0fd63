"""MAC_ADDRESS: three notations, consistent separators, no longer runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ether 00:1a:2b:3c:4d:5e", ["00:1a:2b:3c:4d:5e"]),  # colons
        ("MAC 00-1A-2B-3C-4D-5E", ["00-1A-2B-3C-4D-5E"]),  # dashes, upper case
        ("hw 001a.2b3c.4d5e", ["001a.2b3c.4d5e"]),  # Cisco dotted
        ("mac=AA:BB:CC:DD:EE:01.", ["AA:BB:CC:DD:EE:01"]),  # sentence dot after
        ('{"mac":"de:ad:be:ef:00:01"}', ["de:ad:be:ef:00:01"]),  # JSON
        ("x 02:42:ac:11:00:02 y 02:42:ac:11:00:03", ["02:42:ac:11:00:02", "02:42:ac:11:00:03"]),  # two
    ],
)
def test_mac_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("MAC_ADDRESS", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "00:00:00:00:00:00",  # all zero
        "ff:ff:ff:ff:ff:ff",  # broadcast
        "00:1a:2b:3c:4d",  # five groups
        "00:1a:2b:3c:4d:5e:6f:70",  # EUI-64, longer run
        "00:1a-2b:3c:4d:5e",  # mixed separators
        "0g:1a:2b:3c:4d:5e",  # not hex
        "2001:db8:0:1a:2b:3c:4d:5e",  # tail of an IPv6 address
        "001a.2b3c.4d5e.6f70",  # four dotted groups
    ],
)
def test_mac_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("MAC_ADDRESS", text) == []
