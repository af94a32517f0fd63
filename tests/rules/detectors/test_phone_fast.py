"""PHONE's fast validator gives phonenumbers' verdict for every candidate, and skips parse on common shapes.

The contract (issue #13): ``is_phone_number`` may only be faster than
``_is_phone_number_by_library`` (phonenumbers.parse + is_valid_number in every
region the shape calls for), never different.
"""

from __future__ import annotations

import functools

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from veil.rules.detectors import phone
from veil.rules.detectors.phone import _is_phone_number_by_library, _valid_in, is_phone_number
from veil.rules.detectors.phone_fast import (
    DIGITS_ONLY,
    SHAPE,
    Verdict,
    decide_international,
    decide_national,
)


def _ascii(piece: str) -> str:
    r"""A pattern piece as RE2 reads it: ``\d`` is [0-9] (Python's re would also draw other scripts' digits)."""
    return piece.replace(r"\d", "[0-9]")


# Each shape the detector proposes, with the tail it swallows, as a candidate (the value group).
PATTERN_SHAPES = [
    st.from_regex(_ascii(f"(?:{shape}){phone._TAIL}"), fullmatch=True)
    for shape in (phone._INTL, phone._NANP, phone._TRUNK, phone._FR_DOTS, phone._IN_MOBILE)
]

_TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
)
_FORMATS = (PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL, PhoneNumberFormat.E164)


@functools.cache
def example_numbers() -> list[phonenumbers.PhoneNumber]:
    """phonenumbers' example of every type in every region, and of every non-geographic code."""
    numbers = [
        number
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in _TYPES
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None:
            numbers.append(number)
    return numbers


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    """A valid example number as people write it: international, national, E.164, or odd variants."""
    number = draw(st.sampled_from(example_numbers()))
    nsn = phonenumbers.national_significant_number(number)
    code = number.country_code
    return draw(
        st.sampled_from(
            [phonenumbers.format_number(number, fmt) for fmt in _FORMATS]
            + [
                f"+{code} (0){nsn}",  # international with the trunk 0 kept
                f"+{code} 0{nsn}",
                f"00{code} {nsn}",  # IDD instead of '+' (GB, DE, FR, NL, IN)
                f"011 {code} {nsn}",  # the US and Canadian IDD
                f"0011 {code} {nsn}",  # the Australian IDD
                f"{code} {nsn}",  # calling code without '+'
                f"0{nsn[:3]} {nsn[3:]}",  # trunk-prefixed national
                f"{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}",
                f"1-{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}",
            ]
        )
    )


@st.composite
def perturbed(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """Near misses: a digit of ``base`` changed, dropped, doubled, or two digits swapped."""
    text = list(draw(base))
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    for _ in range(draw(st.integers(1, 2))):
        if not digits:
            break
        i = draw(st.sampled_from(digits))
        edit = draw(st.sampled_from(["change", "drop", "double", "swap"]))
        if edit == "change":
            text[i] = draw(st.sampled_from("0123456789"))
        elif edit == "drop":
            text[i] = ""
        elif edit == "double":
            text[i] = text[i] * 2
        else:
            j = draw(st.sampled_from(digits))
            text[i], text[j] = text[j], text[i]
    return "".join(text)


nanp_near_misses = st.from_regex(
    # area codes and exchanges starting 0/1 are invalid; 555-01xx are fictional but valid
    r"(?:\+?1[ .\-]?)?(?:\([0-9]{3}\) ?|[0-9]{3}[ .\-])[01][0-9]{2}[ .\-][0-9]{4}"
    r"|(?:\+?1[ .\-]?)?(?:\([01][0-9]{2}\) ?|[01][0-9]{2}[ .\-])[0-9]{3}[ .\-][0-9]{4}",
    fullmatch=True,
)

candidates = st.one_of(
    *PATTERN_SHAPES,
    written_numbers(),
    perturbed(written_numbers()),
    nanp_near_misses,
    st.from_regex(r"\+?[0-9 .\-()/]{0,24}[0-9]", fullmatch=True),  # anything the fast path accepts
    st.text(alphabet="+0123456789 .-()/x#,;", max_size=30),  # and its neighbours, which fall back
)


@given(candidates)
@example("+44 (0)20 7946 0958")
@example("0044 20 7946 0958")  # IDD: phonenumbers reads +44 after it
@example("0011 44 20 7946 0958")  # ... and in Australia after 0011
@example("1-800-555-0199")  # NANP with its leading 1
@example("+54 9 11 1234-5678")  # Argentina: the national prefix is rewritten, not stripped
@example("+1 212 555 0143 ext 12")
def test_fast_verdict_equals_phonenumbers_verdict(candidate: str) -> None:
    assert is_phone_number(candidate) is _is_phone_number_by_library(candidate)


@given(candidates, st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_replay_equals_parse_in_any_region(candidate: str, region: str) -> None:
    """The replay is checked in every region, not only those PHONE tries, and with '+' on its own."""
    if not SHAPE.fullmatch(candidate):
        return
    digits = candidate.translate(DIGITS_ONLY)
    if candidate.startswith("+"):
        verdict = decide_international(digits)
        region_arg: str | None = None
    else:
        verdict = decide_national(digits, region)
        region_arg = region
    if verdict is not Verdict.UNDECIDED:
        assert (verdict is Verdict.VALID) is _valid_in(candidate, region_arg)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("+44 20 7946 0958", True),  # UK international
        ("+44 (0)20 7946 0958", True),  # (0) trunk group: parse strips it, so does the replay
        ("+44 20 7946 095", False),  # one digit short
        ("+44 20 7946 09581", False),  # one digit long
        ("+1 (212) 555-0143", True),  # NANP international
        ("+1 (123) 555-0143", False),  # area code starting 1
        ("+1 (212) 155-0143", False),  # exchange starting 1
        ("+12125550143", True),  # E.164
        ("+33 1 42 68 53 00", True),  # France
        ("+33 0 42 68 53 00", False),  # France, leading 0 in the NSN
        ("+91-98765-43210", True),  # India mobile
        ("+800 1234 5678", True),  # non-geographic (freephone)
        ("+999 1234 5678", False),  # no such calling code
        ("+0 20 7946 0958", False),  # calling codes never start with 0
        ("+44", False),  # not viable
        ("(212) 555-0143", True),  # NANP parentheses
        ("212.555.0143", True),  # NANP dots
        ("123-456-7890", False),  # invalid area code
        ("1-800-555-0199", True),  # NANP with the country code written
        ("1-123-555-0199", False),  # ... and an invalid area code
        ("020 7946 0958", True),  # UK trunk 0
        ("020 7946 095", True),  # not UK (one digit short) but valid in France, NL and Australia
        ("020 794 609", False),  # valid nowhere PHONE tries
        ("030 12345678", True),  # Germany
        ("01.42.68.53.00", True),  # France dotted
        ("00.42.68.53.00", False),  # IDD 00 then a 0: no calling code
        ("98765 43210", True),  # India mobile national
        ("58765 43210", True),  # ... not 6-9, not Indian, but 587 is a Canadian area code
        ("58765 432101", False),  # 11 digits not starting with 1: no region tried
        ("0044 20 7946 0958", True),  # IDD + UK number: read as +44 in GB, DE, FR...
        ("0044 20 7946 095", False),  # ... one digit short
        ("00-123-4567", False),  # IDD then no calling code
        ("000-358-1405", False),  # IDD then a 0: not stripped, and no valid national number
        ("0123-4567", False),  # too short for a national number
        ("555-123-4567-8901", False),  # longer dashed id
        ("212-555-0143/12", False),  # swallowed /digits
        ("+1 212 555 0143 ext 12", False),  # extension: outside the shape, phonenumbers decides
        ("+44 20 7946 0958.", True),  # trailing dot: outside the shape, parse drops it
        ("+4420 ７９４６ 0958", False),  # full-width digits: not ASCII
    ],
)
def test_near_misses_and_hits_match_phonenumbers(candidate: str, expected: bool) -> None:
    assert is_phone_number(candidate) is expected
    assert _is_phone_number_by_library(candidate) is expected


@pytest.mark.parametrize(
    "candidate",
    [
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+1 (212) 555-0143",
        "+12125550143",
        "+33 1 42 68 53 00",
        "+49 30 12345678",
        "+91-98765-43210",
        "+1 (123) 555-0143",
        "(212) 555-0143",
        "212.555.0143",
        "1-800-555-0199",
        "123-456-7890",
        "020 7946 0958",
        "030 12345678",
        "01.42.68.53.00",
        "98765 43210",
        "0123 4567 8901",
        "0044 20 7946 0958",
        "002-081-4787",
    ],
)
def test_common_shapes_are_decided_without_phonenumbers_parse(
    candidate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of the fast path: these never reach ``phonenumbers.parse``."""

    def parse_not_expected(*args: object, **kwargs: object) -> None:
        raise AssertionError("phonenumbers.parse called")

    expected = _is_phone_number_by_library(candidate)
    monkeypatch.setattr(phonenumbers, "parse", parse_not_expected)
    assert is_phone_number(candidate) is expected
