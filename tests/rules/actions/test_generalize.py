"""The generalize action: coarser values of the same kind, redaction when impossible."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.rules.actions.generalize import Generalize

DEFAULT = Generalize()
MONTH = Generalize(date="month")


@pytest.mark.parametrize(
    ("action", "value", "entity", "expected"),
    [
        # IP addresses
        (DEFAULT, "192.168.1.77", "IP_ADDRESS", "192.168.1.0/24"),  # IPv4
        (DEFAULT, " 10.0.0.1 ", "IP", "10.0.0.0/24"),  # surrounding space
        (DEFAULT, "2001:db8:1:2::1", "IP_ADDRESS", "2001:db8:1::/48"),  # IPv6
        (DEFAULT, "fe80::1%eth0", "IPV6", "fe80::/48"),  # IPv6 with zone id
        (DEFAULT, "10.0.0.5/8", "IP_ADDRESS", "10.0.0.0/8"),  # coarser network kept
        (Generalize(ipv4_prefix=16), "172.16.5.4", "IP_ADDRESS", "172.16.0.0/16"),
        (DEFAULT, "192.168.1.0/24", "IP_ADDRESS", "192.168.1.0/24"),  # already generalized
        (DEFAULT, "999.1.1.1", "IP_ADDRESS", "[REDACTED:IP_ADDRESS]"),  # not an address
        # emails
        (DEFAULT, "jane@Example.COM", "EMAIL", "example.com"),  # domain, lower-cased
        (DEFAULT, "a.b+tag@mail.example.co.uk", "EMAIL", "mail.example.co.uk"),  # subdomains
        (DEFAULT, "josé@bücher.de", "EMAIL", "bücher.de"),  # non-ASCII
        (DEFAULT, "example.com", "EMAIL", "example.com"),  # already generalized
        (DEFAULT, "@example.com", "EMAIL", "[REDACTED:EMAIL]"),  # no local part
        (DEFAULT, "jane@localhost", "EMAIL", "[REDACTED:EMAIL]"),  # single-label domain
        (DEFAULT, "not an email", "EMAIL", "[REDACTED:EMAIL]"),
        # dates
        (DEFAULT, "1990-01-02", "DATE_OF_BIRTH", "1990"),  # ISO
        (MONTH, "1990-01-02", "DATE_OF_BIRTH", "1990-01"),  # ISO, month precision
        (MONTH, "1990-01-02T10:20:30Z", "DATE", "1990-01"),  # ISO date-time
        (MONTH, "1990/1/2", "DOB", "1990-01"),  # slashes, no zero padding
        (MONTH, "19900102", "BIRTH_DATE", "1990-01"),  # compact
        (MONTH, "02/01/1990", "DOB", "1990-01"),  # day first by default
        (MONTH, "01/13/1990", "DOB", "1990-01"),  # month first when only that makes sense
        (MONTH, "25.12.1990", "DOB", "1990-12"),  # dots
        (MONTH, "2nd Jan 1990", "DOB", "1990-01"),  # day month year
        (MONTH, "January 2, 1990", "DOB", "1990-01"),  # month day, year
        (MONTH, "Sept 1990", "DOB", "1990-09"),  # month year
        (DEFAULT, "1990", "DOB", "1990"),  # already generalized
        (MONTH, "1990-01", "DOB", "1990-01"),  # already generalized (month)
        (MONTH, "1990", "DOB", "1990"),  # no month to keep
        (DEFAULT, "1990-01", "DOB", "1990"),  # month precision coarsened to year
        (DEFAULT, "02/01/90", "DOB", "[REDACTED:DOB]"),  # two-digit year is ambiguous
        (DEFAULT, "1990-02-30", "DOB", "[REDACTED:DOB]"),  # no such day
        (DEFAULT, "13/13/1990", "DOB", "[REDACTED:DOB]"),  # no such month
        (DEFAULT, "Smarch 1990", "DOB", "[REDACTED:DOB]"),  # no such month name
        (DEFAULT, "0000", "DOB", "[REDACTED:DOB]"),  # year zero
        # numbers
        (DEFAULT, "34", "AGE", "30-39"),
        (DEFAULT, "30", "AGE", "30-39"),  # lower bound
        (DEFAULT, "39.5", "AGE", "30-39"),  # decimals floor into the bucket
        (DEFAULT, "0", "AGE", "0-9"),  # zero
        (DEFAULT, "-5", "TEMPERATURE", "-10--1"),  # negative, any numeric entity
        (Generalize(bucket=5), "34", "AGE", "30-34"),
        (Generalize(bucket=1), "34", "AGE", "34-34"),
        (DEFAULT, "30-39", "AGE", "30-39"),  # already generalized
        (DEFAULT, "30-49", "AGE", "[REDACTED:AGE]"),  # not this bucket's range
        (DEFAULT, "1e3", "AGE", "[REDACTED:AGE]"),  # exponent notation
        (DEFAULT, "٣٤", "AGE", "[REDACTED:AGE]"),  # non-ASCII digits
        (DEFAULT, "1" * 31, "AGE", "[REDACTED:AGE]"),  # too many digits
        # postcodes
        (DEFAULT, "SW1A 1AA", "POSTCODE", "SW1"),  # UK: from the outward code
        (DEFAULT, "m1 1ae", "POSTCODE", "M1"),  # short outward code, lower case
        (DEFAULT, "90210", "ZIP", "902"),  # US ZIP
        (DEFAULT, "90210-1234", "ZIP_CODE", "902"),  # ZIP+4
        (DEFAULT, "SW1", "POSTCODE", "SW1"),  # already generalized
        (DEFAULT, "", "POSTCODE", "[REDACTED:POSTCODE]"),  # empty
        (DEFAULT, "SW1A 1AA LONDON UK", "POSTCODE", "[REDACTED:POSTCODE]"),  # not a postcode
        (DEFAULT, "10 Downing St, London SW1A 2AA", "ADDRESS", "SW1"),  # UK address
        (DEFAULT, "1 Main St, Springfield, IL 62704", "ADDRESS", "627"),  # US address
        (DEFAULT, "SW1", "ADDRESS", "SW1"),  # already generalized
        (DEFAULT, "10 Downing Street", "ADDRESS", "[REDACTED:ADDRESS]"),  # no postcode
        # anything else
        (DEFAULT, "192.168.1.77", "CLIENT", "192.168.1.0/24"),  # IP found by value
        (DEFAULT, "42", "CUSTOM_FIELD", "40-49"),  # number found by value
        (DEFAULT, "jane@example.com", "CUSTOM_FIELD", "[REDACTED:CUSTOM_FIELD]"),
        (DEFAULT, "", "NAME", "[REDACTED:NAME]"),  # empty
        (DEFAULT, "x", "NAME", "[REDACTED:NAME]"),  # one char
        (DEFAULT, "😀", "NAME", "[REDACTED:NAME]"),  # emoji
        (DEFAULT, "Zoë" * 10_000, "NAME", "[REDACTED:NAME]"),  # very long, non-ASCII
    ],
)
def test_generalize_coarsens_by_entity(
    action: Generalize, value: str, entity: str, expected: str
) -> None:
    assert action.apply(value, entity) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ipv4_prefix": 33}, r"^ipv4_prefix must be an integer from 0 to 32, got 33$"),
        ({"ipv6_prefix": -1}, r"^ipv6_prefix must be an integer from 0 to 128, got -1$"),
        ({"bucket": 0}, r"^bucket must be an integer >= 1, got 0$"),
        ({"postcode_chars": 0}, r"^postcode_chars must be an integer >= 1, got 0$"),
        ({"bucket": 2.5}, r"^bucket must be an integer >= 1, got 2.5$"),  # float
        ({"date": "day"}, r"^date must be 'year' or 'month', got 'day'$"),
    ],
)
def test_generalize_rejects_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Generalize(**kwargs)  # type: ignore[arg-type]


ENTITIES = ["IP_ADDRESS", "EMAIL", "DATE_OF_BIRTH", "AGE", "POSTCODE", "ADDRESS", "OTHER"]
SHAPED = st.one_of(
    st.text(),
    st.ip_addresses().map(str),
    st.emails(),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.integers(-1000, 1000).map(str),
    st.from_regex(r"[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}", fullmatch=True),
)


@given(
    value=SHAPED,
    entity=st.sampled_from(ENTITIES),
    action=st.builds(
        Generalize,
        ipv4_prefix=st.integers(0, 32),
        ipv6_prefix=st.integers(0, 128),
        date=st.sampled_from(["year", "month"]),
        bucket=st.integers(1, 100),
        postcode_chars=st.integers(1, 6),
    ),
)
def test_generalize_is_idempotent(value: str, entity: str, action: Generalize) -> None:
    once = action.apply(value, entity)
    assert action.apply(once, entity) == once
