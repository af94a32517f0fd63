"""A vague body whose head looked like text is never passed as binary after all (review, issue
#15): a NUL or bytes that are not UTF-8 past its first 512 bytes fail closed (``bad_encoding``,
then the adapter's ``on_error``), and a UTF-16/32 body with a byte order mark is read as the
text it is. Expected outputs are written out."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from veil import RedactionError, Route, compile_policy
from veil.http import Options, may_be_text, redact_buffered
from veil.http.sniffed_stream import SniffedStream
from veil.middleware.asgi import ASGIMiddleware

PLAN = compile_policy("version: 1\nrules:\n  - scan: true\n")
ROUTE = Route("response", "GET", "api.test", "/export")
OCTET = "application/octet-stream"
JSON = '{"email": "jane@example.com", "note": "ok"}'
REDACTED = '{"email": "[REDACTED:EMAIL]", "note": "ok"}'
PADDED = b'{"email": "jane@example.com", "pad": "' + b"x" * 600 + b'"}'  # its text runs past the head


def redact(body: bytes, ctype: str = OCTET, on_error: str = "block") -> tuple[bytes, str]:
    out, _, outcome = redact_buffered(PLAN, ROUTE, body, ctype, "", Options(on_error=on_error))
    return out, outcome


@pytest.mark.parametrize(
    "body",
    [
        PADDED + b"\x00",  # a NUL after a text head
        PADDED[:-2] + b"\x00\x01\x02" + PADDED[-2:],  # control bytes inside the JSON, past the head
        PADDED + b"\xff\xfe rest",  # bytes that are not UTF-8 past the head
        b"mail jane@example.com " + b"y" * 600 + b"\x00",  # plain text, then a NUL
        b'{"a": 1}\x00 jane@example.com',  # a whole document, then a NUL in the head
    ],
)
def test_text_head_then_binary_fails_closed(body: bytes) -> None:
    with pytest.raises(RedactionError) as info:
        redact(body)
    assert info.value.reason == "bad_encoding"
    assert may_be_text(body[:512])  # the adapters read it because its head is text


@pytest.mark.parametrize(
    ("codec", "mark"),
    [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff")],
)
def test_a_body_with_a_unicode_byte_order_mark_is_redacted_in_its_encoding(codec: str, mark: bytes) -> None:
    body = mark + JSON.encode(codec)
    assert may_be_text(body[:512])
    assert redact(body) == (mark + REDACTED.encode(codec), "rewritten")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # near misses: what was binary by its head still passes unread, untouched
        (b"\x89PNG\r\n\x1a\n\x00\x00 jane@example.com", (b"\x89PNG\r\n\x1a\n\x00\x00 jane@example.com", "skipped")),
        (b"\x00jane@example.com" * 3, (b"\x00jane@example.com" * 3, "skipped")),  # NULs, then no JSON: binary
        (JSON.encode("utf-16-le"), (REDACTED.encode("utf-16-le"), "rewritten")),  # UTF-16 without a mark, as json.loads reads it
        # a marked body with nothing to find keeps every byte; a text body is redacted as before
        (b"\xff\xfe" + '{"note": "ok"}'.encode("utf-16-le"), (b"\xff\xfe" + '{"note": "ok"}'.encode("utf-16-le"), "unchanged")),
        (PADDED, (PADDED.replace(b"jane@example.com", b"[REDACTED:EMAIL]"), "rewritten")),
    ],
)
def test_bodies_decided_as_before(body: bytes, expected: tuple[bytes, str]) -> None:
    assert redact(body) == expected


def test_a_marked_body_that_does_not_decode_fails_closed() -> None:
    with pytest.raises(RedactionError) as info:
        redact(b"\xfe\xff" + JSON.encode("utf-16-be") + b"\xd8")  # half a character at the end
    assert info.value.reason == "bad_encoding"


def test_a_declared_binary_type_refuses_the_padded_document_too() -> None:
    """A binary label is sniffed too (issue #15): a JSON document padded with a NUL past its head fails
    as invalid_json (tests/http/test_binary_labels.py has the rest)."""
    with pytest.raises(RedactionError) as info:
        redact(PADDED + b"\x00", "image/png")
    assert info.value.reason == "invalid_json"


@pytest.mark.parametrize(("on_error", "released"), [("block", b""), ("passthrough", PADDED + b"\x00")])
def test_the_proxys_sniffed_stream_fails_closed_by_on_error(on_error: str, released: bytes) -> None:
    stream = SniffedStream(PLAN, ROUTE, OCTET, "", Options(on_error=on_error), "proxy", limit=1 << 20)
    body = PADDED + b"\x00"
    out = b"".join(stream.step(body[i:i + 256], last=False) for i in range(0, len(body), 256)) + stream.step(b"", last=True)
    assert (out, stream.failed) == (released, "bad_encoding")


def test_the_proxys_sniffed_stream_redacts_utf16() -> None:
    stream = SniffedStream(PLAN, ROUTE, OCTET, "", Options(), "proxy", limit=1 << 20)
    body = b"\xff\xfe" + JSON.encode("utf-16-le")
    assert stream.step(body, last=True) == b"\xff\xfe" + REDACTED.encode("utf-16-le") and not stream.failed


def test_an_asgi_app_answering_text_then_a_nul_gets_a_502() -> None:
    body = PADDED + b"\x00"

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", OCTET.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=ASGIMiddleware(app, policy=PLAN))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get("/export")

    reply = asyncio.run(get())
    assert reply.status_code == 502 and b"jane@example.com" not in reply.content
    assert reply.json()["reason"] == "bad_encoding"
