"""Seeded, realistic JSON API payloads for the engine benchmark.

Two families, each built to a target size (~1 KB, 10 KB, 100 KB, 1 MB):

* ``realistic``: customers / orders / events with ids, SKUs, prices,
  timestamps, booleans, tags and free text. About 5-10% of all string values
  carry PII (emails, phones, Luhn-valid cards, US SSNs, IPv4, GB IBANs), and
  customers carry PII under sensitive key names (first_name, email, phone,
  address...). Every seeded PII value is recorded for the leak check.
* ``pii_free``: the same shape of traffic with no PII, no sensitive key names
  (no name/email/phone/address/ip/token/password/dob/zip... keys) and no
  backslash escapes (ASCII only, no quotes in text).

Everything comes from one ``random.Random(seed)`` per payload, so a given
(seed, size) always yields the same bytes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

SIZES: dict[str, int] = {"1KB": 1_000, "10KB": 10_000, "100KB": 100_000, "1MB": 1_000_000}

_FIRST = ("Olivia", "Amelia", "Isla", "Harriet", "Theodore", "Oliver", "Arthur", "Leonora", "Priyanka", "Mateusz",
          "Siobhan", "Yusuf", "Beatrix", "Ignatius", "Rosalind", "Evander")
_LAST = ("Whitcombe", "Okonkwo", "Fairweather", "Abernathy", "Kowalczyk", "Ravenscroft", "Delacroix", "Nakamura",
         "Thistlewood", "Oyelaran", "Montgomery", "Lindqvist")
_STREETS = ("Baker Street", "Gloucester Road", "Old Kent Road", "Market Street", "Valencia Street", "Elm Avenue")
_CITIES = ("London", "Manchester", "Leeds", "San Francisco", "Portland", "Austin")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.co.uk")
_WORDS = ("please", "deliver", "before", "noon", "the", "parcel", "was", "left", "at", "front", "desk", "thanks",
          "again", "for", "quick", "support", "item", "arrived", "slightly", "damaged", "box", "replacement",
          "requested", "customer", "asked", "about", "refund", "status", "follow", "up", "tomorrow", "gift",
          "wrap", "this", "order", "if", "possible", "great", "service", "will", "buy", "again", "colour",
          "differs", "from", "photo", "shipped", "via", "courier", "tracking", "updated")
_TAGS = ("priority", "gift", "returning", "wholesale", "promo", "backorder", "fragile", "express", "eu", "us")
_STATUS = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
_EVENTS = ("page_view", "add_to_cart", "checkout_started", "payment_succeeded", "login", "logout", "search")
_CURRENCIES = ("GBP", "USD", "EUR")
_PRODUCTS = ("Walnut desk organiser", "Linen tea towel", "Ceramic pour-over set", "Merino beanie", "Oak chopping board",
             "Enamel camping mug", "Copper plant mister", "Recycled notebook")


@dataclass
class Payload:
    """One generated body plus what the leak check needs."""

    label: str
    variant: str  # "realistic" | "pii_free"
    body: bytes
    # PII values embedded in free text (checked as raw substrings of the output).
    pii_substrings: list[str] = field(default_factory=list)
    # PII values held whole under sensitive keys (checked as JSON string literals "value").
    pii_values: list[str] = field(default_factory=list)
    strings: int = 0
    pii_strings: int = 0


# -- PII value generators ------------------------------------------------------


def _luhn_complete(prefix: str, rng: random.Random, length: int = 16) -> str:
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):  # positions from the right, check digit not yet appended
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    digits.append((10 - total % 10) % 10)
    return "".join(map(str, digits))


def card_number(rng: random.Random) -> str:
    digits = _luhn_complete(rng.choice(("4", "51", "53", "4539")), rng)
    style = rng.randrange(3)
    if style == 0:
        return " ".join(digits[i:i + 4] for i in range(0, 16, 4))
    if style == 1:
        return "-".join(digits[i:i + 4] for i in range(0, 16, 4))
    return digits


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"+44 20 7946 0{rng.randint(0, 999):03d}"
    return f"({rng.choice((415, 212, 312, 617))}) 555-{rng.randint(100, 9999):04d}"


def ipv4(rng: random.Random) -> str:
    return f"{rng.choice((203, 198, 81, 86, 145))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def iban(rng: random.Random) -> str:
    bban = rng.choice(("WEST", "NWBK", "BARC", "LOYD")) + "".join(str(rng.randrange(10)) for _ in range(14))
    rearranged = bban + "GB00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    return f"GB{check:02d}{bban}"


def email(rng: random.Random, first: str | None = None, last: str | None = None) -> str:
    first = first or rng.choice(_FIRST)
    last = last or rng.choice(_LAST)
    return f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}"


_PII_MAKERS: tuple[Callable[[random.Random], str], ...] = (email, phone, card_number, ssn, ipv4, iban)


# -- builders ------------------------------------------------------------------


class _Builder:
    """Keeps the rng, string counters and the seeded PII list for one payload."""

    def __init__(self, rng: random.Random, pii: bool) -> None:
        self.rng = rng
        self.pii = pii
        self.strings = 0
        self.pii_strings = 0
        self.pii_substrings: list[str] = []
        self.pii_values: list[str] = []
        self.n = 0

    def s(self, value: str) -> str:
        self.strings += 1
        return value

    def sensitive(self, value: str) -> str:
        """A PII value held whole under a sensitive key."""
        self.strings += 1
        self.pii_strings += 1
        self.pii_values.append(value)
        return value

    def ts(self) -> str:
        r = self.rng
        return self.s(f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
                      f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z")

    def ident(self, prefix: str) -> str:
        return self.s(f"{prefix}_{self.rng.getrandbits(48):012x}")

    def text(self, lo: int = 6, hi: int = 24, pii_rate: float = 0.0) -> str:
        r = self.rng
        words = [r.choice(_WORDS) for _ in range(r.randint(lo, hi))]
        self.strings += 1
        if self.pii and r.random() < pii_rate:
            value = r.choice(_PII_MAKERS)(r)
            words.insert(r.randint(1, len(words)), value)
            self.pii_strings += 1
            self.pii_substrings.append(value)
        sentence = " ".join(words)
        return sentence[0].upper() + sentence[1:] + "."  # not str.capitalize(): it would lowercase the PII

    def price(self) -> float:
        return round(self.rng.uniform(1.5, 480.0), 2)


def _customer(b: _Builder) -> dict[str, Any]:
    r = b.rng
    b.n += 1
    first, last = r.choice(_FIRST), r.choice(_LAST)
    street = f"{r.randint(1, 250)} {r.choice(_STREETS)}, {r.choice(_CITIES)}"
    return {
        "id": b.ident("cus"),
        "first_name": b.sensitive(first),
        "last_name": b.sensitive(last),
        "email": b.sensitive(email(r, first, last)),
        "phone": b.sensitive(phone(r)),
        "address": b.sensitive(street),
        "created_at": b.ts(),
        "verified": r.random() < 0.8,
        "tags": [b.s(t) for t in r.sample(_TAGS, r.randint(0, 3))],
        "notes": b.text(4, 14, pii_rate=0.1),
    }


def _item(b: _Builder) -> dict[str, Any]:
    r = b.rng
    return {
        "sku": b.s(f"SKU-{r.randint(10000, 99999)}-{r.choice('ABCDEFGH')}"),
        "title": b.s(r.choice(_PRODUCTS)),
        "qty": r.randint(1, 5),
        "unit_price": b.price(),
        "gift": r.random() < 0.1,
    }


def _order(b: _Builder, customers: list[str]) -> dict[str, Any]:
    r = b.rng
    items = [_item(b) for _ in range(r.randint(1, 4))]
    return {
        "id": b.ident("ord"),
        "customer_ref": b.s(r.choice(customers)) if customers else b.ident("cus"),
        "status": b.s(r.choice(_STATUS)),
        "currency": b.s(r.choice(_CURRENCIES)),
        "placed_at": b.ts(),
        "updated_at": b.ts(),
        "items": items,
        "total": round(sum(i["qty"] * i["unit_price"] for i in items), 2),
        "paid": r.random() < 0.7,
        "tags": [b.s(t) for t in r.sample(_TAGS, r.randint(0, 3))],
        "comment": b.text(6, 30, pii_rate=0.3),
    }


def _event(b: _Builder) -> dict[str, Any]:
    r = b.rng
    return {
        "event_id": b.ident("evt"),
        "kind": b.s(r.choice(_EVENTS)),
        "at": b.ts(),
        "session_ref": b.ident("ses"),
        "success": r.random() < 0.95,
        "duration_ms": r.randint(3, 4000),
        "message": b.text(3, 12, pii_rate=0.15),
    }


def build(label: str, target: int, seed: int, variant: str) -> Payload:
    """A payload of about ``target`` bytes (never more than ~3% over for the larger sizes)."""
    rng = random.Random(f"{seed}:{label}:{variant}")
    pii = variant == "realistic"
    b = _Builder(rng, pii)
    doc: dict[str, Any] = {
        "object": b.s("list"),
        "request_ref": b.ident("req"),
        "generated_at": b.ts(),
        "has_more": False,
        "orders": [],
        "events": [],
    }
    if pii:
        doc["customers"] = []
    size = len(json.dumps(doc, separators=(",", ":")))
    customer_ids: list[str] = []
    while size < target:
        roll = rng.random()
        if pii and roll < 0.12:
            c = _customer(b)
            customer_ids.append(c["id"])
            part: dict[str, Any] = c
            doc["customers"].append(c)
        elif roll < 0.6:
            part = _order(b, customer_ids)
            doc["orders"].append(part)
        else:
            part = _event(b)
            doc["events"].append(part)
        size += len(json.dumps(part, separators=(",", ":"))) + 1
    body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    if not pii and b"\\" in body:
        raise AssertionError("pii_free payload must not contain backslash escapes")
    return Payload(label, variant, body, b.pii_substrings, b.pii_values, b.strings, b.pii_strings)


def generate(seed: int) -> dict[tuple[str, str], Payload]:
    """Every (size label, variant) payload for ``seed``."""
    return {(label, variant): build(label, target, seed, variant)
            for label, target in SIZES.items() for variant in ("realistic", "pii_free")}
