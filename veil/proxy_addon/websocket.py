"""WebSocket messages through the proxy (e.g. realtime APIs on egress): each one redacted, or dropped.

mitmproxy hands the addon every whole message (``websocket_message``) before it forwards it.

- **Text** messages are redacted with the flow's plan, on the upgrade request's route: a message
  that opens with ``{`` or ``[`` as a JSON body, any other (and one that only looks like JSON)
  as text. A message from the client is a ``request``, one from the server a ``response``, in
  which tokens the request's rules asked for are restored.
- **Binary** messages cannot be read: they are dropped and the connection closed, unless the
  ``veil_websocket_binary=pass`` option says they carry no text (audio frames, say).
- **Any failure** (over the size limit, an internal error) drops the message and closes the
  connection; every later message on it is dropped too. ``on_error: passthrough`` does not
  apply: a message has no error answer to fall back on, and a raw one must not cross.

mitmproxy 11 has no public way for an addon to close a WebSocket (mitmproxy/mitmproxy#4773):
:func:`close_connection` asks the ``proxyserver`` addon's handler of the client connection to
close it, which closes the upstream connection too.
"""

from __future__ import annotations

import time
from typing import Any

from mitmproxy import ctx, websocket

from veil.errors import RedactionError
from veil.proxy_addon.exchange import Exchange
from veil.rules.plan_types import EMPTY_REPORT, Report

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


def direction_of(message: websocket.WebSocketMessage) -> str:
    return "request" if message.from_client else "response"


def redact_message(exchange: Exchange, message: websocket.WebSocketMessage, *, binary_passes: bool) -> None:
    """Rewrite ``message.content`` in place. Raises RedactionError when it must not cross."""
    direction = direction_of(message)
    content = message.content
    started = time.perf_counter()
    try:
        if not message.is_text:
            if not binary_passes:
                raise RedactionError("binary_message", "binary WebSocket messages are not read")
            out, report = content, EMPTY_REPORT
        else:
            if len(content) > exchange.limit:
                raise RedactionError("body_too_large", "WebSocket message is over the limit")
            out, report = _redact_text(exchange, direction, content)
    except RedactionError as exc:
        _observe(exchange, direction, "error", EMPTY_REPORT, started, len(content), exc.reason)
        raise
    if direction == "request":
        exchange.record_sent(content, out)  # tokens made here may come back in the server's messages
    outcome = "skipped" if not message.is_text else ("rewritten" if out != content else "unchanged")
    _observe(exchange, direction, outcome, report, started, len(content))
    if out != content:
        message.content = out


def _redact_text(exchange: Exchange, direction: str, content: bytes) -> tuple[bytes, Report]:
    plan = exchange.plan
    if content.lstrip()[:1] in (b"{", b"["):
        try:
            result = plan.redact_body(content, JSON, exchange.route(direction, JSON))
            return _restored(exchange, direction, result.output, "json"), result.report
        except RedactionError as exc:
            if exc.reason != "invalid_json":
                raise
    # Free text, or text that only looks like JSON: every detector runs over all of it.
    result = plan.redact_body(content, TEXT, exchange.route(direction, TEXT))
    return _restored(exchange, direction, result.output, "text"), result.report


def _restored(exchange: Exchange, direction: str, body: bytes, kind: str) -> bytes:
    if direction != "response" or exchange.restorer is None:
        return body
    return exchange.restorer.restore_body(body, JSON if kind == "json" else TEXT, kind=kind)[0]


def _observe(exchange: Exchange, direction: str, outcome: str, report: Report, started: float, size: int,
             reason: str = "") -> None:
    exchange.options.observer.observe(
        adapter="proxy", direction=direction, outcome=outcome, report=report,
        seconds=time.perf_counter() - started, size=size, reason=reason,
    )


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
