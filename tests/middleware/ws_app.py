"""A Starlette WebSocket app behind ``ASGIMiddleware``: ``uvicorn tests.middleware.ws_app:app``.

Three copies of one app under three settings, chosen by the first path segment: ``/block``
(``on_error: block``), ``/pass`` (``on_error: passthrough``) and ``/binary`` (binary messages
let through: ``websocket_binary="pass"``). The policy scans everything; messages over 512 bytes
are over its limit.

The app appends what reaches it, one JSON line each, to ``$WS_APP_LOG`` (``{"test": <?test=>,
"path": ..., "query": ...}`` at the handshake, ``"text"``/``"hex"`` per message), so a test sees
exactly what crossed veil inbound. It answers every text message ``ok``, except the commands
below, which make it send data of its own (the client cannot name the data: veil would redact it
on the way in): ``say:<name>`` sends ``SAID[name]``, ``close`` closes with a reason that holds an
e-mail address.
"""

from __future__ import annotations

import json
import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from veil.middleware.asgi import ASGIMiddleware

EMAIL = "jane@example.com"
POLICY = {"version": 1, "limits": {"max_body_bytes": 512}, "rules": [{"scan": True}]}
SAID: dict[str, str | bytes] = {
    "json": json.dumps({"type": "profile", "customer": {"email": EMAIL, "plan": "gold"}}),
    "text": f"write to {EMAIL} today",
    "bytes": f"binary {EMAIL}".encode(),
    "big": f"mail {EMAIL} " * 40,  # over the 512-byte limit
    "plain": "nothing personal",
}
CLOSE_CODE = 4000
CLOSE_REASON = f"bye {EMAIL}"


def record(entry: dict[str, Any]) -> None:
    with open(os.environ["WS_APP_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def endpoint(websocket: WebSocket) -> None:
    test = websocket.query_params.get("test", "")
    record({"test": test, "path": websocket.scope["path"], "query": websocket.scope["query_string"].decode()})
    await websocket.accept()
    await converse(websocket, test)


async def converse(websocket: WebSocket, test: str, *, with_reason: bool = False) -> None:
    """Record each message, echo ``ok`` (or what ``say:<name>`` names), close on ``close``; the
    disconnect is recorded with its code (and its reason, ``with_reason``)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            entry = {"test": test, "disconnect": message.get("code")}
            record(entry | {"reason": message.get("reason")} if with_reason else entry)
            return
        text, data = message.get("text"), message.get("bytes")
        if data is not None:
            record({"test": test, "hex": data.hex()})
            await websocket.send_text("ok")
            continue
        record({"test": test, "text": text})
        if text == "close":
            await websocket.close(CLOSE_CODE, CLOSE_REASON)
            return
        said = SAID.get(text.removeprefix("say:")) if text and text.startswith("say:") else "ok"
        if isinstance(said, bytes):
            await websocket.send_bytes(said)
        else:
            await websocket.send_text(said or "ok")


def inner() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", endpoint), WebSocketRoute("/ws/{rest:path}", endpoint)])


app = Starlette(routes=[
    Route("/health", health),
    Mount("/block", ASGIMiddleware(inner(), policy=POLICY)),
    Mount("/pass", ASGIMiddleware(inner(), policy=POLICY, on_error="passthrough")),
    Mount("/binary", ASGIMiddleware(inner(), policy=POLICY, websocket_binary="pass")),
])
