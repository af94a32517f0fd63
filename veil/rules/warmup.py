"""Warm a plan before it serves: compile what compiles on first use, and let RE2 build its automata.

A new plan is slow at first, and not because of any value it sees. RE2 builds
its DFA lazily, one state at a time, as input reaches states not built yet;
the plan's patterns are large alternations (every key class, every detector),
so a process's first few hundred bodies build many of them. Views for each
media type and the detector scopes a context word asks for are compiled when
first needed, and ``phonenumbers`` loads a region's metadata the first time a
number from there is checked. ``bench/engine.py``'s cold-start table, on fresh
10 KB realistic JSON bodies in a new process: the first body took ~300 ms,
bodies 1-100 5.1-5.5 ms on average, bodies 101-400 0.6-0.7 ms. A server that
starts, or reloads its policy, pays that on its first requests.

:func:`warm` runs synthetic traffic through the plan first: JSON documents
shaped like API payloads (nested records, free text with escapes and non-ASCII
text, ids, timestamps, and values of the common detector types), plain text,
NDJSON, forms, headers and query strings. All of it is generated here from a
fixed seed; none of it is anyone's data, and what caches keep of it are
digests, in caches that are bounded. Bounded in time and count, it stops by
itself. No I/O: a plan that calls a vault is not warmed (its tokens would be
written to the vault). It never raises: a warm-up is an optimisation, and a
server must start (or reload) without it rather than not at all.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from veil.errors import VeilError
from veil.rules.plan import Plan
from veil.rules.plan_types import Route

__all__ = ["DEFAULT_SECONDS", "MAX_SECONDS", "WarmResult", "warm"]

DEFAULT_SECONDS = 1.0
"""What servers spend warming a plan by default: about 20-60 payloads on a 2-CPU machine (the first
pays for compiling), which takes the first body from ~300 ms to ~9 ms and bodies 1-100 from ~5 ms
to ~1.5 ms in the cold-start table; the rest of the gap closes with the service's own traffic."""

MAX_SECONDS = 30.0
"""The most a server may be asked to spend: start-up waits for it (``veil envoy``'s start timeout
and a Kubernetes liveness probe's first ~30 s)."""


@dataclass(frozen=True)
class WarmResult:
    """What :func:`warm` did: how many payloads it ran through the plan, in how many seconds, and
    why it did not warm (``skipped``: "" when it did)."""

    payloads: int
    seconds: float
    skipped: str = ""


def warm(plan: Plan, seconds: float = DEFAULT_SECONDS, max_payloads: int = 5000, seed: int = 1) -> WarmResult:
    """Run synthetic traffic through ``plan`` for up to ``seconds`` (and ``max_payloads`` payloads).

    The plan's own results are discarded. A plan that does I/O (a vault) is left as it is. Never
    raises: an unexpected error ends the warm-up, and ``skipped`` says what it was.
    """
    start = time.perf_counter()
    if plan.does_io:
        return WarmResult(0, 0.0, "the plan does I/O (a vault): its tokens would be written")
    if seconds <= 0 or max_payloads <= 0:
        return WarmResult(0, 0.0, "off")
    done = 0
    try:
        for run in _Traffic(random.Random(seed)).payloads(plan):
            try:
                run()
            except VeilError:
                pass  # a policy may refuse some of it (a body over its limits): the rest still warms
            done += 1
            if done >= max_payloads or time.perf_counter() - start >= seconds:
                break
    except Exception as exc:  # noqa: BLE001 - an optimisation must not stop a start-up or a reload
        return WarmResult(done, time.perf_counter() - start, f"stopped by {type(exc).__name__}: {exc}")
    return WarmResult(done, time.perf_counter() - start)


# -- what the synthetic traffic is made of ---------------------------------------------

_KEYS = (
    "id", "uuid", "type", "status", "state", "kind", "created_at", "updatedAt", "timestamp", "version",
    "title", "subject", "text", "content", "description", "message", "comment", "notes", "summary", "label",
    "amount", "currency", "price", "quantity", "total", "sku", "code", "reference", "category", "source",
    "url", "href", "locale", "tz", "score", "rating", "enabled", "count", "priority", "channel", "region",
    "user_id", "orderId", "request_id", "trace_id", "session", "attempts", "duration_ms", "language", "plan",
)
_SENSITIVE_KEYS = (
    "name", "first_name", "lastName", "email", "emailAddress", "phone", "mobile", "phoneNumber", "address",
    "street", "postcode", "dob", "date_of_birth", "ssn", "card_number", "iban", "password", "token",
    "api_key", "apiKey", "secret", "authorization", "client_ip", "ipAddress", "user_agent",
)
_PARENTS = ("data", "results", "items", "orders", "users", "customers", "events", "records", "entries", "lines")
_WORDS = (
    "the", "order", "was", "shipped", "today", "please", "call", "me", "back", "about", "my", "refund",
    "account", "invoice", "delivery", "package", "arrived", "damaged", "thanks", "again", "support",
    "ticket", "customer", "reported", "issue", "with", "login", "payment", "failed", "retry", "later",
    "update", "address", "changed", "confirm", "email", "number", "contact", "weekend", "office",
    "merci", "beaucoup", "livraison", "retard", "danke", "schön", "Grüße", "straße", "gracias",
    "envío", "pedido", "niño", "café", "déjà", "naïve", "façade", "ありがとう", "配送", "谢谢", "订单",
    "спасибо", "заказ", "שלום", "مرحبا", "😀", "📦", "👍", "€", "£", "—", "…", "«", "»",
)
_DOMAINS = ("example.com", "mail.example.org", "corp.example.net", "example.co.uk", "test.example.io")
_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "MX", "CA", "AU", "JP", "SG", "ZA", "IE")
_IBAN_SHAPES = (("DE", 18), ("FR", 23), ("GB", 18), ("NL", 14))
"""Digits-only BBANs: valid for DE and FR; GB and NL want letters, so theirs are near-misses the check refuses."""
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class _Traffic:
    """Synthetic payloads, each a call into the plan."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.values: tuple[Callable[[], str], ...] = (
            self.email, self.phone, self.card, self.iban, self.ssn, self.ipv4, self.ipv6, self.date,
            self.api_key, self.jwt, self.uuid, self.url,
        )

    def payloads(self, plan: Plan) -> Iterator[Callable[[], object]]:
        rng = self.rng
        response = Route("response", "GET", "api.example.com", "/v1/orders", "application/json")
        while True:
            for _ in range(8):
                body = self.json_body(rng.choice((1_000, 2_000, 4_000, 10_000)))
                yield partial(plan.redact_body, body, "application/json", response if rng.random() < 0.5 else None)
            yield partial(plan.redact_body, self.text(40).encode(), "text/plain; charset=utf-8")
            yield partial(plan.redact_body, self.ndjson(), "application/x-ndjson")
            yield partial(plan.redact_body, self.form(), "application/x-www-form-urlencoded")
            yield partial(plan.redact_headers, self.headers())
            yield partial(plan.redact_query, self.form().decode())

    # -- documents ---------------------------------------------------------------------

    def json_body(self, size: int) -> bytes:
        rng = self.rng
        records: list[object] = []
        length = 2
        while length < size:
            record = self.record(depth=0)
            records.append(record)
            length += len(json.dumps(record)) + 1
        doc = {rng.choice(_PARENTS): records, "page": rng.randint(1, 40), "has_more": rng.random() < 0.5}
        if rng.random() < 0.5:
            text = json.dumps(doc, ensure_ascii=rng.random() < 0.3)
        else:
            text = json.dumps(doc, indent=rng.choice((None, 2)), ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")

    def record(self, depth: int) -> dict[str, object]:
        rng = self.rng
        record: dict[str, object] = {}
        for _ in range(rng.randint(4, 12)):
            key = rng.choice(_SENSITIVE_KEYS if rng.random() < 0.12 else _KEYS)
            if rng.random() < 0.2:
                key = key.upper() if rng.random() < 0.3 else key.replace("_", "-")
            roll = rng.random()
            if roll < 0.3:
                record[key] = self.text(rng.randint(3, 30))
            elif roll < 0.4:
                record[key] = rng.choice(self.values)()
            elif roll < 0.6:
                record[key] = rng.choice((self.uuid, self.hex_id, self.date, self.url, self.word_id))()
            elif roll < 0.75:
                record[key] = rng.choice((rng.randint(0, 10**rng.randint(1, 15)), round(rng.uniform(-1e4, 1e4), 2),
                                          rng.random() < 0.5, None))
            elif roll < 0.8 and depth < 2:
                record[key] = self.record(depth + 1)
            elif roll < 0.85 and depth < 2:
                record[key] = [self.record(2) if rng.random() < 0.3 else self.text(4) for _ in range(rng.randint(1, 3))]
            else:
                record[key] = self.uuid()
        return record

    def text(self, words: int) -> str:
        """Free text with, here and there, a value of some detector type, escapes and non-ASCII words."""
        rng = self.rng
        parts: list[str] = []
        for _ in range(words):
            roll = rng.random()
            if roll < 0.02:
                parts.append(rng.choice(self.values)())
            elif roll < 0.05:
                parts.append(rng.choice(("\n", "\r\n", "\t", '"quoted"', "C:\\Users\\Public", "a\\b", "(", ")", "<", ">")))
            else:
                parts.append(rng.choice(_WORDS))
        text = " ".join(parts)
        return text[:1].upper() + text[1:] + rng.choice((".", "!", "?", "", "…"))

    def ndjson(self) -> bytes:
        return b"".join(json.dumps(self.record(depth=1)).encode() + b"\n" for _ in range(self.rng.randint(2, 20)))

    def form(self) -> bytes:
        from urllib.parse import urlencode

        rng = self.rng
        pairs = [(rng.choice(_KEYS), rng.choice(self.values)() if rng.random() < 0.5 else self.text(3))
                 for _ in range(rng.randint(2, 8))]
        return urlencode(pairs).encode()

    def headers(self) -> list[tuple[str, str]]:
        rng = self.rng
        return [
            ("host", "api.example.com"), ("user-agent", "client/1.2 (Linux x86_64)"), ("accept", "application/json"),
            ("authorization", f"Bearer {self.jwt()}" if rng.random() < 0.5 else f"Basic {self.token(20)}"),
            ("cookie", f"session={self.token(32)}; theme=dark; uid={self.uuid()}"),
            ("x-forwarded-for", f"{self.ipv4()}, {self.ipv4()}"), ("x-api-key", self.api_key()),
            ("x-request-id", self.uuid()), ("referer", self.url()),
        ]

    # -- values --------------------------------------------------------------------------

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def token(self, n: int) -> str:
        return "".join(self.rng.choice(_ALNUM) for _ in range(n))

    def email(self) -> str:
        rng = self.rng
        name = rng.choice(("ana", "li.wei", "j.smith", "marie-claire", "o'brien", "ng_k", "zoë"))
        return f"{name}{rng.randint(1, 999)}@{rng.choice(_DOMAINS)}"

    def phone(self) -> str:
        import phonenumbers

        rng = self.rng
        region = rng.choice(_REGIONS)
        example = phonenumbers.example_number_for_type(region, rng.choice(
            (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)))
        if example is None:
            return "+1 202 555 0" + self.digits(3)
        national = str(example.national_number)
        example.national_number = int(national[:-4] + self.digits(4))
        style = rng.choice((phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL,
                            phonenumbers.PhoneNumberFormat.E164))
        return phonenumbers.format_number(example, style)

    def card(self) -> str:
        from veil.rules.detectors._common import luhn_valid

        rng = self.rng
        prefix = rng.choice(("4", "51", "55", "37", "6011", "35"))
        body = prefix + self.digits((15 if prefix == "37" else 16) - len(prefix) - 1)
        # A near-miss one time in four: a Luhn-invalid number is checked and refused.
        valid = rng.random() >= 0.25
        digit = next(d for d in "0123456789" if luhn_valid(body + d) == valid)
        number = body + digit
        if rng.random() < 0.5:
            return number
        sep = rng.choice((" ", "-"))
        return sep.join(number[i : i + 4] for i in range(0, len(number), 4))

    def iban(self) -> str:
        from stdnum import iban

        country, length = self.rng.choice(_IBAN_SHAPES)
        bban = self.digits(length)
        number = country + iban.calc_check_digits(country + "00" + bban) + bban
        return number if self.rng.random() < 0.5 else " ".join(number[i : i + 4] for i in range(0, len(number), 4))

    def ssn(self) -> str:
        rng = self.rng
        return f"{rng.randint(1, 899):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"

    def ipv4(self) -> str:
        return ".".join(str(self.rng.randint(1, 254)) for _ in range(4))

    def ipv6(self) -> str:
        return "2001:db8:" + ":".join(f"{self.rng.randint(0, 0xFFFF):x}" for _ in range(6))

    def date(self) -> str:
        rng = self.rng
        y, m, d = rng.randint(1940, 2024), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice((f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}T10:{d:02d}:00Z"))

    def api_key(self) -> str:
        rng = self.rng
        return rng.choice((
            lambda: "sk_live_" + self.token(24), lambda: "ghp_" + self.token(36),
            lambda: "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            lambda: "xoxb-" + self.digits(11) + "-" + self.digits(12) + "-" + self.token(24),
            lambda: "AIza" + self.token(35), lambda: "key_" + self.token(16),
        ))()

    def jwt(self) -> str:
        def part(data: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        return ".".join((part({"alg": "HS256", "typ": "JWT"}), part({"sub": self.uuid(), "iat": self.rng.randint(1, 2**31)}),
                         self.token(43)))

    def hex_id(self) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(self.rng.choice((12, 16, 24, 32, 40))))

    def word_id(self) -> str:
        return f"{self.rng.choice(_PARENTS)[:3]}_{self.token(self.rng.choice((8, 14, 24)))}"

    def uuid(self) -> str:
        h = "".join(self.rng.choice("0123456789abcdef") for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def url(self) -> str:
        rng = self.rng
        return f"https://{rng.choice(_DOMAINS)}/v{rng.randint(1, 3)}/{rng.choice(_PARENTS)}/{self.uuid()}?page={rng.randint(1, 9)}"
