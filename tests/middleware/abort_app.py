"""Apps whose NDJSON stream fails after its first line went out, behind veil (built-in policy):
``app`` (ASGI) and ``wsgi`` (WSGI). Served by real servers in tests/middleware/test_stream_abort_server.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

from veil.middleware import ASGIMiddleware, WSGIMiddleware

LINES = [b'{"n": 1, "email": "a@example.com"}\n', b'{"email": "jane@example.com"\n', b'{"n": 3}\n']


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    ctype = b"application/x-ndjson" if scope["path"] == "/feed" else b"text/plain"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]})
    if scope["path"] != "/feed":
        await send({"type": "http.response.body", "body": b"ok"})
        return
    for n, line in enumerate(LINES):
        await send({"type": "http.response.body", "body": line, "more_body": n < len(LINES) - 1})
        await asyncio.sleep(0.05)  # the first line reaches the client before the second fails


def _wsgi(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    feed = environ.get("PATH_INFO") == "/feed"
    start_response("200 OK", [("Content-Type", "application/x-ndjson" if feed else "text/plain")])
    if not feed:
        yield b"ok"
        return
    for line in LINES:
        yield line
        time.sleep(0.05)


app = ASGIMiddleware(_app)
wsgi = WSGIMiddleware(_wsgi)
