"""Realistic values that are neither personal nor secret, for ``bench/detection.py``'s false-alarm rate.

Each generator gives a value of one category (a dotted build number, a parcel tracking number,
a git SHA...), made fresh from the category's public format (UPS 1Z, USPS IMpb 94..., S10 postal
items, RFC 4122 UUIDs, SemVer 2.0). They are placed in the payload fields and sentences where such
values live, with nothing personal beside them: any change the default policy makes to one counts.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from collections.abc import Callable

from detection_data_carriers import Case, Marked, finish_json, finish_text, iso_time, keep

HEX = "0123456789abcdef"
UPPER_NUM = string.ascii_uppercase + string.digits


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def version_dotted(r: random.Random) -> str:
    return r.choice((f"{r.randint(1, 12)}.{r.randint(0, 20)}.{r.randint(0, 99)}.{r.randint(100, 999)}",
                     f"10.0.{r.randint(10000, 22631)}.{r.randint(1, 4000)}", f"{r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(1, 250)}"))


def user_agent(r: random.Random) -> str:
    return r.choice((
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{r.randint(110, 131)}.0.{r.randint(5000, 6999)}.{r.randint(10, 200)} Safari/537.36",
        f"Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.1.{r.randint(1, 20)}) Gecko/2010{r.randint(1, 12):02d}{r.randint(10, 28)} Firefox/3.5.{r.randint(1, 19)}",
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_{r.randint(1, 7)}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{r.randint(0, 5)} Safari/605.1.15",
        f"okhttp/4.{r.randint(9, 12)}.{r.randint(0, 3)}", f"python-requests/2.{r.randint(25, 32)}.{r.randint(0, 3)}",
        f"Dalvik/2.1.0 (Linux; U; Android {r.randint(10, 14)}; SM-G99{r.randint(1, 8)}B Build/UP1A.{r.randint(220000, 231005)}.007)",
    ))


def tracking_number(r: random.Random) -> str:
    kind = r.choice(("ups", "usps", "usps-spaced", "fedex", "fedex15", "dhl", "s10"))
    if kind == "ups":
        return "1Z" + _pick(r, UPPER_NUM, 6) + f"{r.randint(1, 99):02d}" + _pick(r, string.digits, 8)
    if kind.startswith("usps"):
        n = r.choice(("9400", "9205", "9361", "9274")) + _pick(r, string.digits, 18)
        return " ".join(n[i:i + 4] for i in range(0, 22, 4)) if kind == "usps-spaced" else n
    if kind == "fedex":
        return _pick(r, string.digits, 12)
    if kind == "fedex15":
        return _pick(r, string.digits, 15)
    if kind == "dhl":
        return _pick(r, string.digits, 10)
    return r.choice(("RR", "CP", "LX", "EE", "RB")) + _pick(r, string.digits, 9) + r.choice(("GB", "DE", "CN", "FR", "US"))


def price(r: random.Random) -> str:
    v = r.randint(100, 999999) / 100
    return r.choice((f"${v:,.2f}", f"€ {v:.2f}".replace(".", ","), f"{v:.2f} USD", f"£{v:.2f}", f"{v:.2f}"))


def stripe_object_id(r: random.Random) -> str:
    return r.choice(("cus_", "pi_", "ch_", "evt_", "in_", "sub_", "price_", "prod_", "req_")) + _pick(r, string.ascii_letters + string.digits, r.choice((14, 24)))


def base64_image(r: random.Random) -> str:
    return "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA" + base64.b64encode(r.randbytes(r.randint(30, 90))).decode()


def public_key(r: random.Random) -> str:
    return r.choice((
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + base64.b64encode(r.randbytes(32)).decode()[:43] + " deploy@ci",
        "-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(r.randbytes(270)).decode()[:64] + "\n" + base64.b64encode(r.randbytes(60)).decode()[:40] + "\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\n" + "\n".join(base64.b64encode(r.randbytes(48)).decode() for _ in range(3)) + "\n-----END CERTIFICATE-----",
    ))


def pem_placeholder(r: random.Random) -> str:
    label = r.choice(("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"))
    body = r.choice(("...", "<your key here>", "", "MII...", "(redacted)"))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----" if body else f"-----BEGIN {label}-----\n-----END {label}-----"


NON_PII: dict[str, Callable[[random.Random], str]] = {
    "version-dotted": version_dotted,
    "user-agent": user_agent,
    "tracking-number": tracking_number,
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "git-sha": lambda r: _pick(r, HEX, r.choice((40, 7, 12))),
    "sha256-hex": lambda r: hashlib.sha256(r.randbytes(16)).hexdigest(),
    "image-digest": lambda r: "sha256:" + hashlib.sha256(r.randbytes(16)).hexdigest(),
    "iso-timestamp": lambda r: r.choice((iso_time(r), iso_time(r)[:19].replace("T", " ") + "+02:00")),
    "epoch": lambda r: str(r.randint(1_600_000_000_000, 1_800_000_000_000)) if r.random() < 0.6 else str(r.randint(1_600_000_000, 1_800_000_000)),
    "price": price,
    "order-id": lambda r: r.choice((f"ORD-{r.randint(2019, 2026)}-{r.randint(0, 999999):06d}", f"{r.randint(10**8, 10**10)}", f"PO-{r.randint(1000, 99999)}", f"INV-{r.randint(10**5, 10**7)}")),
    "sku": lambda r: r.choice((f"SKU-{r.randint(1000, 9999)}-{r.choice(('BLK', 'WHT', 'RED'))}-{r.choice(('S', 'M', 'XL'))}", "B0" + _pick(r, UPPER_NUM, 8))),
    "cloud-region": lambda r: r.choice(("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1", "europe-west4", "us-central1", "eastus2", "westeurope", "sa-east-1")),
    "bucket-name": lambda r: r.choice(("acme", "shop", "data", "ml", "infra")) + "-" + r.choice(("prod", "staging", "dev")) + "-" + r.choice(("assets", "logs", "backups", "uploads", "artifacts")) + r.choice(("", f"-{r.randint(2019, 2026)}", f"-{_pick(r, HEX, 6)}")),
    "hostname": lambda r: r.choice((f"api-{r.randint(1, 40)}.internal.example.com", f"ip-10-0-{r.randint(0, 255)}-{r.randint(0, 255)}.ec2.internal", f"db-primary-{r.randint(1, 9):02d}", f"web{r.randint(1, 99)}.prod.example.net")),
    "file-path": lambda r: r.choice(("/var/log/nginx/access.log", f"/srv/app/releases/{r.randint(10**13, 10**14)}/config.yml", "C:\\Users\\Public\\Documents\\report.xlsx", f"src/components/Button{r.randint(1, 9)}.tsx", f"s3://data-lake/raw/2025/{r.randint(1, 12):02d}/part-{r.randint(0, 9999):05d}.parquet")),
    "semver": lambda r: r.choice((f"{r.randint(0, 20)}.{r.randint(0, 40)}.{r.randint(0, 99)}", f"v{r.randint(1, 5)}.{r.randint(0, 9)}.{r.randint(0, 9)}-rc.{r.randint(1, 5)}+build.{r.randint(1, 999)}")),
    "http-status-line": lambda r: r.choice(("HTTP/1.1 404 Not Found", "HTTP/2 200", "HTTP/1.1 503 Service Unavailable", "HTTP/1.1 429 Too Many Requests")),
    "base64-image": base64_image,
    "country-code": lambda r: r.choice(("US", "GB", "DE", "FR", "JP", "BR", "IN", "NG", "SE", "CA")),
    "currency-code": lambda r: r.choice(("USD", "EUR", "GBP", "JPY", "CHF", "BRL", "INR")),
    "stripe-object-id": stripe_object_id,
    "aws-arn": lambda r: r.choice((f"arn:aws:iam::{r.randint(10**11, 10**12 - 1)}:role/deploy", f"arn:aws:s3:::acme-prod-{r.choice(('assets', 'logs'))}", f"arn:aws:lambda:eu-west-1:{r.randint(10**11, 10**12 - 1)}:function:resize")),
    "public-key-or-cert": public_key,
    "pem-placeholder": pem_placeholder,
    "isbn": lambda r: r.choice(("978-3-16-148410-0", "978-0-596-52068-7", "979-10-90636-07-1")),
    "coordinates": lambda r: f"{r.uniform(-60, 70):.5f},{r.uniform(-170, 170):.5f}",
    "oid": lambda r: r.choice(("1.3.6.1.4.1.311.21.8", "2.5.4.3", "1.2.840.113549.1.1.11", f"1.3.6.1.4.1.{r.randint(1000, 60000)}.1.{r.randint(1, 9)}")),
    "color-hex": lambda r: "#" + _pick(r, HEX, 6),
    "duration-ms": lambda r: f"{r.randint(1, 99999)}ms",
}
"""Category -> generator of a fresh value."""

# Where each category lives: (JSON key, sentence). The sentence holds the value as {v}.
PLACES: dict[str, tuple[tuple[str, str], ...]] = {
    "version-dotted": (("build", "Build {v} is now live on all regions."), ("app_version", "Upgraded the agent to {v} last night.")),
    "user-agent": (("user_agent", "{v}"), ("http_user_agent", "request from UA \"{v}\" was throttled")),
    "tracking-number": (("tracking_number", "Your parcel {v} is out for delivery."), ("trackingNumber", "Tracking: {v} (estimated Tue)")),
    "uuid": (("id", "job {v} finished"), ("correlation_id", "correlation_id={v}")),
    "git-sha": (("commit", "deployed {v} to production"), ("sha", "revert {v}, it broke the build")),
    "sha256-hex": (("checksum", "sha256sum: {v}  release.tar.gz"), ("etag", "ETag: \"{v}\"")),
    "image-digest": (("digest", "pulled image@{v}"), ("image_digest", "digest {v}")),
    "iso-timestamp": (("created_at", "last seen {v}"), ("updatedAt", "window closes at {v}")),
    "epoch": (("timestamp", "ts={v} event=flush"), ("expires", "cache expires at {v}")),
    "price": (("amount_display", "Total due: {v}"), ("price", "now only {v}!")),
    "order-id": (("order_id", "Order {v} has shipped."), ("invoice", "invoice {v} attached")),
    "sku": (("sku", "SKU {v} is back in stock"), ("asin", "item {v} price drop")),
    "cloud-region": (("region", "deploying to {v} first"), ("aws_region", "AWS_REGION={v}")),
    "bucket-name": (("bucket", "uploaded 12 files to {v}"), ("storage_bucket", "s3://{v}/exports/")),
    "hostname": (("host", "connection to {v} refused"), ("hostname", "{v}: disk 91% full")),
    "file-path": (("path", "could not open {v}"), ("file", "wrote {v}")),
    "semver": (("version", "bumped to {v}"), ("sdk_version", "requires >= {v}")),
    "http-status-line": (("status_line", "upstream answered {v}"), ("response", "{v}")),
    "base64-image": (("avatar", "<img src=\"{v}\">"), ("thumbnail", "{v}")),
    "country-code": (("country", "shipping to {v} only"), ("country_code", "geo={v}")),
    "currency-code": (("currency", "charged in {v}"), ("currency_code", "fx {v}->USD")),
    "stripe-object-id": (("id", "refund for {v} created"), ("payment_intent", "pi status for {v}: succeeded")),
    "aws-arn": (("role_arn", "assumed {v}"), ("resource", "AccessDenied on {v}")),
    "public-key-or-cert": (("public_key", "add this deploy key:\n{v}"), ("certificate", "{v}")),
    "pem-placeholder": (("private_key", "paste your key like this:\n{v}"), ("example", "{v}")),
    "isbn": (("isbn", "ISBN {v}"), ("isbn13", "ordered {v}")),
    "coordinates": (("location", "pin at {v}"), ("latlng", "geo:{v}")),
    "oid": (("oid", "signature algorithm {v}"), ("policy_oid", "OID {v} not allowed")),
    "color-hex": (("color", "theme primary {v}"), ("background", "bg={v}")),
    "duration-ms": (("latency", "p99 {v}"), ("elapsed", "took {v}")),
}

# Keys that look like people or secrets but hold neither, and the values they hold.
TRICKY_FIELDS: tuple[tuple[tuple[str, ...], str, Callable[[random.Random], str]], ...] = (
    (("product", "name"), "product-name", lambda r: r.choice(("Wireless Mouse M185", "Ergo Chair Pro", "USB-C Hub 7-in-1", "Noise Cancelling Headphones"))),
    (("team", "name"), "team-name", lambda r: r.choice(("Payments", "Platform", "Growth", "SRE"))),
    (("plan", "name"), "plan-name", lambda r: r.choice(("Pro", "Enterprise", "Starter", "Team (annual)"))),
    (("owner",), "team-handle", lambda r: r.choice(("team-payments", "platform-eng", "@acme/sre"))),
    (("author",), "bot-account", lambda r: r.choice(("dependabot[bot]", "renovate[bot]", "github-actions[bot]"))),
    (("agent", "name"), "agent-software", lambda r: r.choice(("Datadog Agent", "fluent-bit", "otel-collector"))),
    (("agent", "version"), "version-dotted", version_dotted),
    (("token_type",), "token-type", lambda r: r.choice(("Bearer", "bearer", "DPoP"))),
    (("password_policy",), "policy-text", lambda r: "min 12 chars, 1 digit"),
    (("api_key_id",), "key-id", lambda r: f"key_{_pick(r, string.ascii_lowercase + string.digits, 8)}"),
)


def nonpii_json_case(rng: random.Random, items: list[tuple[str, str]]) -> Case:
    """One payload holding several non-PII values, each under the key where it lives."""
    doc: dict[str, object] = {"kind": rng.choice(("deploy", "shipment", "order", "telemetry", "audit"))}
    for i, (category, value) in enumerate(items):
        key, _ = rng.choice(PLACES[category])
        doc[key if key not in doc else f"{key}_{i}"] = keep(category, value)
    if rng.random() < 0.5:
        path, category, make = rng.choice(TRICKY_FIELDS)
        node: dict[str, object] = doc
        for part in path[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[path[-1]] = keep(category, make(rng))
    return finish_json("json/non-pii", doc)


def nonpii_text_case(rng: random.Random, category: str, value: str) -> Case:
    _, sentence = rng.choice(PLACES[category])
    head, _, tail = sentence.partition("{v}")
    return finish_text("text/non-pii", Marked().add(head).value(category, value, category, keep=True).add(tail))
