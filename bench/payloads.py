"""Seeded, realistic JSON API payloads for the engine benchmark.

Two families (variants), each built to a target size (~1 KB, 10 KB, 100 KB, 1 MB):

* ``realistic``: customers / orders / events with ids, SKUs, prices,
  timestamps, booleans, tags and free text. About 5-10% of all string values
  carry PII (emails, phones, Luhn-valid cards, US SSNs, IPv4, GB IBANs), and
  customers carry PII under sensitive key names (first_name, email, phone,
  address...). Every seeded PII value is recorded for the leak check.
* ``pii_free``: the same shape of traffic with no PII and no sensitive key
  names (no name/email/phone/address/ip/token/password/dob/zip... keys).

Each comes in two shapes:

* ``escape-free``: ASCII text with no quotes, so the JSON has no backslash
  escapes (the engine's fastest path). These are the bodies earlier rounds
  measured, byte for byte.
* ``escaped``: free text as people write it: newlines, tabs, double quotes,
  backslashes, accented names, CJK and emoji. Each document is written the way
  one encoder would (``ENCODERS``): Python's ``json.dumps`` (every non-ASCII
  character as ``\\uXXXX``), a UTF-8 encoder, or Go's (UTF-8, with ``<``, ``>``
  and ``&`` as ``\\u003c``...). PII sits directly next to escapes
  (``"...\\njane.doe@example.com\\"..."``), and some PII has an escaped
  character inside it (``jane\\u0040example.com``): decoded, it is the same
  value, and the leak check looks for the decoded value.

A *fresh* document (``build(..., member=n)``, ``pool``) draws its phone
numbers and email suffixes from wider ranges than the fixed bodies, so a pool
of hundreds of documents does not repeat the same few values (the fixed bodies
keep their narrow ranges to stay byte-identical to earlier rounds).

Everything comes from one ``random.Random`` per payload, keyed by the seed,
size, variant, shape and member, so the same arguments always yield the same bytes.

``VALIDATOR_CANDIDATES`` holds the strings the engine benchmark times each
detector's validator on.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

SIZES: dict[str, int] = {"1KB": 1_000, "10KB": 10_000, "100KB": 100_000, "1MB": 1_000_000}
VARIANTS = ("realistic", "pii_free")
SHAPES = ("escape-free", "escaped")
ENCODERS = ("python", "utf8", "go")
"""How an escaped document is written: json.dumps(ensure_ascii=True); UTF-8 as is; UTF-8 with Go's HTML escapes."""

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

# -- escaped shape: what real free text holds ----------------------------------

# (display name, ASCII form for the email address); CJK local parts are not
# email-shaped for veil's EMAIL detector (its docstring), so those are romanised.
_FIRST_INTL = (("José", "jose"), ("Zoë", "zoe"), ("Søren", "soren"), ("Małgorzata", "malgorzata"),
               ("Chloé", "chloe"), ("Björn", "bjorn"), ("Thành", "thanh"), ("美咲", "misaki"), ("Ана", "ana"))
_LAST_INTL = (("Müller", "muller"), ("Dvořák", "dvorak"), ("Nguyễn", "nguyen"), ("Çelik", "celik"),
              ("O'Connor", "oconnor"), ("田中", "tanaka"), ("Иванова", "ivanova"), ("Ñúñez", "nunez"))
_STREETS_INTL = ("Königstraße", "Rue de l'Église", "Calle de Alcalá", "Šumavská", "中山路", "Ørstedsvej")
_PRODUCTS_INTL = ("Crème brûlée torch", "Café au lait bowl", "抹茶 whisk set", "Smørrebrød board",
                  "Piñata kit 🎉", "Bol « Provence »", "Kaffeebecher – groß")
# Always escaped in JSON, whatever the encoder: each escaped free text gets one.
_ESCAPES = ("\n", "\n\n", "\t", "\r\n", '"fragile"', 'said "thanks"', "C:\\Users\\Public\\Orders",
            "\\\\fileserver\\returns", "regex \\d+", "path\\to\\label")
# Escaped by some encoders only: non-ASCII (python) or HTML characters (go).
_TEXT_INTL = ("Café", "naïve", "déjà vu", "señor", "Grüße", "merci beaucoup", "配送ありがとうございます", "谢谢",
              "спасибо", "😀", "📦", "✓", "—", "€", "£", "<b>urgent</b>", "R&D", "qty > two", "M&S")
# (before, after): PII directly next to an escape, a non-ASCII character or an HTML one.
_ADJACENT = (("\n", ""), ("", "\n"), ('"', '"'), ("\t", ""), ("", "\\"), ("\\", ""), ("\r\n", "\r\n"),
             ("連絡先は", "です"), ("<", ">"), ("«", "»"), ("📞", ""), ("", "…"))
_ESCAPE_INSIDE = "@+- "  # one of these, written as \uXXXX, inside some PII values
_PLACEHOLDER_BASE = 0xE000  # private-use code points stand for "write this character as \uXXXX"
_GO_HTML = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))


@dataclass
class Payload:
    """One generated body plus what the leak check needs."""

    label: str
    variant: str  # "realistic" | "pii_free"
    body: bytes
    # PII values embedded in free text (a leak check looks for them anywhere in the output).
    pii_substrings: list[str] = field(default_factory=list)
    # PII values held whole under sensitive keys.
    pii_values: list[str] = field(default_factory=list)
    strings: int = 0
    pii_strings: int = 0
    shape: str = "escape-free"  # see SHAPES
    encoder: str = "compact"  # "compact" (escape-free) or one of ENCODERS


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


def fresh_phone(rng: random.Random) -> str:
    """The shapes of ``phone`` over millions of valid numbers (``phone`` has ~40,000, 1,000 in London)."""
    if rng.random() < 0.5:
        return f"+44 20 7{rng.randint(0, 999):03d} {rng.randint(0, 9999):04d}"
    area = rng.choice((415, 212, 312, 617, 646, 718, 303, 206, 512, 305, 202, 213))
    return f"({area}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


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


def fresh_email(rng: random.Random, first: str | None = None, last: str | None = None) -> str:
    """``email`` with a suffix up to 9999 instead of 99, so a pool rarely repeats an address."""
    first = first or rng.choice(_FIRST)
    last = last or rng.choice(_LAST)
    return f"{first.lower()}.{last.lower()}{rng.randint(1, 9999)}@{rng.choice(_DOMAINS)}"


_PII_MAKERS: tuple[Callable[[random.Random], str], ...] = (email, phone, card_number, ssn, ipv4, iban)
_FRESH_PII_MAKERS: tuple[Callable[[random.Random], str], ...] = (fresh_email, fresh_phone, card_number, ssn, ipv4,
                                                                 iban)


# -- builders ------------------------------------------------------------------


class _Builder:
    """Keeps the rng, string counters and the seeded PII list for one payload.

    With ``escaped`` and ``fresh`` both off it draws from the rng exactly as the
    original generator did, so the escape-free fixed bodies stay byte-identical.
    """

    def __init__(self, rng: random.Random, pii: bool, escaped: bool = False, fresh: bool = False) -> None:
        self.rng = rng
        self.pii = pii
        self.escaped = escaped
        self.makers = _FRESH_PII_MAKERS if fresh else _PII_MAKERS
        self.phone = fresh_phone if fresh else phone
        self.email = fresh_email if fresh else email
        self.strings = 0
        self.pii_strings = 0
        self.pii_substrings: list[str] = []
        self.pii_values: list[str] = []
        self.marked: set[str] = set()  # characters _escape_inside replaced by placeholders
        self.n = 0

    def s(self, value: str) -> str:
        self.strings += 1
        return value

    def sensitive(self, value: str) -> str:
        """A PII value held whole under a sensitive key."""
        self.strings += 1
        self.pii_strings += 1
        self.pii_values.append(value)
        return self._escape_inside(value) if self.escaped else value

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
            value = r.choice(self.makers)(r)
            words.insert(r.randint(1, len(words)), self._embed(value) if self.escaped else value)
            self.pii_strings += 1
            self.pii_substrings.append(value)
        if self.escaped:
            self._sprinkle(words)
        sentence = " ".join(words)
        return sentence[0].upper() + sentence[1:] + "."  # not str.capitalize(): it would lowercase the PII

    def price(self) -> float:
        return round(self.rng.uniform(1.5, 480.0), 2)

    # -- escaped shape --

    def _sprinkle(self, words: list[str]) -> None:
        """One escape that every encoder writes (newline, tab, quote, backslash), maybe some non-ASCII text."""
        r = self.rng
        fragments = [r.choice(_ESCAPES)] + [r.choice(_TEXT_INTL) for _ in range(r.randint(0, 3))]
        for fragment in fragments:
            words.insert(r.randint(0, len(words)), fragment)

    def _embed(self, value: str) -> str:
        """``value`` with an escape (or a non-ASCII/HTML character) directly before or after it."""
        before, after = self.rng.choice(_ADJACENT)
        return before + self._escape_inside(value) + after

    def _escape_inside(self, value: str) -> str:
        """Sometimes mark one character of ``value`` to be written as ``\\uXXXX`` (see ``_write``)."""
        r = self.rng
        if r.random() >= 0.15:
            return value
        spots = [i for i, ch in enumerate(value) if ch in _ESCAPE_INSIDE]
        if not spots:
            return value
        i = r.choice(spots)
        self.marked.add(value[i])
        return value[:i] + chr(_PLACEHOLDER_BASE + ord(value[i])) + value[i + 1:]

    def name(self, names: tuple[str, ...], intl: tuple[tuple[str, str], ...]) -> tuple[str, str]:
        """(display name, its ASCII form for the email address)."""
        r = self.rng
        if self.escaped and r.random() < 0.35:
            return r.choice(intl)
        plain = r.choice(names)
        return plain, plain

    def street(self) -> str:
        r = self.rng
        streets = _STREETS + _STREETS_INTL if self.escaped else _STREETS
        return f"{r.randint(1, 250)} {r.choice(streets)}, {r.choice(_CITIES)}"

    def product(self) -> str:
        return self.s(self.rng.choice(_PRODUCTS + _PRODUCTS_INTL if self.escaped else _PRODUCTS))


def _customer(b: _Builder) -> dict[str, Any]:
    r = b.rng
    b.n += 1
    if b.escaped:
        (first, first_ascii), (last, last_ascii) = b.name(_FIRST, _FIRST_INTL), b.name(_LAST, _LAST_INTL)
    else:  # the original draws, in the original order
        first = first_ascii = r.choice(_FIRST)
        last = last_ascii = r.choice(_LAST)
    street = b.street()
    return {
        "id": b.ident("cus"),
        "first_name": b.sensitive(first),
        "last_name": b.sensitive(last),
        "email": b.sensitive(b.email(r, first_ascii, last_ascii)),
        "phone": b.sensitive(b.phone(r)),
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
        "title": b.product(),
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


def _write(doc: Any, encoder: str, marked: set[str]) -> str:
    """``doc`` as one encoder writes it (compact separators), each placeholder of ``marked`` as ``\\uXXXX``."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=encoder in ("compact", "python"))
    if encoder == "go":
        for char, escape in _GO_HTML:  # '<', '>' and '&' only occur inside strings
            text = text.replace(char, escape)
    for char in marked:
        placeholder = _PLACEHOLDER_BASE + ord(char)
        # Upper-case hex, as some encoders write it, so a body mixes both cases. The placeholder
        # stands in the text as itself (UTF-8 encoders) or as \ue0xx (ensure_ascii).
        escape = "\\u%04X" % ord(char)
        text = text.replace(chr(placeholder), escape).replace("\\u%04x" % placeholder, escape)
    return text


def _rng_key(seed: int, label: str, variant: str, shape: str, member: int | None) -> str:
    key = f"{seed}:{label}:{variant}"  # the escape-free fixed bodies keep the original key
    if shape != "escape-free":
        key += f":{shape}"
    if member is not None:
        key += f":fresh:{member}"
    return key


def build(label: str, target: int, seed: int, variant: str, shape: str = "escape-free",
          member: int | None = None) -> Payload:
    """A payload of about ``target`` bytes (never more than ~3% over for the larger sizes).

    ``member`` picks one document of a fresh pool (see ``pool``); None is the fixed body.
    """
    rng = random.Random(_rng_key(seed, label, variant, shape, member))
    pii = variant == "realistic"
    escaped = shape == "escaped"
    encoder = rng.choices(ENCODERS, weights=(4, 4, 2))[0] if escaped else "compact"
    b = _Builder(rng, pii, escaped=escaped, fresh=member is not None)
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
    body = _write(doc, encoder, b.marked).encode("utf-8")
    if escaped != (b"\\" in body):
        raise AssertionError(f"a {shape} payload must {'' if escaped else 'not '}contain backslash escapes")
    return Payload(label, variant, body, b.pii_substrings, b.pii_values, b.strings, b.pii_strings, shape, encoder)


def pool(label: str, target: int, seed: int, variant: str, shape: str, count: int) -> list[Payload]:
    """``count`` distinct fresh documents of one kind (none is the fixed body of ``build``)."""
    return [build(label, target, seed, variant, shape, member=n) for n in range(count)]


def generate(seed: int) -> dict[tuple[str, str], Payload]:
    """Every (size label, variant) escape-free fixed payload for ``seed``."""
    return {(label, variant): build(label, target, seed, variant)
            for label, target in SIZES.items() for variant in VARIANTS}


# -- validator candidates --------------------------------------------------------

# Per detector with a validator: a sentence template, then candidates the validator
# should accept and near-misses it should reject. Each is written as RE2 proposes it
# from the sentence (the ``value`` group, or the whole match); the engine benchmark
# checks that the detector's pattern does propose exactly this text.
VALIDATOR_CANDIDATES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "PHONE": ("call {} today",
              ("+44 20 7946 0958", "(212) 555-0143", "020 7946 0958", "+1 415 555 2671", "+49 30 12345678",
               "212-555-0143"),
              ("+44 20 7946 09", "(212) 055-0143", "010 8987 7558", "+1 555 123 4567", "030-1234")),
    "CREDIT_CARD": ("card {} exp 12/29",
                    ("4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4539148803436467"),
                    ("4111 1111 1111 1112", "5105-1051-0510-5101", "2024061512345678", "3782 822463 10006")),
    "IBAN": ("IBAN {} thanks",
             ("GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR14 2004 1010 0505 0001 3M02 606"),
             ("GB82 WEST 1234 5698 7654 33", "DE89370400440532013001", "NL91 ABNA 0417 1643 01")),
    # Bare nine digits ("536221847") are proposed too, but the validator timed here is the no-context
    # one, which takes written numbers only; with an SSN word nearby they go to ``with_context``
    # (``is_us_ssn``), which this table does not time. So the bare form is a near-miss here.
    "US_SSN": ("SSN {}",
               ("536-22-1847", "219 09 9998", "078.05.1124"),
               ("666-12-3456", "000-12-3456", "123-00-4567", "900-12-3456", "536221847")),
    # As for US_SSN: bare digits and groups outside the IRS ranges count only with context (not timed).
    "US_ITIN": ("ITIN {}",
                ("912-70-1234", "900 88 1234", "999.99.9999", "945-50-6789"),
                ("912-34-5678", "912-93-4567", "912-70-0000", "912-00-1234", "900701234")),
    "UK_NINO": ("NI number {}",
                ("AB 12 34 56 C", "JG103759A"),
                ("GB123456A", "NK 12 34 56 D", "BG103759A")),
    "US_PASSPORT": ("passport {}",
                    ("912803456", "C03005988"),
                    ("000000000", "A11111111")),
    "DATE_OF_BIRTH": ("born {}",
                      ("1990-01-31", "January 31, 1990", "31.01.1990", "03/04/1985", "31st Jan 1990"),
                      ("1990-02-30", "31/13/1990", "01/01/1890", "February 30, 1990")),
    "IP_ADDRESS": ("client {} connected",
                   ("203.0.113.7", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1", "10.0.0.1"),
                   ("999.1.2.3", "1.2.3.4.5", "12:30:45", "00:1a:2b:3c:4d:5e")),
    "MAC_ADDRESS": ("ether {}",
                    ("00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e"),
                    ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "00:1a:2b:3c:4d:5e:6f:70")),
    "JWT": ("token={}",
            ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
             "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ2ZWlsIn0.c2lnbmF0dXJl"),
            ("eyJub3QganNvbg.eyJ4IjoxfQ.c2ln", "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abc")),
    "API_KEY": ("key {}",
                # ghp_: 30 base62 characters, then their CRC32 in 6 base62 characters (the near-miss
                # has the same body and a wrong tail).
                ("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", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                 "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
                ("ghp_R7fK2mQ9xLp4Wv8sT1nB6yC3dE5gH0jA2kZu", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                 "sk-learn-compatible-estimators")),
    "AWS_SECRET_KEY": ("aws_secret_access_key = {}",
                       ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",),
                       ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX")),
    # Near-misses: a region, a bucket, a placeholder, a number, low entropy, and a vendor token
    # (left to API_KEY, so it keeps its own type).
    "SECRET": ("DB_PASSWORD={}",
               ("q7Rt2xLm9Vz4", "Zt4kQ9wL2mXr8vBn", "9f8e7d6c5b4a32109f8e7d6c5b4a3210", "hX3+pQ/9zL0=wK7t"),
               ("us-east-1", "acme-prod-uploads-2024", "changeme-now", "3600000000", "aaaaaaaabbbb",
                "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")),
    "BEARER_TOKEN": ("Authorization: Bearer {}",
                     ("9f8e7d6c5b4a3210abcdef", "abc.def-123_XYZ"),
                     ("token", "abcdefghij")),
}
