"""The ``generalize`` action: replace a value with a coarser one of the same kind.

Use it for analytics that need the shape of the data (which network, which
decade of age, which postal district) but not the person. What each entity
becomes:

* ``IP_ADDRESS`` (also ``IP``, ``IPV4``, ``IPV6``): the network,
  ``192.168.1.77`` -> ``192.168.1.0/24`` (``ipv4_prefix``/``ipv6_prefix``).
  A network already as coarse or coarser is kept.
* ``EMAIL``: the lower-cased domain, ``jane@Example.com`` -> ``example.com``
  (a bare domain, not ``*@example.com``, so the output cannot be mistaken for a
  deliverable address).
* ``DATE_OF_BIRTH``, ``DOB``, and any tag with a ``DATE`` word: the year
  (``1990``) or year and month (``1990-01``). Reads ISO ``1990-01-02`` (a time
  may follow), ``1990/1/2``, ``19900102``, day-first ``02/01/1990`` (month-first
  when the first number is over 12), and English month names
  (``2 Jan 1990``, ``January 2, 1990``, ``Jan 1990``). Two-digit years are
  ambiguous and are redacted.
* ``AGE`` and any other numeric entity: the ``bucket``-wide range that holds
  it, ``34`` -> ``30-39`` (the range covers ``[30, 40)``, so ``39.5`` too).
* ``POSTCODE`` (also ``POSTAL_CODE``, ``ZIP``...): the first
  ``postcode_chars`` characters, taken from the outward code when there is a
  space, ``SW1A 1AA`` -> ``SW1``, ``90210`` -> ``902``. ``ADDRESS``: the same,
  for a UK postcode or 5-digit ZIP at the end of the address.
* Any other entity: an IP address or a number is generalized as above.

Fail closed: a value that cannot be generalized becomes ``[REDACTED:{type}]``,
never itself. Generalized values are fixed points, so applying twice equals
applying once. Caveat: short values that already look generalized (a postcode
``SW1``, a year) are kept as they are.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import ClassVar, Literal

from veil.rules.actions._entity import entity_tag
from veil.rules.actions.redact import DEFAULT_TEMPLATE

_IP_TAGS = frozenset(
    {"IP", "IP_ADDRESS", "IP_ADDR", "IPV4", "IPV6", "IPV4_ADDRESS", "IPV6_ADDRESS"}
)
_EMAIL_TAGS = frozenset({"EMAIL", "EMAIL_ADDRESS", "E_MAIL"})
_DATE_TAGS = frozenset({"DOB", "BIRTHDATE", "BIRTHDAY"})
_POSTCODE_TAGS = frozenset({"POSTCODE", "POST_CODE", "POSTAL_CODE", "ZIP", "ZIP_CODE", "ZIPCODE"})
_ADDRESS_TAGS = frozenset({"ADDRESS", "STREET_ADDRESS", "POSTAL_ADDRESS", "HOME_ADDRESS"})

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = re.compile(r"([0-9]{4})")
_YEAR_MONTH = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})")
_ISO = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[T ].*)?", re.DOTALL)
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_NUMERIC_DMY = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_DAY_MONTH_YEAR = re.compile(rf"([0-9]{{1,2}}){_ORD}\s+([A-Za-z]+)\.?,?\s+([0-9]{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"([A-Za-z]+)\.?\s+([0-9]{{1,2}}){_ORD},?\s+([0-9]{{4}})")
_MONTH_YEAR = re.compile(r"([A-Za-z]+)\.?,?\s+([0-9]{4})")

_NUMBER = re.compile(r"[+-]?[0-9]{1,30}(?:\.[0-9]{1,30})?")
_RANGE = re.compile(r"(-?[0-9]{1,31})-(-?[0-9]{1,31})")
_DOMAIN = re.compile(r"[^\s@.]+(?:\.[^\s@.]+)+")
_POSTCODE = re.compile(r"[A-Z0-9]+(?:[ -][A-Z0-9]+)?")
_UK_POSTCODE_AT_END = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?[0-9][A-Z]{2}$")
_ZIP_AT_END = re.compile(r"(?:^|[\s,])([0-9]{5})(?:-[0-9]{4})?$")


@dataclass(frozen=True, slots=True)
class Generalize:
    """Replaces the value with a coarser value of the same kind (see the module doc).

    ``ipv4_prefix`` is 0..32, ``ipv6_prefix`` 0..128, ``bucket`` and
    ``postcode_chars`` at least 1; anything else raises ValueError.

    >>> g = Generalize()
    >>> g.apply("192.168.1.77", "IP_ADDRESS"), g.apply("34", "AGE")
    ('192.168.1.0/24', '30-39')
    """

    ipv4_prefix: int = 24
    ipv6_prefix: int = 48
    date: Literal["year", "month"] = "year"
    bucket: int = 10
    postcode_chars: int = 3

    name: ClassVar[str] = "generalize"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = False
    changes: ClassVar[bool] = True

    def __post_init__(self) -> None:
        limits: dict[str, tuple[int, int | None]] = {
            "ipv4_prefix": (0, 32),
            "ipv6_prefix": (0, 128),
            "bucket": (1, None),
            "postcode_chars": (1, None),
        }
        for field_name, (low, high) in limits.items():
            value = getattr(self, field_name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < low
                or (high is not None and value > high)
            ):
                bounds = f"from {low} to {high}" if high is not None else f">= {low}"
                raise ValueError(f"{field_name} must be an integer {bounds}, got {value!r}")
        if self.date not in ("year", "month"):
            raise ValueError(f"date must be 'year' or 'month', got {self.date!r}")

    def apply(self, value: str, entity: str) -> str:
        tag = entity_tag(entity)
        text = value.strip()
        result: str | None
        if tag in _IP_TAGS:
            result = self._network(text)
        elif tag in _EMAIL_TAGS:
            result = _email_domain(text)
        elif tag in _DATE_TAGS or "DATE" in tag.split("_"):
            result = self._date(text)
        elif tag in _POSTCODE_TAGS:
            result = self._postcode(text)
        elif tag in _ADDRESS_TAGS:
            result = self._address(text)
        else:
            result = self._network(text) or self._number(text)
        if result is None:
            return DEFAULT_TEMPLATE.replace("{type}", entity)
        return result

    def _network(self, text: str) -> str | None:
        try:
            network = ipaddress.ip_interface(text).network
        except ValueError:
            return None
        prefix = self.ipv4_prefix if network.version == 4 else self.ipv6_prefix
        if network.prefixlen > prefix:
            network = network.supernet(new_prefix=prefix)
        return str(network)

    def _date(self, text: str) -> str | None:
        parsed = _parse_date(text)
        if parsed is None:
            return None
        year, month = parsed
        if self.date == "month" and month is not None:
            return f"{year:04d}-{month:02d}"
        return f"{year:04d}"

    def _number(self, text: str) -> str | None:
        if (span := _RANGE.fullmatch(text)) is not None:
            low, high = int(span[1]), int(span[2])
            if low % self.bucket == 0 and high == low + self.bucket - 1:
                return text  # already this bucket's range
            return None
        if not _NUMBER.fullmatch(text):
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            return None
        low = math.floor(number / self.bucket) * self.bucket
        return f"{low}-{low + self.bucket - 1}"

    def _postcode(self, text: str) -> str | None:
        code = text.upper()
        if len(code) > 10 or not _POSTCODE.fullmatch(code):
            return None
        # "SW1A 1AA": the outward code before the space is the district.
        head = code.split(" ", 1)[0] if " " in code else code.replace("-", "")
        return head[: self.postcode_chars]

    def _address(self, text: str) -> str | None:
        code = text.upper()
        if len(code) <= self.postcode_chars and code.isalnum() and code.isascii():
            return code  # already a postcode prefix
        for pattern in (_UK_POSTCODE_AT_END, _ZIP_AT_END):
            if (found := pattern.search(code)) is not None:
                return found[1][: self.postcode_chars]
        return None


def _email_domain(text: str) -> str | None:
    local, at, domain = text.rpartition("@")
    if at and not local:
        return None
    domain = domain.lower()
    return domain if _DOMAIN.fullmatch(domain) else None


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _parse_date(text: str) -> tuple[int, int | None] | None:
    """``(year, month)`` of a date written in one of the supported forms, or None."""
    if _YEAR.fullmatch(text):
        year = int(text)
        return (year, None) if year >= 1 else None
    candidates: list[tuple[int, int, int]] = []
    if (m := _YEAR_MONTH.fullmatch(text)) is not None:
        candidates.append((int(m[1]), int(m[2]), 1))
    elif (m := _ISO.fullmatch(text) or _COMPACT.fullmatch(text)) is not None:
        candidates.append((int(m[1]), int(m[2]), int(m[3])))
    elif (m := _NUMERIC_DMY.fullmatch(text)) is not None:
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        # Day-first (02/01/1990 is 2 January) unless only month-first makes sense (01/13/1990).
        month_first = second > 12 >= first
        day, month = (second, first) if month_first else (first, second)
        candidates.append((year, month, day))
    elif (m := _DAY_MONTH_YEAR.fullmatch(text)) is not None:
        if (named := _MONTHS.get(m[2].lower())) is not None:
            candidates.append((int(m[3]), named, int(m[1])))
    elif (m := _MONTH_DAY_YEAR.fullmatch(text)) is not None:
        if (named := _MONTHS.get(m[1].lower())) is not None:
            candidates.append((int(m[3]), named, int(m[2])))
    elif (m := _MONTH_YEAR.fullmatch(text)) is not None:
        if (named := _MONTHS.get(m[1].lower())) is not None:
            candidates.append((int(m[2]), named, 1))
    for year, month, day in candidates:
        if _valid(year, month, day):
            return year, month
    return None
