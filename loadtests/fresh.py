"""Bodies whose PII no server has seen before, for ``python -m loadtests --fresh``.

veil keeps what it decided about a value under a keyed digest (validators'
verdicts, value outcomes, the scanner's decisions: ``veil.rules.detectors.verdicts``,
8192 entries per cache), so a load test that replays one body per request measures
those caches warm. A fresh body keeps the shape of its ``bench/payloads.py`` twin,
built from a seed of its own (ids, timestamps and text differ too), and every PII
value seeded into it is replaced by one made from a counter: no value occurs twice
in a pool, across bodies and request kinds. Each new value is of the kind it
replaces, in the same format, and valid for veil's detectors (Luhn, phonenumbers,
stdnum), so the same detectors and validators run as with the fixed bodies.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn

from bench.payloads import SIZES, Payload, build

_SYLLABLES = ("ba", "ce", "di", "fo", "ga", "he", "ji", "ko", "la", "me", "ni", "po", "ra", "se", "ti", "vo",
              "wa", "ye", "zu", "lo", "mi", "na", "ro", "tu")
_NAME_SYLLABLES = 5  # 24**5: ~8 million names, first, last and street names drawn from one counter
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.co.uk")
_STREETS = ("Street", "Road", "Avenue", "Lane")
_CITIES = ("London", "Manchester", "Leeds", "San Francisco", "Portland", "Austin")
_IP_FIRST = (203, 198, 81, 86, 145)
_UK_BLOCKS = (3, 7, 8)  # +44 20 3xxx / 7xxx / 8xxx xxxx: London numbers phonenumbers calls valid
_NANP_AREAS = (415, 212, 312, 617)
_BANKS = ("WEST", "NWBK", "BARC", "LOYD")
_SSN_AREAS = tuple(a for a in range(1, 900) if a != 666)


class FreshValues:
    """PII values that never repeat: the n-th value of a kind is made from n.

    Each kind maps its counter through a fixed permutation of its space
    (``a * n + b mod size``, ``a`` coprime with the size), so consecutive values do
    not look consecutive and distinct counters always give distinct values.

    >>> v = FreshValues(1)
    >>> v.card("") != v.card("")
    True
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:fresh-values")
        self._used: Counter[str] = Counter()
        self._mix: dict[str, tuple[int, int]] = {}

    def _draw(self, kind: str, size: int) -> int:
        """The next number of ``kind`` in 0..size-1, never the same twice."""
        n = self._used[kind]
        if n >= size:
            raise ValueError(f"out of fresh {kind} values after {size} (a smaller pool, please)")
        self._used[kind] += 1
        if kind not in self._mix:
            a = self._rng.randrange(size // 3, size) | 1
            while math.gcd(a, size) != 1:
                a += 2
            self._mix[kind] = (a, self._rng.randrange(size))
        a, b = self._mix[kind]
        return (a * n + b) % size

    def _name(self) -> str:
        n = self._draw("name", len(_SYLLABLES) ** _NAME_SYLLABLES)
        parts = []
        for _ in range(_NAME_SYLLABLES):
            n, digit = divmod(n, len(_SYLLABLES))
            parts.append(_SYLLABLES[digit])
        return "".join(parts).capitalize()

    def first_name(self) -> str:
        return self._name()

    def last_name(self) -> str:
        return self._name()

    def email(self, first: str | None = None, last: str | None = None) -> str:
        """Unique through its names: pass a customer's fresh names, or get new ones."""
        first, last = first or self.first_name(), last or self.last_name()
        return f"{first.lower()}.{last.lower()}{self._rng.randint(1, 99)}@{self._rng.choice(_DOMAINS)}"

    def address(self) -> str:
        street = self._name()
        return (f"{self._rng.randint(1, 250)} {street} {self._rng.choice(_STREETS)}, "
                f"{self._rng.choice(_CITIES)}")

    def phone(self, like: str = "") -> str:
        """``+44 20 ...`` or ``(415) ...`` as ``like`` is written (at random without it)."""
        uk = like.startswith("+") if like else self._rng.random() < 0.5
        if uk:
            n = self._draw("phone_uk", len(_UK_BLOCKS) * 10**7)
            block, rest = divmod(n, 10**7)
            return f"+44 20 {_UK_BLOCKS[block]}{rest // 10**4:03d} {rest % 10**4:04d}"
        n = self._draw("phone_us", len(_NANP_AREAS) * 800 * 10**4)
        area, rest = divmod(n, 800 * 10**4)
        return f"({_NANP_AREAS[area]}) {200 + rest // 10**4}-{rest % 10**4:04d}"

    def card(self, like: str) -> str:
        """A 16-digit Visa number (Luhn-valid), grouped as ``like`` is (space, dash or none)."""
        digits = f"4{self._draw('card', 10**14):014d}"
        digits += luhn.calc_check_digit(digits)
        sep = next((ch for ch in like if not ch.isdigit()), "")
        return sep.join(digits[i:i + 4] for i in range(0, 16, 4)) if sep else digits

    def ssn(self) -> str:
        while True:
            n = self._draw("ssn", len(_SSN_AREAS) * 99 * 9999)
            area, rest = divmod(n, 99 * 9999)
            group, serial = divmod(rest, 9999)
            value = f"{_SSN_AREAS[area]:03d}-{group + 1:02d}-{serial + 1:04d}"
            if stdnum_ssn.is_valid(value.replace("-", "")):  # skips the advertising numbers stdnum refuses
                return value

    def ipv4(self) -> str:
        n = self._draw("ipv4", len(_IP_FIRST) * 256 * 256 * 254)
        first, rest = divmod(n, 256 * 256 * 254)
        b, rest = divmod(rest, 256 * 254)
        c, d = divmod(rest, 254)
        return f"{_IP_FIRST[first]}.{b}.{c}.{d + 1}"

    def iban(self) -> str:
        n = self._draw("iban", len(_BANKS) * 10**14)
        bank, number = divmod(n, 10**14)
        bban = f"{_BANKS[bank]}{number:014d}"
        return f"GB{stdnum_iban.calc_check_digits('GB00' + bban)}{bban}"

    def secret(self, kind: str) -> str:
        """A ``card``, ``ssn``, ``ipv4`` or ``iban`` value (what a stream item's free text carries)."""
        return {"card": lambda: self.card(" "), "ssn": self.ssn, "ipv4": self.ipv4, "iban": self.iban}[kind]()

    def like(self, old: str) -> str:
        """A fresh value of the kind ``old`` is (a value ``bench/payloads.py`` put in free text)."""
        for kind, shape in _TEXT_KINDS:
            if shape.fullmatch(old):
                return self._text_makers()[kind](old)
        raise ValueError("loadtests/fresh.py does not know the kind of a value bench/payloads.py seeded "
                         f"({len(old)} characters; expected an email, phone, card, SSN, IPv4 or IBAN)")

    def _text_makers(self) -> dict[str, Callable[[str], str]]:
        return {"email": lambda _: self.email(), "phone": self.phone, "card": self.card,
                "ssn": lambda _: self.ssn(), "ipv4": lambda _: self.ipv4(), "iban": lambda _: self.iban()}


_TEXT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[^@\s]+@[^@\s]+")),
    ("iban", re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")),
    ("ssn", re.compile(r"\d{3}-\d{2}-\d{4}")),
    ("ipv4", re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")),
    ("card", re.compile(r"\d{4}(?:[ -]?\d{4}){3}")),
    ("phone", re.compile(r"\+[\d ]+|\(\d{3}\) \d{3}-\d{4}")),
)

# Keys under which bench/payloads.py puts a whole PII value, and how to make a fresh one from
# (the old value, the dict's new names): a customer's email is made from its new names, as bench does.
_NAMES = ("first_name", "last_name")
_KEYED: dict[str, Callable[[FreshValues, str, dict[str, str]], str]] = {
    "first_name": lambda v, _, __: v.first_name(),
    "last_name": lambda v, _, __: v.last_name(),
    "email": lambda v, _, names: v.email(names.get("first_name"), names.get("last_name")),
    "phone": lambda v, old, _: v.phone(old),
    "address": lambda v, _, __: v.address(),
}


class _Refresher:
    """Replaces, in one parsed body, every value bench seeded, recording the new ones."""

    def __init__(self, payload: Payload, values: FreshValues) -> None:
        self.old_values = set(payload.pii_values)
        self.old_substrings = sorted(set(payload.pii_substrings), key=len, reverse=True)
        self.values = values
        self.new_values: list[str] = []
        self.new_substrings: list[str] = []

    def walk(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.text(node) if " " in node else node  # bench's free text has spaces; ids and dates not
        if isinstance(node, list):
            return [self.walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        names: dict[str, str] = {}  # made first: the customer's email is made from its new names
        for key in _NAMES:
            if self.seeded(key, node.get(key)):
                names[key] = self.keyed(key, node[key], names)
        out = {}
        for key, value in node.items():
            if key in names:
                out[key] = names[key]
            elif key in _KEYED and self.seeded(key, value):
                out[key] = self.keyed(key, value, names)
            else:
                out[key] = self.walk(value)
        return out

    def seeded(self, key: str, value: Any) -> bool:
        return key in _KEYED and isinstance(value, str) and value in self.old_values

    def keyed(self, key: str, old: str, names: dict[str, str]) -> str:
        new = _KEYED[key](self.values, old, names)
        self.new_values.append(new)
        return new

    def text(self, value: str) -> str:
        for old in self.old_substrings:
            if old in value:
                new = self.values.like(old)
                self.new_substrings.append(new)
                return value.replace(old, new, 1)  # bench puts at most one value in a text
        return value


def _structure_seed(seed: int, name: str, index: int) -> int:
    """A seed of its own for each (request, entry): ids, timestamps and text differ between bodies too."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{name}:{index}".encode(), digest_size=8).digest(), "big")


def fresh_json(label: str, variant: str, seed: int, values: FreshValues) -> Payload:
    """A ``bench/payloads.py`` body of ``label`` size whose seeded values are all fresh."""
    original = build(label, SIZES[label], seed, variant)
    if not original.pii_values and not original.pii_substrings:
        return original  # pii_free: nothing to replace
    refresher = _Refresher(original, values)
    doc = refresher.walk(json.loads(original.body))
    replaced = (len(refresher.new_values), len(refresher.new_substrings))
    if replaced != (len(original.pii_values), len(original.pii_substrings)):
        raise RuntimeError(f"bench/payloads.py seeded {len(original.pii_values)} keyed and "
                           f"{len(original.pii_substrings)} free-text values, loadtests/fresh.py replaced "
                           f"{replaced[0]} and {replaced[1]}: teach _KEYED or _TEXT_KINDS the new ones")
    body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    return Payload(label, variant, body, refresher.new_substrings, refresher.new_values,
                   original.strings, original.pii_strings)


def fresh_payload(source: str, name: str, index: int, seed: int, values: FreshValues) -> Payload:
    """Entry ``index`` of request ``name``'s pool; ``source`` is its ``RequestSpec.payload``.

    ``10KB/realistic`` (a JSON body), ``ndjson`` or ``sse``.
    """
    from loadtests.payloads import ndjson_payload, sse_payload

    own_seed = _structure_seed(seed, name, index)
    if source == "ndjson":
        return ndjson_payload(own_seed, values)
    if source == "sse":
        return sse_payload(own_seed, values)
    label, _, variant = source.partition("/")
    if label not in SIZES or variant not in ("realistic", "pii_free"):
        raise ValueError(f"no fresh bodies for payload {source!r} (expected SIZE/VARIANT, ndjson or sse)")
    return fresh_json(label, variant, own_seed, values)
