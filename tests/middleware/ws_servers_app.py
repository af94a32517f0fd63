"""A Starlette WebSocket app behind ``ASGIMiddleware`` for several real servers:
``uvicorn tests.middleware.ws_servers_app:app`` or ``hypercorn tests.middleware.ws_servers_app:app``.

Three copies of one app under three settings, chosen by the first path segment: ``/block``
(``on_error: block``), ``/pass`` (``on_error: passthrough``) and ``/requests`` (``responses=False``:
only what the client sends is redacted). The policy (:data:`tests.middleware.ws_app.POLICY`)
scans everything; messages over 512 bytes are over its limit. The app appends what reaches it
to ``$WS_APP_LOG``, one JSON line each: at the handshake ``{"test": <?test=>, "subprotocols":
[...]}``, then ``{"text": ...}`` or ``{"hex": ...}`` per message and ``{"disconnect": code,
"reason": ...}`` at the end, so a test sees exactly what crossed veil inbound.

``?accept=`` names the subprotocol the app accepts: ``offer:<n>`` the n-th one it was offered
(as it saw it), ``own`` its own :data:`OWN_SUBPROTOCOL`, anything else that name; absent: none.
It answers every text message ``ok``, except ``say:<name>``, which makes it send ``SAID[name]``
(data of its own: what the client sends veil would redact on the way in), and ``close``, which
closes with a reason that holds an e-mail address.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from tests.middleware.ws_app import CLOSE_CODE, EMAIL, POLICY, converse, health, record
from veil.middleware.asgi import ASGIMiddleware

__all__ = ["API_KEY", "CLOSE_CODE", "EMAIL", "KEY_SUBPROTOCOL", "app"]

API_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7rT2mN8"  # an OpenAI project key's shape
KEY_SUBPROTOCOL = f"openai-insecure-api-key.{API_KEY}"  # how OpenAI's realtime API takes a key from a browser
OWN_SUBPROTOCOL = KEY_SUBPROTOCOL  # a subprotocol the app names itself, holding a secret


def chosen(websocket: WebSocket) -> str | None:
    """The subprotocol ``?accept=`` asks the app to accept."""
    accept = websocket.query_params.get("accept")
    if accept is None:
        return None
    if accept.startswith("offer:"):
        return str(websocket.scope["subprotocols"][int(accept.removeprefix("offer:"))])
    return OWN_SUBPROTOCOL if accept == "own" else accept


async def endpoint(websocket: WebSocket) -> None:
    test = websocket.query_params.get("test", "")
    record({"test": test, "subprotocols": websocket.scope.get("subprotocols")})
    await websocket.accept(subprotocol=chosen(websocket))
    await converse(websocket, test, with_reason=True)


def inner() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", endpoint)])


app = Starlette(routes=[
    Route("/health", health),
    Mount("/block", ASGIMiddleware(inner(), policy=POLICY)),
    Mount("/pass", ASGIMiddleware(inner(), policy=POLICY, on_error="passthrough")),
    Mount("/requests", ASGIMiddleware(inner(), policy=POLICY, responses=False)),
])
