"""The ASGI middleware's WebSocket side: each message redacted, or the socket closed.

One :class:`WebSocketResponder` per connection converts between ASGI ``websocket.*`` messages
and :mod:`veil.http.websocket`, which decides what crosses, as it does in the proxy:

- the handshake's headers, query and path are redacted before the app sees the scope, as an
  HTTP request's are (the scope's ``subprotocols`` made again from the redacted offer, also
  where the server keeps that header out of the scope, as uvicorn's wsproto protocol does); a
  failure under ``block`` refuses the handshake with veil's JSON error (a 403 on a server
  without the ``websocket.http.response`` extension), and the app never runs;
- ``websocket.receive`` (client to app) is the ``request`` direction, ``websocket.send`` (app
  to client) the ``response`` one; text is redacted (JSON when it parses), binary closes the
  socket unless ``websocket_binary="pass"``; a message that must not cross is dropped and the
  socket closed with code 1008 and the reason ``veil: <reason code>``, whatever ``on_error``
  says (:mod:`veil.http.websocket`). The app then receives ``websocket.disconnect`` (1008),
  and a later send of its own raises :class:`veil.http.websocket.WebSocketClosed` (an
  ``OSError``, as servers raise on a closed socket; Starlette turns it into ``WebSocketDisconnect``);
- a ``websocket.send`` with both ``text`` and ``bytes`` (ASGI wants one; uvicorn sends the
  bytes) is refused as above (``ambiguous_message``);
- ``websocket.accept`` headers are redacted as response headers, its ``subprotocol`` as the
  ``Sec-WebSocket-Protocol`` header it becomes; a subprotocol veil redacted (or an offer the
  app saw redacted) refuses the handshake (``subprotocol_redacted``, whatever ``on_error``
  says): servers accept only what the client offered, and the client must not get it back;
  close reasons, either way, as text; a denial response (``websocket.http.response.*``) as
  any HTTP response.

A direction the policy does not cover on the route (or turned off with ``requests``/``responses``)
passes untouched, as for HTTP. Tokens are not restored: like the middleware's HTTP responses,
what the app sends is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from veil.errors import RedactionError
from veil.http import error_response, header_value, log_failure, redact_head, str_headers
from veil.http.exchange import Exchanges, ResponseBody
from veil.http.exchange import Send as SendItem
from veil.http.websocket import (
    POLICY_VIOLATION,
    SUBPROTOCOL_HEADER,
    WebSocketClosed,
    close_reason,
    offered_subprotocols,
    redact_close_reason,
    redact_message,
    refused,
)
from veil.middleware.asgi_messages import (
    ASGIApp,
    Headers,
    Message,
    Receive,
    Scope,
    Send,
    T,
    asgi_headers,
    plan_work,
    redact_scope_head,
    send_response,
)

_DENIAL = "websocket.http.response"


class WebSocketResponder:
    """One WebSocket connection's conversion; the middleware stays stateless."""

    def __init__(self, app: ASGIApp, exchanges: Exchanges, scope: Scope, binary_passes: bool) -> None:
        self.app, self.scope, self.binary_passes = app, scope, binary_passes
        self.headers = str_headers(scope.get("headers", ()))
        self.exchange = exchanges.open("GET", header_value(self.headers, "host"), scope.get("path", ""))
        self.covers = {direction: self.exchange.covers(direction) for direction in ("request", "response")}
        self.receive: Receive = _unattached
        self.send: Send = _unattached
        self.closed = ""
        """veil's reason code once it closed the socket: nothing more crosses either way."""
        self.denial: ResponseBody | None = None
        self.denial_start: Message = {}
        self.offer_shown: list[str] = []
        """The subprotocols the app was offered (redacted): the one it accepts may be among them."""

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, the plan's work on a message: off the event loop when the plan does I/O (:func:`plan_work`)."""
        return await plan_work(self.exchange.plan, fn, *args)

    async def __call__(self, receive: Receive, send: Send) -> None:
        self.receive, self.send = receive, send
        scope = self.scope
        if self.covers["request"]:
            try:
                scope, headers = await self.work(self._redacted_head)
            except RedactionError as exc:
                if await self.refuse_handshake(exc.reason, "request"):
                    return  # the app never sees this connection
                scope, headers = self.scope, self.headers
            if headers != self.headers:
                scope["headers"] = asgi_headers(headers)
        self.offer_shown = list(scope.get("subprotocols") or ())
        await self.app(scope, self.receive_message, self.send_message)

    def _redacted_head(self) -> tuple[Scope, Headers]:
        """The scope with its path, query and headers redacted, and its ``subprotocols`` (the
        server's own copy of the offer, raw) made again from the redacted offer. Raises RedactionError."""
        scope, headers = redact_scope_head(self.exchange, self.scope, self.headers)
        raw, redacted = self.headers, headers
        if scope.get("subprotocols") and not header_value(raw, SUBPROTOCOL_HEADER):
            # A server may keep the offer out of the scope's headers (uvicorn's wsproto protocol):
            # it is redacted as the header it came in.
            raw = [(SUBPROTOCOL_HEADER, ", ".join(scope["subprotocols"]))]
            redacted = redact_head(self.exchange.plan, self.exchange.route("request"), raw, "")[0]
        if scope.get("subprotocols") and redacted != raw:
            scope["subprotocols"] = offered_subprotocols(redacted)
        return scope, headers

    # -- client to app: request ----------------------------------------------------------

    async def receive_message(self) -> Message:
        if self.closed:
            return self._disconnect()
        message: Message = await self.receive()
        if not self.covers["request"]:
            return message
        kind = message["type"]
        if kind == "websocket.receive":
            try:
                return await self.work(self._redacted, message, "request")
            except RedactionError as exc:
                await self.close(exc.reason, "request")
                return self._disconnect()
        if kind == "websocket.disconnect" and message.get("reason"):
            return {**message, "reason": await self.work(self._reason, message["reason"], "request")}
        return message

    # -- app to client: response ---------------------------------------------------------

    async def send_message(self, message: Message) -> None:
        kind = message["type"]
        if self.closed:
            if kind == "websocket.send":
                raise WebSocketClosed(self.closed)  # the app learns, as from a server's closed socket
            return  # its own close (or denial) of a socket veil closed already
        if kind == "websocket.accept" and (message.get("headers") or message.get("subprotocol")):
            message = await self.accept(message)  # covered or not: the subprotocol may be one veil redacted
            if not self.closed:
                await self.send(message)
            return
        if not self.covers["response"]:
            await self.send(message)
            return
        if kind == "websocket.send":
            try:
                message = await self.work(self._redacted, message, "response")
            except RedactionError as exc:
                await self.close(exc.reason, "response")
                return
        elif kind == "websocket.close" and message.get("reason"):
            message = {**message, "reason": await self.work(self._reason, message["reason"], "response")}
        elif kind.startswith(_DENIAL):
            await self.deny(message)
            return
        await self.send(message)

    async def accept(self, message: Message) -> Message:
        """The accept message with its headers redacted (response headers), and its subprotocol
        as the Sec-WebSocket-Protocol header the server makes of it; refused on failure.

        Servers accept only a subprotocol the client offered byte for byte: one veil redacted
        (the app's own, or an offer the app saw redacted) refuses the handshake, whatever
        ``on_error`` says, as the client must not get the secret back (``subprotocol_redacted``)."""
        received = str_headers(message.get("headers") or ())
        subprotocol = message.get("subprotocol")
        headers, chosen = received, subprotocol
        if self.covers["response"]:
            try:
                headers, chosen = await self.work(self._accept_head, received, subprotocol)
            except RedactionError as exc:
                await self.refuse_handshake(exc.reason, "response")
                return message
        if self._redacted_choice(subprotocol, chosen):
            await self.refuse_handshake("subprotocol_redacted", "response", always=True)
            return message
        out = message if headers == received else {**message, "headers": asgi_headers(headers)}
        return out if chosen == subprotocol else {**out, "subprotocol": chosen}

    def _redacted_choice(self, asked: str | None, chosen: str | None) -> bool:
        """The subprotocol the server would be asked to accept is not one the client offered
        (the server's raw copy of the offer) because veil redacted it."""
        offer = self.scope.get("subprotocols")
        if chosen is None or offer is None or chosen in offer:
            return False
        return chosen != asked or chosen in self.offer_shown

    def _accept_head(self, headers: Headers, subprotocol: str | None) -> tuple[Headers, str | None]:
        plan, route = self.exchange.plan, self.exchange.route("response")
        if headers:
            headers = redact_head(plan, route, headers, "")[0]
        if subprotocol:
            chosen = redact_head(plan, route, [(SUBPROTOCOL_HEADER, str(subprotocol))], "")[0]
            subprotocol = chosen[0][1] if chosen else None  # a rule that removes the header: none chosen
        return headers, subprotocol

    async def deny(self, message: Message) -> None:
        """A denial response (the handshake answered with HTTP), redacted as any response."""
        if message["type"] == f"{_DENIAL}.start":
            self.denial_start = dict(message)  # a copy: the app's message stays its own
            self.denial = self.exchange.response(str_headers(message.get("headers", ())), head_first=True)
            await self._emit(await self.work(self.denial.begin))
        elif self.denial is not None and self.denial.mode != "done":  # a body; none may go out before its start
            await self._emit(await self.work(self.denial.push, bytes(message.get("body", b"")),
                                             bool(message.get("more_body", False))))

    # -- failures ------------------------------------------------------------------------

    async def close(self, reason: str, direction: str) -> None:
        """Drop the message and close the socket: 1008 with veil's reason code; one warning line."""
        self.closed = reason
        log_failure(self.exchange.log, self.exchange.plan, self.exchange.route(direction), reason,
                    "websocket message dropped, connection closed (1008)")
        await self.send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": close_reason(reason)})

    async def refuse_handshake(self, reason: str, direction: str, always: bool = False) -> bool:
        """Log a handshake failure; with ``block`` (or ``always``) refuse the connection (veil's error
        response where the server can send one, else a close, which servers answer 403) and return True."""
        refusal = self.exchange.refuse(reason, direction)
        if refusal is None:
            if not always:
                return False
            refusal = error_response(reason, direction)
        self.closed = reason
        if _DENIAL in self.scope.get("extensions", {}):
            status, headers, body = refusal
            await self.send({"type": f"{_DENIAL}.start", "status": status, "headers": asgi_headers(headers)})
            await self.send({"type": f"{_DENIAL}.body", "body": body, "more_body": False})
        else:
            await self.send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": close_reason(reason)})
        return True

    # -- conversions ---------------------------------------------------------------------

    def _redacted(self, message: Message, direction: str) -> Message:
        """A ``websocket.receive``/``send`` message as it may cross. Raises RedactionError."""
        text = message.get("text")
        if text is not None and message.get("bytes") is not None and direction == "response":
            # ASGI says one of the two; servers send the bytes when both are set (uvicorn), unread.
            raise refused(self.exchange, direction, len(message["bytes"]), "ambiguous_message",
                          "a websocket.send holds both text and bytes")
        if text is not None:
            content = str(text).encode("utf-8", "surrogatepass")
            out = self._message(direction, content, text=True)
            return message if out is content else {**message, "text": out.decode("utf-8", "surrogatepass")}
        data = message.get("bytes")
        content = bytes(data) if data is not None else b""
        out = self._message(direction, content, text=False)
        return message if out is content else {**message, "bytes": out}

    def _message(self, direction: str, content: bytes, *, text: bool) -> bytes:
        return redact_message(self.exchange, direction, content, text=text, binary_passes=self.binary_passes)

    def _reason(self, reason: str, direction: str) -> str:
        """A close reason as it may cross; on failure veil's own (the socket closes anyway)."""
        try:
            return redact_close_reason(self.exchange, direction, str(reason))
        except RedactionError as exc:
            log_failure(self.exchange.log, self.exchange.plan, self.exchange.route(direction), exc.reason, "websocket close reason")
            return close_reason(exc.reason)

    def _disconnect(self) -> Message:
        return {"type": "websocket.disconnect", "code": POLICY_VIOLATION, "reason": close_reason(self.closed)}

    async def _emit(self, items: list[SendItem]) -> None:
        assert self.denial is not None
        await send_response(self.send, items, self.denial_start, self.denial.received, "websocket.http")


async def _unattached(*_: object) -> None:
    raise RuntimeError("receive/send awaitable not set")  # pragma: no cover
