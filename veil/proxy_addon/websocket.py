"""WebSocket messages through the proxy (e.g. realtime APIs on egress): each one redacted, or dropped.

mitmproxy hands the addon every whole message (``websocket_message``) before it forwards it.
What crosses is decided by :mod:`veil.http.websocket`, as in the ASGI middleware: text
redacted on the upgrade request's route (a message from the client is a ``request``, one from
the server a ``response``, in which tokens the request's rules asked for are restored); binary
dropped and the connection closed unless the ``veil_websocket_binary=pass`` option says they
carry no text; any failure drops the message and closes the connection, whatever ``on_error``
says, and every later message on it is dropped too.

mitmproxy 11 has no public way for an addon to close a WebSocket (mitmproxy/mitmproxy#4773):
:func:`close_connection` asks the ``proxyserver`` addon's handler of the client connection to
close it, which closes the upstream connection too.
"""

from __future__ import annotations

from typing import Any

from mitmproxy import ctx, websocket

from veil.http import websocket as shared
from veil.proxy_addon.exchange import Exchange
from veil.proxy_addon.steps import Steps, Work


def direction_of(message: websocket.WebSocketMessage) -> str:
    return "request" if message.from_client else "response"


def redact_message(exchange: Exchange, message: websocket.WebSocketMessage, *, binary_passes: bool) -> Steps:
    """Rewrite ``message.content`` in place; the plan's work is yielded to the hook's driver
    (:mod:`veil.proxy_addon.steps`). Raises RedactionError when it must not cross."""
    content = message.content
    out = yield Work(exchange.plan, shared.redact_message, exchange, direction_of(message), content,
                     text=message.is_text, binary_passes=binary_passes, restorer=exchange.restorer,
                     ledger=exchange.ledger)
    if out is not content:
        message.content = out


def close_connection(flow: Any) -> bool:
    """Close the flow's client connection (mitmproxy then closes the upstream one).

    False when no live connection handler is found (a test harness, a connection already gone):
    the caller drops every later message anyway, so nothing crosses either way.
    """
    try:
        proxyserver = ctx.master.addons.get("proxyserver")
        handler = getattr(proxyserver, "connections", {}).get(flow.client_conn.id)
        if handler is None or not hasattr(handler, "close_connection"):
            return False
        handler.close_connection(handler.client)
    except Exception:  # mitmproxy internals changed, or the connection is already gone
        return False
    return True
