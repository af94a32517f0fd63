"""A bare ASGI app that streams SSE events carrying data outside one-line ``data:`` fields (an
e-mail in ``id:``, ``event:`` and a comment; a JSON object over several data lines), behind
ASGIMiddleware (built-in default policy); served by uvicorn in a test."""

from __future__ import annotations

import asyncio
from typing import Any

from veil.middleware.asgi import ASGIMiddleware

EVENTS = [
    b"id: jane@example.com\nevent: signup bob@example.com\ndata: {\"ok\": true}\n\n",
    b": trace for carol@example.com\n\n",
    b'data: {\ndata:   "password": "hunter2",\ndata:   "plan": "pro"\ndata: }\n\n',
]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] != "/events":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    for event in EVENTS:
        for line in event.splitlines(keepends=True):  # one line per message: the middleware joins them
            await send({"type": "http.response.body", "body": line, "more_body": True})
        await asyncio.sleep(0.01)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


app = ASGIMiddleware(_app)
