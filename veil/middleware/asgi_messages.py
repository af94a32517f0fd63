"""Conversions between ASGI messages and :mod:`veil.http` values, shared by the ASGI
middleware's HTTP responder and its WebSocket one (:mod:`veil.middleware.asgi_websocket`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar
from urllib.parse import unquote

from veil.http import raw_headers, raw_path_of
from veil.http.exchange import Chunk, Exchange
from veil.http.exchange import Send as SendItem
from veil.rules.plan import Plan

try:  # worker threads: anyio's (asyncio or trio, whichever runs the app) when there, else asyncio's
    from anyio.to_thread import run_sync as _anyio_run_sync

    to_thread = _anyio_run_sync
except ImportError:  # pragma: no cover - veil[asgi] installs starlette, hence anyio
    to_thread = asyncio.to_thread  # type: ignore[assignment]

# Any-based like starlette.middleware's own aliases, so any framework's app type fits.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Any, Receive, Send], Awaitable[None]]
Headers = list[tuple[str, str]]
T = TypeVar("T")


async def plan_work(plan: Plan, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, the plan's work on one message: in a worker thread when the plan waits on
    I/O (``plan.does_io``: vault tokens, each new value a round trip to the vault), so a slow or
    unreachable vault stalls this request and not every request of the app. Otherwise inline:
    a vaultless plan only computes, and a thread hop (55-85 µs measured, as much as redacting a
    1 KB JSON body, plus contention for anyio's 40 worker threads) would cost more than it saves.
    ``tests/vault/test_async_offload.py`` counts the hops."""
    if plan.does_io:
        return await to_thread(fn, *args)  # copies the context: contextvars set by the caller are seen
    return fn(*args)


def asgi_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Header pairs as an ASGI message carries them (names lower-cased)."""
    return raw_headers(headers, lower=True)


def raw_path_in(scope: Scope) -> str:
    """The request path as sent (percent-encoded, without the query)."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1").partition("?")[0]
    return raw_path_of(str(scope.get("path", "")).encode("utf-8"))


def redact_scope_head(exchange: Exchange, scope: Scope, headers: Headers) -> tuple[Scope, Headers]:
    """A copy of ``scope`` with its query and path redacted, and the redacted headers (put into the
    scope by the caller, which may still change Content-Length). The route keeps the original
    path. Raises RedactionError."""
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    raw_path = raw_path_in(scope)
    new_headers, new_query, new_path = exchange.redact_request_head(headers, query, raw_path)
    out = dict(scope)
    if new_query != query:
        out["query_string"] = new_query.encode("latin-1")
        if b"?" in (out.get("raw_path") or b""):  # a server that put the query in raw_path
            del out["raw_path"]
    if new_path != raw_path:
        out["path"] = unquote(new_path)
        out["raw_path"] = new_path.encode("latin-1")
    return out, new_headers


async def send_response(send: Send, items: list[SendItem], start: Message, received: Headers,
                        kind: str = "http") -> None:
    """An exchange's answers as ``<kind>.response.start``/``.body`` messages (``kind``: ``http``,
    or ``websocket.http`` for a WebSocket handshake's denial response). ``start`` is the app's
    own start message, sent with new headers unless they are the very ``received`` list."""
    for item in items:
        if isinstance(item, Chunk):
            await send({"type": f"{kind}.response.body", "body": item.data, "more_body": item.more})
        elif item.status is not None:  # veil's own error response
            await send({"type": f"{kind}.response.start", "status": item.status,
                        "headers": asgi_headers(item.headers)})
        else:
            if item.headers is not received:  # else the app's raw headers go on as they came
                start["headers"] = asgi_headers(item.headers)
            await send(start)
