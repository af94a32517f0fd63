"""A bare ASGI app that streams an LLM-style SSE reply whose e-mail and card number are split
across events, behind ASGIMiddleware (built-in default policy); served by uvicorn in a test."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from veil.middleware.asgi import ASGIMiddleware

REPLY = ["Sure, write to ja", "ne.doe@exa", "mple.com or pay with 4111 11", "11 1111 1111", " today."]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] != "/chat":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    for piece in REPLY:
        chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}}]}
        await send({"type": "http.response.body", "body": b"data: " + orjson.dumps(chunk) + b"\n\n", "more_body": True})
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


app = ASGIMiddleware(_app)
