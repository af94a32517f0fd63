"""The bodies the load-test apps serve, with the PII values seeded into them.

JSON bodies come from ``bench/payloads.py`` (the engine and proxy benchmarks use
the same generator, so numbers line up): ``realistic`` (customers, orders,
events; PII under sensitive keys and inside free text) and ``pii_free``, at
~1 KB, 10 KB and 100 KB. The NDJSON and SSE streams are built here from the same
PII makers. Everything derives from one seed, so a seed always yields the same
bytes, and every seeded value is recorded for the leak check.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from bench.payloads import SIZES, Payload, build, card_number, email, iban, ipv4, phone, ssn

if TYPE_CHECKING:
    from loadtests.fresh import FreshValues

SEED = 20240601
LOAD_SIZES = ("1KB", "10KB", "100KB")
VARIANTS = ("realistic", "pii_free")
STREAM_ITEMS = 5  # lines of the NDJSON body, events of the SSE body

__all__ = ["SEED", "LOAD_SIZES", "VARIANTS", "Payload", "json_payloads", "ndjson_payload", "sse_payload"]


def json_payloads(seed: int = SEED) -> dict[tuple[str, str], Payload]:
    """Every (size, variant) JSON payload served by ``GET /json/{size}/{variant}``."""
    return {(label, variant): build(label, SIZES[label], seed, variant) for label in LOAD_SIZES for variant in VARIANTS}


def _stream_items(seed: int, kind: str, fresh: FreshValues | None) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Small JSON documents carrying PII: whole values under sensitive keys, and some inside free text.

    With ``fresh`` (``--fresh``), the PII values come from it and never repeat.
    """
    rng = random.Random(f"{seed}:{kind}")
    items: list[dict[str, Any]] = []
    values: list[str] = []
    substrings: list[str] = []
    for n in range(STREAM_ITEMS):
        if fresh is None:
            contact = {"email": email(rng), "phone": phone(rng)}
            secret = rng.choice((card_number, ssn, ipv4, iban))(rng)
        else:
            contact = {"email": fresh.email(), "phone": fresh.phone()}
            secret = fresh.secret(rng.choice(("card", "ssn", "ipv4", "iban")))
        values += [contact["email"], contact["phone"]]
        substrings.append(secret)
        items.append({
            "seq": n,
            "kind": rng.choice(("order.updated", "ticket.created", "payment.settled")),
            "customer": contact,
            "note": f"Customer asked us to use {secret} for the follow up.",
            "amount": round(rng.uniform(2, 400), 2),
        })
    return items, values, substrings


def ndjson_payload(seed: int = SEED, fresh: FreshValues | None = None) -> Payload:
    """``GET /ndjson``: a few JSON lines (``application/x-ndjson``)."""
    items, values, substrings = _stream_items(seed, "ndjson", fresh)
    body = b"".join(json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in items)
    return Payload("ndjson", "realistic", body, substrings, values)


def sse_payload(seed: int = SEED, fresh: FreshValues | None = None) -> Payload:
    """``GET /sse``: a few Server-Sent Events whose ``data:`` is JSON (``text/event-stream``)."""
    items, values, substrings = _stream_items(seed, "sse", fresh)
    body = b"".join(f"id: {item['seq']}\nevent: update\ndata: {json.dumps(item)}\n\n".encode() for item in items)
    return Payload("sse", "realistic", body, substrings, values)
