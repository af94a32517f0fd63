"""A WebSocket echo server behind the proxy: ``uvicorn tests.proxy_addon.ws_upstream:app``.

Every message it receives is appended, as one JSON line, to the file named by
``$UPSTREAM_LOG`` (``{"test": <the ?test= query value>, "text": ...}`` or ``"hex": ...`` for
binary) before it answers, so a test sees exactly what crossed the proxy. It echoes each
message back as it came, except ``profile``, answered with a message of its own that carries
personal data (what a realtime API's server events would).
"""

from __future__ import annotations

import json
import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

PROFILE = {"type": "profile", "customer": {"email": "jane@example.com", "plan": "gold"}}


def record(entry: dict[str, Any]) -> None:
    with open(os.environ["UPSTREAM_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    test = websocket.query_params.get("test", "")
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text, data = message.get("text"), message.get("bytes")
        if text is not None:
            record({"test": test, "text": text})
            await websocket.send_text(json.dumps(PROFILE) if text == "profile" else text)
        elif data is not None:
            record({"test": test, "hex": data.hex()})
            await websocket.send_bytes(data)


app = Starlette(routes=[Route("/health", health), WebSocketRoute("/ws", echo), WebSocketRoute("/ws/{rest:path}", echo)])
