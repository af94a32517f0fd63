"""IBAN's fast validator gives stdnum's verdict for every candidate (issue #13).

``is_iban`` replays stdnum's generic rules (known country, BBAN pattern, mod 97);
national checks no longer count (issue #14), so the reference is
``stdnum.iban.is_valid(number, check_country=False)``. It must answer exactly
as ``_is_iban_by_stdnum`` does.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum import numdb

from veil.rules.detectors import iban
from veil.rules.detectors.iban import _is_iban_by_stdnum, is_iban

_CHARS = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_STRUCTURES = {
    low: re.findall(r"([1-9][0-9]*)!([nac])", props.get("bban", ""))
    for _, low, _, props, _ in numdb.get("iban").prefixes
}


@st.composite
def well_formed(draw: st.DrawFn) -> str:
    """A registry country, a BBAN of its structure and correct check digits (national checks may still fail)."""
    country = draw(st.sampled_from(sorted(_STRUCTURES)))
    bban = "".join(draw(st.text(_CHARS[kind], min_size=int(n), max_size=int(n))) for n, kind in _STRUCTURES[country])
    check = stdnum_iban.calc_check_digits(f"{country}00{bban}")
    return f"{country}{check}{bban}"


@st.composite
def printed(draw: st.DrawFn, compact: st.SearchStrategy[str]) -> str:
    """Compact, or in groups of four as on paper."""
    number = draw(compact)
    if draw(st.booleans()):
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


@st.composite
def perturbed(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A character changed, dropped or added, or two adjacent ones swapped."""
    text = list(draw(base))
    i = draw(st.integers(0, len(text) - 1))
    edit = draw(st.sampled_from(["change", "drop", "add", "swap"]))
    if edit == "change":
        text[i] = draw(st.sampled_from(_CHARS["c"]))
    elif edit == "drop":
        del text[i]
    elif edit == "add":
        text.insert(i, draw(st.sampled_from(_CHARS["c"])))
    elif i + 1 < len(text):
        text[i], text[i + 1] = text[i + 1], text[i]
    return "".join(text)


def _ascii(piece: str) -> str:
    r"""RE2's ``\d`` is [0-9]; Python's re would also draw other scripts' digits."""
    return piece.replace(r"\d", "[0-9]")


# The detector's pattern without its edges: each branch's value group (compact, any case, spaced, dashed,
# and compact or spaced after veil-shaped text).
_VALUES = re.findall(r"\(\?P<value\w*>(.*?)\)\(\?:\[\^", iban.IBAN.pattern)
assert len(_VALUES) == 5
PATTERN_SHAPES = st.from_regex(_ascii("|".join(f"(?:{v})" for v in _VALUES)), fullmatch=True)

candidates = st.one_of(
    PATTERN_SHAPES,
    printed(well_formed()),
    printed(perturbed(well_formed())),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789 -.", min_size=12, max_size=40),
)


@given(candidates)
@example("GB82 WEST 1234 5698 7654 32")
@example("BE68 5390 0754 7034")  # Belgium
@example("BE41 5390 0754 7035")  # Belgium, mod 97 holds, national check fails: counts now
@example("ES91 2100 0418 4502 0005 1332")  # Spain
@example("MT84-MALT-0110-0001-2345-MTLC-AST0-01S")  # the longest groups, dashed (over 34 with dashes)
@example("gb82west12345698765432")  # lower case: stdnum upper-cases it
@example("GB82-WEST-1234-5698-7654-32")  # dashes: stdnum drops them
def test_fast_verdict_equals_stdnum_verdict(candidate: str) -> None:
    assert is_iban(candidate) is _is_iban_by_stdnum(candidate)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("DE89 3704 0044 0532 0130 00", True),  # Germany, printed
        ("GB82WEST12345698765432", True),  # UK, compact
        ("FR1420041010050500013M02606", True),  # letters in the BBAN
        ("NL91ABNA0417164300", True),  # short (18)
        ("CH9300762011623852957", True),  # Switzerland
        ("ES9121000418450200051332", True),  # Spain: passes the national check too
        ("NO9386011117947", True),  # Norway (15, the shortest): national mod 11
        ("ES9121000418450200051333", False),  # Spain, last digit off: mod 97 fails
        ("ES2921000418460200051332", True),  # Spain, national check digits off, mod 97 holds
        ("BE41539007547035", True),  # Belgium, national mod 97 off, IBAN mod 97 holds
        ("NO6686011117948", True),  # Norway, national mod 11 off
        ("DE89-3704-0044-0532-0130-00", True),  # dashed groups
        ("MT84-MALT-0110-0001-2345-MTLC-AST0-01S", True),  # 31 characters, 38 with dashes
        ("DE89370400440532013001", False),  # mod 97 fails
        ("DE88 3704 0044 0532 0130 00", False),  # wrong check digits
        ("GB82WEST1234569876543", False),  # one character short for GB
        ("DE8937040044053201300000", False),  # too long for DE
        ("GB82W3ST12345698765432", False),  # digit where GB's bank code has letters
        ("XX89370400440532013000", False),  # unknown country
        ("de89370400440532013000", True),  # lower case: stdnum upper-cases (the pattern never proposes it)
        ("DE89370400440532013000\n", True),  # trailing newline: not [A-Z0-9], so stdnum decides, and strips it
        ("DE89 3704 0044 0532 0130 ００", False),  # full-width digits: not ASCII
        ("DE89", False),  # too short for any IBAN
    ],
)
def test_near_misses_and_hits_match_stdnum(candidate: str, expected: bool) -> None:
    assert is_iban(candidate) is expected
    assert _is_iban_by_stdnum(candidate) is expected


@pytest.mark.parametrize(
    "candidate",
    ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "DE89370400440532013001", "XX89370400440532013000",
     "BE41539007547035", "ES9121000418450200051332", "DE89-3704-0044-0532-0130-00"],
)
def test_upper_case_candidates_never_reach_stdnum(candidate: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def validate_not_expected(*args: object, **kwargs: object) -> None:
        raise AssertionError("stdnum.iban.is_valid called")

    expected = _is_iban_by_stdnum(candidate)
    monkeypatch.setattr(stdnum_iban, "is_valid", validate_not_expected)
    assert is_iban(candidate) is expected
