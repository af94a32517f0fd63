"""PHONE's validator without ``phonenumbers.parse``: the same verdicts, replayed on its metadata.

``phonenumbers.parse`` + ``is_valid_number`` cost 20-80 µs per candidate, and on
fresh traffic every candidate is new, so the verdict cache does not help
(issue #13). For the shapes PHONE's pattern proposes, parse does little that
depends on the text beyond its digits: the candidate is ASCII digits with
space/dot/dash/slash/parenthesis separators and at most one leading '+', so it
has no extension, no letters, no RFC 3966 parts, and normalizes to its digits.
What remains (country calling code, IDD, national prefix stripping, the
possible-length checks, ``is_valid_number``'s choice of region and its
number-type patterns) is replayed here step by step on patterns compiled once
from the library's own metadata. Each function below names the library
function it mirrors.

Where the replay would need a step it does not model (a region or calling code
whose metadata lacks what these steps read, or a rewrite rule the library
itself would fail on; none in phonenumbers 9.0), it answers ``UNDECIDED`` and
the caller asks the library. Callers must only pass candidates that ``SHAPE``
matches in full and that are at most ``MAX_LENGTH`` long;
``tests/rules/detectors/test_phone_fast.py`` checks every verdict against
``phonenumbers.parse`` + ``is_valid_number``.

Patterns are compiled per region on first use (about 1.5 ms a region; all 245
regions hold about 6 MB).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    SUPPORTED_REGIONS,
    PhoneMetadata,
    PhoneNumberDesc,
)

SHAPE = re.compile(r"\+?[0-9 .\-()/]*[0-9]")
"""Candidates the replay handles: an optional leading '+', then digits and separators, ending in a digit.

For these, parse's extension, RFC 3966 and trailing-character rules never
apply, and its normalization keeps exactly the ASCII digits.
"""

MAX_LENGTH = 250
"""parse rejects longer input outright; longer candidates are left to the library."""

DIGITS_ONLY = str.maketrans("", "", "+ .-()/")
"""``candidate.translate(DIGITS_ONLY)``: the digits of a ``SHAPE`` candidate."""

_MIN_NSN = 2  # phonenumbers' _MIN_LENGTH_FOR_NSN
_MAX_NSN = 17  # phonenumbers' _MAX_LENGTH_FOR_NSN
_CALLING_CODES = frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE)


class Verdict(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    UNDECIDED = "undecided"  # outside what the replay models: ask phonenumbers


@dataclass(frozen=True, slots=True)
class _Desc:
    """One PhoneNumberDesc: its possible lengths and its pattern's source (compiled where used)."""

    lengths: frozenset[int]  # empty: any length (the library skips the check)
    source: str  # "": matches nothing

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> _Desc:
        if desc is None or not desc.national_number_pattern:
            return cls(frozenset(), "")
        return cls(frozenset(desc.possible_length), desc.national_number_pattern)

    def allows_length(self, length: int) -> bool:
        return bool(self.source) and (not self.lengths or length in self.lengths)


class _Length(enum.Enum):
    POSSIBLE = "possible"
    TOO_LONG = "too long"
    OTHER = "too short, local only or invalid length"


def _test_number_length(length: int, possible: tuple[int, ...], local_only: tuple[int, ...]) -> _Length:
    """``_test_number_length`` for the UNKNOWN type (the general description's lengths)."""
    if length in local_only:
        return _Length.OTHER
    if possible[0] == length:
        return _Length.POSSIBLE
    if possible[0] > length:
        return _Length.OTHER
    if possible[-1] < length:
        return _Length.TOO_LONG
    return _Length.POSSIBLE if length in possible[1:] else _Length.OTHER


@dataclass(frozen=True, slots=True)
class _Region:
    """What parse and is_valid_number read from one region's PhoneMetadata."""

    country_code: int
    general: _Desc
    general_pattern: re.Pattern[str] | None
    kinds: tuple[_Desc, ...]  # the types _number_type_helper tries (mobile only if its pattern differs)
    leading_digits: re.Pattern[str] | None
    international_prefix: re.Pattern[str]
    national_prefix: re.Pattern[str] | None
    transform_rule: str  # "" when none
    strippable_lengths: frozenset[int]  # _test_number_length says possible or too long
    too_long_lengths: frozenset[int]
    # By NSN length, the type patterns that length allows, joined into one regex: filled on first use.
    typed: dict[int, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    def fits_general(self, number: str) -> bool:
        """``_match_national_number(number, general_desc, False)``: the pattern alone, lengths not checked."""
        return self.general_pattern is not None and self.general_pattern.fullmatch(number) is not None

    def has_type(self, nsn: str) -> bool:
        """``_number_type_helper(nsn, metadata) != UNKNOWN``: the general description, then any type.

        The helper tries the types one by one and returns the first that
        matches; only whether one does matters here, so the patterns of the
        types whose possible lengths allow ``len(nsn)`` are tried as one regex.
        """
        # _is_number_matching_desc(nsn, general_desc): its possible lengths, then its pattern.
        if not self.general.allows_length(len(nsn)) or not self.fits_general(nsn):
            return False
        patterns = self.typed.get(len(nsn))
        if patterns is None:
            patterns = _joined(tuple(kind.source for kind in self.kinds if kind.allows_length(len(nsn))))
            self.typed[len(nsn)] = patterns
        for pattern in patterns:
            if pattern.fullmatch(nsn):
                return True
        return False

    def strip_national_prefix(self, number: str) -> str | Verdict:
        """``_maybe_strip_national_prefix_carrier_code(number, metadata)[1]``."""
        if not number or self.national_prefix is None:
            return number
        match = self.national_prefix.match(number)
        if match is None:
            return number
        groups = match.groups()
        if self.transform_rule and not groups:
            return Verdict.UNDECIDED  # the library indexes groups()[-1] here and raises
        if not self.transform_rule or groups[-1] is None:
            stripped = number[match.end() :]
        else:
            stripped = self.national_prefix.sub(self.transform_rule, number, count=1)
        # The library keeps the number as it was only if it fit the general pattern and the stripped one
        # does not (the same test, its two halves in the cheaper order).
        if self.fits_general(stripped) or not self.fits_general(number):
            return stripped
        return number


def _compile_region(metadata: PhoneMetadata | None) -> _Region | None:
    if metadata is None or metadata.general_desc is None or metadata.country_code is None:
        return None
    general = metadata.general_desc
    possible, local_only = tuple(general.possible_length), tuple(general.possible_length_local_only)
    if not possible:
        return None  # the library would index an empty tuple
    lengths = {n: _test_number_length(n, possible, local_only) for n in range(MAX_LENGTH + 1)}
    # Fixed line and mobile first, where most numbers are (the order changes no verdict, only the time).
    kinds = [metadata.fixed_line]
    if not metadata.same_mobile_and_fixed_line_pattern:
        kinds.append(metadata.mobile)  # else the helper never tries it
    kinds += [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    ]
    prefix = metadata.national_prefix_for_parsing
    idd = metadata.international_prefix
    return _Region(
        country_code=metadata.country_code,
        general=_Desc.of(general),
        general_pattern=re.compile(general.national_number_pattern) if general.national_number_pattern else None,
        kinds=tuple(_Desc.of(kind) for kind in kinds),
        leading_digits=re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None,
        international_prefix=re.compile("NonMatch" if idd is None else idd),
        national_prefix=re.compile(prefix) if prefix else None,
        transform_rule=metadata.national_prefix_transform_rule or "",
        strippable_lengths=frozenset(n for n, verdict in lengths.items() if verdict is not _Length.OTHER),
        too_long_lengths=frozenset(n for n, verdict in lengths.items() if verdict is _Length.TOO_LONG),
    )


# Anchors, backreferences, lookarounds or flags would make "A|B" mean more than "A or B"
# (phonenumbers' patterns use none: digits, classes, groups, quantifiers and alternation).
_NOT_JOINABLE = re.compile(r"[$^]|\\[1-9AZbBG]|\(\?[^:]")
_JOINED: dict[tuple[str, ...], tuple[re.Pattern[str], ...]] = {}


def _joined(sources: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Regexes that together fully match what any of ``sources`` fully matches: one when they can be joined."""
    joined = _JOINED.get(sources)
    if joined is None:
        if len(sources) > 1 and not any(_NOT_JOINABLE.search(source) for source in sources):
            joined = (re.compile("|".join(f"(?:{source})" for source in sources)),)
        else:
            joined = tuple(re.compile(source) for source in sources)
        _JOINED[sources] = joined
    return joined


# Compiled on first use, as phonenumbers loads each region's metadata. Entries never change once
# written, so threads may race to fill one: both write the same value.
_REGIONS: dict[tuple[int, str], _Region | None] = {}  # (0, region), or (calling code, "001") if non-geographic
_SHARED_GENERAL: dict[int, tuple[re.Pattern[str], ...]] = {}


def _region(country_code: int, region_code: str) -> _Region | None:
    """``PhoneMetadata.metadata_for_region_or_calling_code(country_code, region_code)``, compiled."""
    key = (country_code if region_code == REGION_CODE_FOR_NON_GEO_ENTITY else 0, region_code)
    try:
        return _REGIONS[key]
    except KeyError:
        plan = _compile_region(PhoneMetadata.metadata_for_region_or_calling_code(country_code, region_code))
        _REGIONS[key] = plan
        return plan


def _fits_a_general_pattern(country_code: int, region_codes: tuple[str, ...], nsn: str) -> bool:
    """Whether ``nsn`` fits the general pattern of any region sharing ``country_code``."""
    patterns = _SHARED_GENERAL.get(country_code)
    if patterns is None:
        regions = [_region(country_code, code) for code in region_codes if code != REGION_CODE_FOR_NON_GEO_ENTITY]
        patterns = _joined(tuple(region.general.source for region in regions if region and region.general.source))
        _SHARED_GENERAL[country_code] = patterns
    return any(pattern.fullmatch(nsn) for pattern in patterns)


def _is_valid_number(country_code: int, nsn: str) -> bool:
    """``is_valid_number(PhoneNumber(country_code, nsn))``: region_code_for_number, is_valid_number_for_region."""
    region_codes = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if region_codes is None:
        return False
    if len(region_codes) == 1:
        region_code = region_codes[0]
    else:
        prefiltered = False
        for region_code in region_codes:
            if region_code == REGION_CODE_FOR_NON_GEO_ENTITY:
                continue  # metadata_for_region("001") is None: the library skips it
            candidate = _region(country_code, region_code)
            if candidate is None:
                continue
            if candidate.leading_digits is not None:
                if candidate.leading_digits.match(nsn):
                    break
            elif candidate.has_type(nsn):
                # is_valid_number_for_region would run the same helper on the same metadata again.
                return candidate.country_code == country_code
            if not prefiltered:
                # The region picked must fit its general pattern to be valid: a number that fits none
                # is invalid without walking the rest of the list (25 regions for +1).
                if not _fits_a_general_pattern(country_code, region_codes, nsn):
                    return False
                prefiltered = True
        else:
            return False
    region = _region(country_code, region_code)
    if region is None:
        return False
    if region_code != REGION_CODE_FOR_NON_GEO_ENTITY and region.country_code != country_code:
        return False
    return region.has_type(nsn)


def _finish(country_code: int, region: _Region, number: str) -> Verdict:
    """The end of parse (prefix stripping, NSN length) and is_valid_number."""
    if len(number) < _MIN_NSN:
        return Verdict.INVALID
    stripped = region.strip_national_prefix(number)
    if isinstance(stripped, Verdict):
        return stripped
    if len(stripped) in region.strippable_lengths:
        number = stripped
    if not _MIN_NSN <= len(number) <= _MAX_NSN:
        return Verdict.INVALID
    # The PhoneNumber keeps leading zeros as italian_leading_zero/number_of_leading_zeros, and
    # national_significant_number rebuilds exactly this string from them.
    return Verdict.VALID if _is_valid_number(country_code, number) else Verdict.INVALID


def _main_region(country_code: int) -> _Region | None:
    """The metadata parse uses once it has read a calling code (``region_code_for_country_code``)."""
    return _region(country_code, COUNTRY_CODE_TO_REGION_CODE[country_code][0])


def decide_international(digits: str) -> Verdict:
    """``parse("+" ..., None)`` + ``is_valid_number`` for a ``SHAPE`` candidate starting with '+'.

    ``digits`` are the candidate's digits after the '+'.

    >>> decide_international("442079460958")
    <Verdict.VALID: 'valid'>
    """
    if len(digits) <= _MIN_NSN:
        return Verdict.INVALID  # not viable, or too short after the '+'
    # _extract_country_code: the shortest prefix that is a calling code (none starts with 0).
    for size in (1, 2, 3):
        if digits[:size] in _CALLING_CODES:
            break
    else:
        return Verdict.INVALID  # "Country calling code supplied was not recognised."
    country_code = int(digits[:size])
    region = _main_region(country_code)
    if region is None:
        return Verdict.UNDECIDED
    return _finish(country_code, region, digits[size:])


def decide_national(digits: str, region_code: str) -> Verdict:
    """``parse(candidate, region_code)`` + ``is_valid_number`` for a ``SHAPE`` candidate without '+'.

    ``digits`` are all of the candidate's digits; at least 3 (with fewer,
    parse's viability rule depends on the separators).

    >>> decide_national("02079460958", "GB")
    <Verdict.VALID: 'valid'>
    """
    if len(digits) < 3 or region_code not in SUPPORTED_REGIONS:
        return Verdict.UNDECIDED
    region = _region(0, region_code)  # a geographic region: its metadata does not depend on the code
    if region is None:
        return Verdict.UNDECIDED
    idd = region.international_prefix.match(digits)
    if idd is not None and digits[idd.end() : idd.end() + 1] != "0":
        # _parse_prefix_as_idd: an international prefix (00, 011, ...) not followed by a 0 is read
        # like '+', the rest as a calling code and a number.
        return decide_international(digits[idd.end() :])
    country_code = region.country_code
    own_code = str(country_code)
    if digits.startswith(own_code):
        # _maybe_extract_country_code: the region's own calling code written without '+'.
        rest = region.strip_national_prefix(digits[len(own_code) :])
        if isinstance(rest, Verdict):
            return rest
        if (not region.fits_general(digits) and region.fits_general(rest)) or len(digits) in region.too_long_lengths:
            main = _main_region(country_code)
            if main is None:
                return Verdict.UNDECIDED
            return _finish(country_code, main, rest)
    return _finish(country_code, region, digits)
