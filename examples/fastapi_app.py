"""A small FastAPI app behind veil, with the built-in default policy.

    uvicorn examples.fastapi_app:app

    curl -s localhost:8000/customer        # PII redacted on the way out
    curl -s localhost:8000/echo -H 'content-type: application/json' \
         -d '{"email": "jane@example.com"}'  # the app only ever sees the redacted body
    curl -sN localhost:8000/events         # Server-Sent Events, redacted event by event

Each event carries ``produced_at`` (``time.monotonic()`` when the app made it),
so a client on the same machine can check that events arrive as produced.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from veil.middleware.asgi import VeilASGIMiddleware

EVENT_COUNT = 4
EVENT_DELAY = 0.3  # seconds between events

app = FastAPI(title="veil example")
app.add_middleware(VeilASGIMiddleware)  # policy=None: $VEIL_POLICY, else the built-in default


@app.post("/echo")
async def echo(request: Request) -> Any:
    """Return the JSON body as the app received it (after veil)."""
    return await request.json()


@app.get("/customer")
async def customer() -> dict[str, Any]:
    return {
        "id": 42,
        "customer": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+44 20 7946 0958"},
        "card": "4111 1111 1111 1111",
        "plan": "gold",
    }


async def _events() -> AsyncIterator[bytes]:
    for n in range(EVENT_COUNT):
        event = {"n": n, "produced_at": time.monotonic(), "email": f"user{n}@example.com", "status": "ok"}
        yield f"id: {n}\ndata: {json.dumps(event)}\n\n".encode()
        await asyncio.sleep(EVENT_DELAY)


@app.get("/events")
async def events() -> StreamingResponse:
    return StreamingResponse(_events(), media_type="text/event-stream")
