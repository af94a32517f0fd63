"""Validators rewritten for speed give the libraries' verdicts, candidate for candidate.

The libraries stay the reference: ``stdnum.luhn`` for the Luhn checksum and
``ipaddress`` for IPv4. Inputs are what the detectors' patterns propose, plus
random strings of the same alphabet.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from veil.rules.detectors._common import luhn_valid, strip_separators
from veil.rules.detectors.ip import is_ip_address


@given(st.text(alphabet="0123456789", max_size=25))
def test_luhn_agrees_with_stdnum(digits: str) -> None:
    assert luhn_valid(digits) == luhn.is_valid(digits)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),  # one digit off
        ("79927398713", True),  # the textbook example
        ("0", True),
        ("5500000000000004", True),
        ("5500000000000005", False),
    ],
)
def test_luhn_examples(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@given(st.text(alphabet="0123456789 -", max_size=25))
def test_separators_are_stripped_as_before(text: str) -> None:
    assert strip_separators(text) == "".join(ch for ch in text if ch not in " -")


def _by_ipaddress(candidate: str) -> bool:
    if not candidate.isascii():
        return False
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return not (address.version == 6 and not any(ch.isdigit() for ch in candidate))


octets = st.integers(0, 999).map(str) | st.sampled_from(["0", "00", "01", "255", "256", "1000", "", "٣", "1a"])
dotted = st.lists(octets, min_size=1, max_size=6).map(".".join)


@given(dotted | st.text(alphabet="0123456789.:abcdef_x", max_size=20))
def test_ip_agrees_with_ipaddress(candidate: str) -> None:
    assert is_ip_address(candidate) == _by_ipaddress(candidate)


@pytest.mark.parametrize(
    ("candidate", "valid"),
    [
        ("192.168.10.23", True),
        ("0.0.0.0", True),
        ("255.255.255.255", True),
        ("256.1.1.1", False),
        ("01.2.3.4", False),  # a leading zero: ipaddress refuses it
        ("1.2.3", False),
        ("1.2.3.4.5", False),
        ("1.2.3.٤", False),  # a non-ASCII digit
        ("2001:db8::8a2e:370:7334", True),
        ("::ffff:192.0.2.1", True),
    ],
)
def test_ip_examples(candidate: str, valid: bool) -> None:
    assert is_ip_address(candidate) is valid
