"""The httpx transports against a vendor on a loopback socket: streams, limits, unread bodies.

Each vendor below holds part of its body back until the test says so (``Gate``). A transport
that reads the whole body before handing the response on keeps the client waiting until the
gate gives up, and the test fails on ``gate.gave_up``: that is how these tests see the
difference between streaming and buffering, with no clock measured.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from veil import RedactionError, compile_policy
from veil.integrations.httpx import AsyncRedactingTransport, RedactingTransport

from tests.integrations.httpx_vendor import Handler, serve

EMAIL_SCAN = "  - scan: {detectors: [EMAIL], action: redact}\n"
SMALL = compile_policy("version: 1\nlimits: {max_body_bytes: 2048}\nrules:\n" + EMAIL_SCAN)
TOKENIZE_SMALL = compile_policy(
    "version: 1\nlimits: {max_body_bytes: 2048}\nkeys:\n  tokens: {env: T}\n"
    "rules:\n  - scan: {detectors: [EMAIL], action: {type: tokenize, key: tokens}}\n",
    key_material={"tokens": {"k1": bytes(range(64))}},
)
REQUESTS_ONLY = compile_policy(
    "version: 1\nlimits: {max_body_bytes: 2048}\nrules:\n"
    "  - match: {direction: request}\n    scan: {detectors: [EMAIL], action: redact}\n"
)


class Gate:
    """Lets the vendor go on once the client has what it should have by then."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self.gave_up = False

    def wait(self) -> None:
        # The timeout only keeps a buffering transport from hanging the suite (the clients wait 10 s).
        if not self._open.wait(timeout=4):
            self.gave_up = True

    def open(self) -> None:
        self._open.set()


def openai_event(text: str, finish: bool) -> bytes:
    doc = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop" if finish else None}]}
    return json.dumps(doc).encode()


def frame(kind: str, payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n" if kind == "sse" else payload + b"\n"


STREAM_TYPES = {"sse": "text/event-stream", "ndjson": "application/x-ndjson"}


def delta_texts(kind: str, body: bytes) -> str:
    """The concatenated delta text of a streamed reply (what the caller's code would show)."""
    out = ""
    for line in body.splitlines():
        payload = line[len(b"data: "):] if kind == "sse" else line
        if payload.startswith(b"{"):
            out += json.loads(payload)["choices"][0]["delta"]["content"]
    return out


def two_part_stream(kind: str, gate: Gate) -> Callable[[Handler], None]:
    """An LLM reply: a first message with an address split over two events, then (after
    the gate) a second message."""

    def answer(handler: Handler) -> None:
        handler.start_chunked(STREAM_TYPES[kind])
        handler.chunk(frame(kind, openai_event("mail jane@exa", False)))
        handler.chunk(frame(kind, openai_event("mple.com now.", True)))
        gate.wait()
        handler.chunk(frame(kind, openai_event(" Done, jane@example.com.", True)))
        handler.chunk(b"")

    return answer


def read_streamed(
    transport: Any, url: str, first_part_ends: Callable[[bytearray], bool], gate: Gate, body: bytearray | None = None
) -> bytes:
    """Stream ``url`` into ``body``; open the gate once ``first_part_ends`` holds for what arrived so far."""
    body = bytearray() if body is None else body
    if isinstance(transport, httpx.AsyncBaseTransport):
        asyncio.run(_aread_streamed(transport, url, first_part_ends, gate, body))
        return bytes(body)
    with httpx.Client(transport=transport, timeout=10) as client, client.stream("GET", url) as reply:
        for chunk in reply.iter_bytes():
            body += chunk
            if first_part_ends(body):
                gate.open()
    return bytes(body)


async def _aread_streamed(
    transport: Any, url: str, first_part_ends: Callable[[bytearray], bool], gate: Gate, body: bytearray
) -> None:
    async with httpx.AsyncClient(transport=transport, timeout=10) as client, client.stream("GET", url) as reply:
        async for chunk in reply.aiter_bytes():
            body += chunk
            if first_part_ends(body):
                gate.open()


def fetch(transport: Any, url: str) -> httpx.Response:
    """A plain (read whole) GET through either transport."""
    if isinstance(transport, httpx.AsyncBaseTransport):
        async def run() -> httpx.Response:
            async with httpx.AsyncClient(transport=transport, timeout=10) as client:
                return await client.get(url)

        return asyncio.run(run())
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(url)


TRANSPORTS = {"sync": RedactingTransport, "async": AsyncRedactingTransport}


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize("kind", STREAM_TYPES)
def test_a_streamed_reply_is_redacted_event_by_event_as_it_arrives(flavour: str, kind: str) -> None:
    """The first message reaches the caller before the vendor sends the second, and the address
    split across two events is redacted whole (the core's stream-aware redactor)."""
    gate = Gate()
    with serve(two_part_stream(kind, gate)) as vendor:
        transport = TRANSPORTS[flavour](SMALL, redact_responses=True)
        body = read_streamed(transport, vendor.base, lambda got: b"now." in got, gate)
    assert not gate.gave_up, "the transport waited for the whole stream"
    assert b"jane@exa" not in body and b"mple.com" not in body
    assert delta_texts(kind, body) == "mail [REDACTED:EMAIL] now. Done, [REDACTED:EMAIL]."


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("policy", "options", "content_type"),
    [
        (SMALL, {}, "application/json"),  # responses not redacted, nothing to restore: never read
        (SMALL, {"redact_responses": True}, "application/octet-stream"),  # binary by its head: never read
        (SMALL, {"redact_responses": True}, "image/png"),
        (REQUESTS_ONLY, {"redact_responses": True}, "application/json"),  # no rule covers responses
    ],
)
def test_a_reply_veil_has_nothing_to_do_with_streams_through_unread(
    flavour: str, policy: Any, options: dict[str, Any], content_type: str
) -> None:
    """Larger than the body limit, and handed on before its end arrived."""
    gate = Gate()
    piece = b'{"email": "jane@example.com", "pad": "' + b"x" * 1024 + b'"}\n'
    if content_type in ("application/octet-stream", "image/png"):
        piece = b"\x00\x01\x02\x03" + piece  # vague and binary labels are sniffed: these bytes say binary

    def answer(handler: Handler) -> None:
        handler.start_chunked(content_type)
        for _ in range(3):
            handler.chunk(piece)
        gate.wait()
        handler.chunk(piece)
        handler.chunk(b"")

    with serve(answer) as vendor:
        body = read_streamed(TRANSPORTS[flavour](policy, **options), vendor.base, lambda got: len(got) >= 3 * len(piece), gate)
    assert not gate.gave_up, "the transport read the body before handing it on"
    assert body == piece * 4


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("policy", "options", "headers"),
    [
        (SMALL, {"redact_responses": True}, {}),
        (TOKENIZE_SMALL, {"detokenize": True}, {}),  # restoring what the request sent reads it too
        (SMALL, {"redact_responses": True}, {"content_encoding": "gzip"}),  # decoded as it arrives
    ],
)
def test_a_buffered_reply_over_the_body_limit_is_refused_before_it_ends(
    flavour: str, policy: Any, options: dict[str, Any], headers: dict[str, str]
) -> None:
    """Refused as soon as it is over the limit (the vendor's last chunk is still held back),
    and nothing partial reaches the caller."""
    gate = Gate()
    document = b'{"email": "jane@example.com", "pad": "' + b"x" * 4096 + b'"}'
    encoded = gzip.compress(document) if headers else document

    def answer(handler: Handler) -> None:
        handler.start_chunked("application/json", **headers)
        handler.chunk(encoded[:-10])
        gate.wait()
        handler.chunk(encoded[-10:])
        handler.chunk(b"")

    transport = TRANSPORTS[flavour](policy, **options)
    with serve(answer) as vendor:
        try:
            with pytest.raises(RedactionError) as caught:
                fetch(transport, vendor.base + "/?to=jane%40example.com")  # an address to tokenize
        finally:
            gate.open()
    assert caught.value.reason == "body_too_large"
    assert not gate.gave_up, "the transport read past the limit"


@pytest.mark.parametrize("flavour", TRANSPORTS)
def test_a_buffered_reply_within_the_limit_is_redacted_and_framed(flavour: str) -> None:
    document = json.dumps({"email": "jane@example.com", "note": "ok"}).encode()

    def answer(handler: Handler) -> None:
        handler.reply(gzip.compress(document), "application/json", content_encoding="gzip", etag='"abc"')

    with serve(answer) as vendor:
        reply = fetch(TRANSPORTS[flavour](SMALL, redact_responses=True), vendor.base)
    assert reply.json() == {"email": "[REDACTED:EMAIL]", "note": "ok"}
    assert reply.headers["content-length"] == str(len(reply.content))
    assert "etag" not in reply.headers  # a hash of the unredacted bytes


@pytest.mark.parametrize("flavour", TRANSPORTS)
def test_a_stream_that_fails_midway_raises_and_ends(flavour: str) -> None:
    """A line over the limit: the caller gets what was redacted before it, then RedactionError,
    never the raw line."""
    gate = Gate()
    gate.open()

    def answer(handler: Handler) -> None:
        handler.start_chunked("application/x-ndjson")
        handler.chunk(b'{"email": "jane@example.com"}\n')
        handler.chunk(b'{"email": "jane@example.com", "pad": "' + b"x" * 4096 + b'"}\n')
        handler.chunk(b"")

    got = bytearray()
    with serve(answer) as vendor:
        with pytest.raises(RedactionError) as caught:
            read_streamed(TRANSPORTS[flavour](SMALL, redact_responses=True), vendor.base, lambda _: False, gate, got)
    assert caught.value.reason == "line_too_long"
    assert b"jane@example.com" not in got


def test_a_streamed_request_body_is_read_only_up_to_the_limit() -> None:
    """A generator body over the limit is refused after the limit, not read to its end, and
    nothing is sent."""
    produced = []

    def upload() -> Any:
        for n in range(1000):
            produced.append(n)
            yield b'{"pad": "' + b"x" * 100 + b'"}\n'

    with serve(lambda handler: handler.reply(b"{}")) as vendor:
        client = httpx.Client(transport=RedactingTransport(SMALL))
        with pytest.raises(RedactionError) as caught:
            client.post(vendor.base, content=upload(), headers={"content-type": "application/x-ndjson"})
    assert caught.value.reason == "body_too_large"
    assert len(produced) < 30 and vendor.seen == []
