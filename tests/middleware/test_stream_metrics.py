"""Streamed bodies reach the observer in the ASGI and WSGI middleware (issue #15): a stream that
ends is one body with its findings, a stream that fails is one error with its reason, so it
counts in ``veil_errors_total``. (Django's are in tests/integrations/test_django.py, the
proxy's in tests/rules/test_streaming_memory.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import prometheus_client as prom
import pytest
from werkzeug.test import Client

from veil.middleware import ASGIMiddleware, WSGIMiddleware
from veil.observe.prometheus import Metrics

NDJSON = "application/x-ndjson"
SSE = "text/event-stream"

CASES = [
    # (content type, chunks, outcome, reason, EMAIL findings)
    (NDJSON, [b'{"email": "a@example.com"}\n', b'{"email": "b@example.com"}\n'], "rewritten", "", 2),
    (SSE, [b'data: {"email": "jane@example.com"}\n\n', b"data: [DONE]\n\n"], "rewritten", "", 1),
    (NDJSON, [b'{"n": 1}\n', b'{"n": 2}\n'], "unchanged", "", 0),  # near miss: nothing to redact, still observed
    (NDJSON, [b'{"n": 1}\n', b'{"email": "jane@example.com"\n'], "error", "invalid_json", 0),  # fails after a line
    (NDJSON, [b"{not json\n"], "error", "invalid_json", 0),  # fails on its first line: a 502
]


def asgi_app(ctype: str, chunks: list[bytes]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype.encode())]})
        for n, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": n < len(chunks) - 1})

    return app


def wsgi_app(ctype: str, chunks: list[bytes]) -> Any:
    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", ctype)])
        yield from chunks

    return app


def get_asgi(app: Any) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            await client.get("/feed")

    try:
        asyncio.run(run())
    except Exception:  # an aborted stream: the connection breaks, which is the point
        pass


def get_wsgi(app: Any) -> None:
    try:
        Client(app).get("/feed", buffered=True)
    except Exception:
        pass


@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
@pytest.mark.parametrize(("ctype", "chunks", "outcome", "reason", "emails"), CASES)
def test_a_stream_is_observed_once_with_its_outcome_findings_and_error_reason(
    adapter: str, ctype: str, chunks: list[bytes], outcome: str, reason: str, emails: int
) -> None:
    registry = prom.CollectorRegistry()
    metrics = Metrics(registry=registry)
    if adapter == "asgi":
        get_asgi(ASGIMiddleware(asgi_app(ctype, chunks), observer=metrics))
    else:
        get_wsgi(WSGIMiddleware(wsgi_app(ctype, chunks), observer=metrics))
    value = registry.get_sample_value
    labels = {"adapter": adapter, "direction": "response"}
    assert value("veil_bodies_total", {**labels, "outcome": outcome}) == 1
    assert sum(value("veil_bodies_total", {**labels, "outcome": o}) or 0
               for o in ("rewritten", "unchanged", "skipped", "error")) == 1
    assert value("veil_errors_total", {**labels, "reason": reason}) == (1 if reason else None)
    found = value("veil_findings_total", {**labels, "type": "EMAIL", "rule": "default-field-names", "action": "redact"})
    assert (found or 0) == emails
    if not reason:
        assert value("veil_bytes_total", labels) == sum(len(c) for c in chunks)
