"""RedactingTransport against real in-process vendor apps (WSGI and ASGI)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from veil import RedactionError, compile_policy
from veil.integrations.httpx import AsyncRedactingTransport, RedactingTransport

KEYS = {"tokens": {"k1": bytes(range(64))}}
TOKENIZE = compile_policy(
    "version: 1\nkeys:\n  tokens: {env: T}\nrules:\n  - scan: {action: {type: tokenize, key: tokens}}\n",
    key_material=KEYS,
)


class Vendor:
    """A WSGI vendor that records what it received and echoes the body back."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.seen.append({"body": body, "query": environ.get("QUERY_STRING", ""), "headers": headers})
        start_response("200 OK", [("Content-Type", environ.get("CONTENT_TYPE") or "application/json")])
        return [body]


def test_outbound_request_is_redacted_before_it_leaves() -> None:
    vendor = Vendor()
    client = httpx.Client(transport=RedactingTransport("builtin:strict", transport=httpx.WSGITransport(app=vendor)))
    client.post(
        "http://vendor.test/v1/chat?api_key=s3cr3t&q=hi",
        json={"prompt": "my card is 4111 1111 1111 1111", "email": "jane@example.com"},
        headers={"Authorization": "Bearer abc.def"},
    )
    (seen,) = vendor.seen
    assert b"4111 1111 1111 1111" not in seen["body"] and b"jane@example.com" not in seen["body"]
    assert "s3cr3t" not in seen["query"] and "q=hi" in seen["query"]
    assert seen["headers"]["authorization"] == "[REDACTED:SECRET]"
    assert json.loads(seen["body"])["prompt"] == "my card is [REDACTED:CREDIT_CARD]"


def test_tokens_round_trip_the_vendor_never_sees_the_value() -> None:
    vendor = Vendor()
    transport = RedactingTransport(TOKENIZE, transport=httpx.WSGITransport(app=vendor), detokenize=True)
    reply = httpx.Client(transport=transport).post("http://vendor.test/", json={"note": 'mail "jane"@example.com or jane@example.com'})
    assert b"jane@example.com" not in vendor.seen[0]["body"]
    assert b"tok_EMAIL_k1_" in vendor.seen[0]["body"]
    assert reply.json() == {"note": 'mail "jane"@example.com or jane@example.com'}


def test_a_body_veil_cannot_process_is_never_sent() -> None:
    vendor = Vendor()
    client = httpx.Client(transport=RedactingTransport(transport=httpx.WSGITransport(app=vendor)))
    with pytest.raises(RedactionError):
        client.post("http://vendor.test/", content=b'{"email": "jane@example.com"', headers={"content-type": "application/json"})
    assert vendor.seen == []


def test_async_transport_redacts_and_restores() -> None:
    seen: list[bytes] = []

    async def vendor(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def run() -> httpx.Response:
        transport = AsyncRedactingTransport(TOKENIZE, transport=httpx.ASGITransport(app=vendor), detokenize=True)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.post("http://vendor.test/", json={"n": "call +44 20 7946 0958"})

    reply = asyncio.run(run())
    assert b"7946" not in seen[0]
    assert reply.json() == {"n": "call +44 20 7946 0958"}
