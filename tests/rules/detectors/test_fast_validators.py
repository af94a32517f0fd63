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
from stdnum.us import ssn as stdnum_ssn

from veil.rules.detectors._common import luhn_valid, strip_separators
from veil.rules.detectors.ip import is_ip_address
from veil.rules.detectors.ssn import _valid_digits, digits_of, is_us_ssn


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


def _ssn_by_stdnum(candidate: str) -> bool:
    digits = digits_of(candidate)
    return bool(digits) and bool(stdnum_ssn.is_valid(digits))


# Every rule stdnum applies, each on the edge and one step away from it.
SSN_EDGES = [
    "536221847", "000221847", "001221847", "665221847", "666221847", "667221847", "899221847", "900221847",
    "999221847", "536001847", "536011847", "536220000", "536220001", "536229999",
    "078051120", "078051121", "078051119", "457555462", "457555463", "219099999", "219099998", "219089999",
]


@pytest.mark.parametrize("digits", SSN_EDGES)
def test_ssn_fast_verdict_is_stdnums_on_its_edges(digits: str) -> None:
    assert _valid_digits(digits) == bool(stdnum_ssn.is_valid(digits))


def test_the_stdnum_blacklist_is_read_and_refused() -> None:
    table = stdnum_ssn._ssn_blacklist  # the library's own table, which the fast path reads
    assert table
    for formatted in table:
        assert not _valid_digits(formatted.replace("-", ""))


@given(
    st.sampled_from(["000", "001", "078", "219", "457", "536", "665", "666", "667", "899", "900", "999"])
    | st.text(alphabet="0123456789", min_size=3, max_size=3),
    st.sampled_from(["00", "01", "05", "09", "55", "99"]) | st.text(alphabet="0123456789", min_size=2, max_size=2),
    st.sampled_from(["0000", "0001", "1120", "5462", "9999"]) | st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.sampled_from(["", "-", ".", " "]),
)
def test_ssn_agrees_with_stdnum(area: str, group: str, serial: str, separator: str) -> None:
    candidate = separator.join((area, group, serial))
    assert is_us_ssn(candidate) == _ssn_by_stdnum(candidate)


@pytest.mark.parametrize("candidate", ["536-22-1847", "536 22 1847", "536.22.1847", "536-22-18470", "5362-2-1847", "536-22-184٧", ""])
def test_ssn_near_misses_agree_with_stdnum(candidate: str) -> None:
    assert is_us_ssn(candidate) == _ssn_by_stdnum(candidate)
