"""ASGI middleware: redact what enters the app and what leaves it.

    from veil.middleware import VeilASGIMiddleware                 # ASGIMiddleware: the same class
    app = VeilASGIMiddleware(app, policy="policy.yaml")            # any ASGI app
    app.add_middleware(VeilASGIMiddleware, policy="policy.yaml")   # FastAPI / Starlette

Pure ASGI, shaped like starlette's GZipMiddleware: lifespan scopes pass
through, per-request state lives in a ``_Responder`` made per request, and
``http.response.start`` is held back until the body decides the headers.
WebSocket scopes get a :class:`veil.middleware.asgi_websocket.WebSocketResponder`:
the handshake, every message both ways and close reasons are redacted, and a
message that must not cross closes the socket (1008), as in the proxy.
Failure semantics (statuses, error body, ``on_error``) are those of
:mod:`veil.http.failures`.

Request bodies are read whole (up to ``limits.max_body_bytes``) before the app
is called; binary types stream through unread, because veil never rewrites
them. A type that says nothing (``application/octet-stream``, none) is judged
by its first bytes (:mod:`veil.http.sniff`), either way. NDJSON and SSE
responses are rewritten line by line as they stream; other redactable
responses are buffered.

The app is handed the redacted path (``path`` and ``raw_path``), under the
policy's request rules; veil's own ``Route`` keeps the original for matching.
A direction no rule of the policy covers on a route (``builtin:app`` has no
rule for requests) passes untouched and unread (:mod:`veil.http.coverage`).
A policy with vault tokens (``plan.does_io``) is redacted in a worker thread, so a
slow vault holds up only the requests waiting on it; any other runs inline.

A policy that cannot be compiled stops the app from starting. Starlette and
FastAPI build ``app.add_middleware(...)`` middlewares inside their first ASGI
call, the lifespan one, where an exception only makes uvicorn log that lifespan
"appears unsupported" and then serve 500s; so a policy error met inside a
running event loop is answered on the lifespan protocol instead
(``lifespan.startup.failed`` with the ``file:line:col`` message: the server
exits), and raised again on any request of a server run without lifespan.
Outside an event loop (a module wrapping its app at import) it is raised at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from veil.errors import PolicyError, RedactionError
from veil.http import (
    DEFAULT_MAX_DECOMPRESSED,
    SNIFF_HEAD_BYTES,
    Options,
    header_value,
    may_be_text,
    quiet_server_tracebacks,
    replace_length,
    str_headers,
)
from veil.http.exchange import Chunk, Exchanges, ResponseBody, Start
from veil.http.exchange import Send as SendItem
from veil.middleware.asgi_messages import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    T,
    asgi_headers,
    plan_work,
    redact_scope_head,
    send_response,
    to_thread,
)
from veil.middleware.asgi_websocket import WebSocketResponder
from veil.observe import NullObserver, Observer
from veil.observe.startup import announce_plan
from veil.settings import PolicyArg, resolve_plan

log = logging.getLogger(__name__)
_FILE_CHUNK = 64 * 1024
_BODY_MESSAGES = frozenset({"http.response.body", "http.response.pathsend", "http.response.zerocopy"})


class ASGIMiddleware:
    """Redact requests before ``app`` sees them and its responses before the client does.

    ``policy``: a policy file path, a policy dict, a compiled Plan, or None for
    ``$VEIL_POLICY`` / the built-in default. The options are those of
    :class:`veil.http.Options`, and ``websocket_binary``: ``drop`` (the default: a binary
    WebSocket message closes the socket, veil cannot read it) or ``pass`` (binary messages
    carry no text, audio say: they cross unread). They are keyword-only parameters
    rather than ``**options`` so that a misspelt one is a TypeError naming it
    and ``app.add_middleware(ASGIMiddleware, ...)`` type-checks (mypy cannot
    match starlette's ParamSpec factory against ``**kwargs: Any``).
    """

    def __init__(
        self,
        app: ASGIApp,
        policy: PolicyArg = None,
        *,
        on_error: str | None = None,
        requests: bool = True,
        responses: bool = True,
        max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED,
        observer: Observer | None = None,
        policy_header: bool = False,
        websocket_binary: str = "drop",
    ) -> None:
        if on_error not in (None, "block", "passthrough"):
            raise ValueError(f"on_error must be 'block' or 'passthrough', not {on_error!r}")
        if websocket_binary not in ("drop", "pass"):
            raise ValueError(f"websocket_binary must be 'drop' or 'pass', not {websocket_binary!r}")
        self.binary_passes = websocket_binary == "pass"
        self.app = app
        self.options = Options(on_error, requests, responses, max_decompressed_bytes, observer or NullObserver(),
                               policy_header)
        self.startup_error: PolicyError | None = None
        try:
            self.plan = resolve_plan(policy)  # compiled once; a Plan is immutable and shared by all requests
        except PolicyError as exc:
            if not _in_event_loop():
                raise
            self.startup_error = exc  # built lazily by Starlette: the lifespan is where it can stop the server
            return
        self.exchanges = Exchanges(self.plan, self.options, "asgi", log)
        announce_plan(self.plan)
        quiet_server_tracebacks()  # an aborted stream is one warning line, not a server traceback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.startup_error is not None:
            await self.refuse_to_start(self.startup_error, scope, receive, send)
            return
        if scope["type"] == "websocket":
            await WebSocketResponder(self.app, self.exchanges, scope, self.binary_passes)(receive, send)
            return
        if scope["type"] != "http":  # lifespan carries nothing to redact
            await self.app(scope, receive, send)
            return
        await _Responder(self.app, self.exchanges, scope)(receive, send)

    @staticmethod
    async def refuse_to_start(error: PolicyError, scope: Scope, receive: Receive, send: Send) -> None:
        """Fail the lifespan startup with the policy error's message; raise it on anything else."""
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.failed", "message": f"veil: {error}"})
            return
        raise error.with_traceback(None)  # the server logs it and answers 500: nothing reaches the app


class _Responder:
    """One request's conversion between ASGI messages and its :class:`Exchange`; the middleware stays stateless."""

    def __init__(self, app: ASGIApp, exchanges: Exchanges, scope: Scope) -> None:
        self.app, self.scope = app, scope
        self.headers = str_headers(scope.get("headers", ()))
        self.exchange = exchanges.open(scope.get("method", ""), header_value(self.headers, "host"), scope.get("path", ""))
        self.send: Send = _unattached
        self.body: ResponseBody | None = None  # made when the response starts
        self.start: Message = {}

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, the plan's work on a message: off the event loop when the plan does I/O (:func:`plan_work`)."""
        return await plan_work(self.exchange.plan, fn, *args)

    async def __call__(self, receive: Receive, send: Send) -> None:
        self.send = send
        scope, app_receive = self.scope, receive
        if self.exchange.covers("request"):
            prepared = await self.prepare_request(receive)
            if prepared is None:
                return  # refused or the client left: the app never sees this request
            scope, app_receive = prepared
        await self.app(scope, app_receive, self.send_response if self.exchange.covers("response") else send)

    # -- request: what enters the app ---------------------------------------------------

    async def prepare_request(self, receive: Receive) -> tuple[Scope, Receive] | None:
        exchange = self.exchange
        ctype = header_value(self.headers, "content-type")
        try:
            # The app gets the redacted path; the route (rule matching, logs) keeps the original.
            scope, headers = await self.work(redact_scope_head, exchange, self.scope, self.headers)
        except RedactionError as exc:
            if await self.refuse(exc.reason):
                return None
            scope, headers = dict(self.scope), self.headers
        unchanged = headers == self.headers  # then the server's raw headers are passed on as they came
        cenc = header_value(self.headers, "content-encoding")
        mode = exchange.request_mode(ctype)
        head, more = b"", True
        if mode == "sniff":
            head, more, gone = await self._read(receive, SNIFF_HEAD_BYTES)
            if gone:
                return None
            if not may_be_text(head, cenc, ctype):
                if not unchanged:
                    scope["headers"] = asgi_headers(headers)
                return scope, _replay(head, more, receive)  # binary: the rest streams on unread
        elif mode == "pass":
            if not unchanged:
                scope["headers"] = asgi_headers(headers)
            return scope, receive
        body, more, gone = await self._read(receive, exchange.limit + 1, head) if more else (head, False, False)
        if gone:
            return None  # don't hand the app a partial body
        try:
            out, outcome = await self.work(exchange.redact_body, "request", body, ctype, cenc)
        except RedactionError as exc:
            if await self.refuse(exc.reason):
                return None
            out, outcome = body, ""
        if outcome == "rewritten":
            headers = replace_length(headers, len(out))
        if outcome == "rewritten" or not unchanged:
            scope["headers"] = asgi_headers(headers)
        return scope, _replay(out, more, receive)

    async def refuse(self, reason: str) -> bool:
        """Log a request failure; with on_error=block answer with veil's error and return True."""
        refusal = self.exchange.refuse(reason, "request")
        if refusal is None:
            return False
        status, headers, body = refusal
        await self.emit([Start(headers, status), Chunk(body, False)])
        return True

    async def _read(self, receive: Receive, stop_at: int, start: bytes = b"") -> tuple[bytes, bool, bool]:
        """(body, more to come, client gone), ``start`` first; stops once ``stop_at`` bytes are
        in (just past the limit, or a sniffed head) so memory stays bounded."""
        chunks: list[bytes] = [start]
        size = len(start)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", False, True
            chunk = bytes(message.get("body", b""))
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if not more or size >= stop_at:
                return b"".join(chunks), more, False

    # -- response: what leaves the app --------------------------------------------------

    async def send_response(self, message: Message) -> None:
        kind = message["type"]
        body = self.body
        mode = body.mode if body is not None else ""
        if mode == "done":
            return  # already refused: the rest of the app's response must not leak
        if kind == "http.response.start":
            self.start = dict(message)  # a copy: the app's message stays its own
            self.body = self.exchange.response(str_headers(message.get("headers", ())), head_first=True)
            await self.emit(await self.work(self.body.begin))
        elif body is None:
            if kind not in _BODY_MESSAGES:
                await self.send(message)  # early hints and the like come before the start
            return  # a body before its start: nothing of it may go out
        elif kind == "http.response.body" and mode == "pass":
            await self.send(message)  # binary: as the app sent it
        elif kind == "http.response.body":
            await self.emit(await self.work(body.push, bytes(message.get("body", b"")), bool(message.get("more_body", False))))
        elif kind == "http.response.pathsend" and mode != "pass":
            await self.on_pathsend(body, message)
        elif kind == "http.response.zerocopy" and mode != "pass":
            # A bare file descriptor we'd have to read behind the server's back: refuse.
            refused = body.fail("unsupported_transfer")
            if refused is None:
                await self.emit([] if body.started else [body.start()])
                await self.send(message)
            await self.emit(refused or [])
        elif kind == "http.response.trailers":
            # Headers too (a checksum, a status detail): redacted as the head was.
            trailers = await self.work(body.trailers, str_headers(message.get("headers", ())))
            await self.send({**message, "headers": asgi_headers(trailers)})
        else:  # binary bodies, early hints
            await self.send(message)

    async def emit(self, sends: list[SendItem]) -> None:
        """The exchange's answers as ASGI messages."""
        await send_response(self.send, sends, self.start, self.body.received if self.body is not None else [])

    async def on_pathsend(self, body: ResponseBody, message: Message) -> None:
        """A file of a redactable type: read it through the exchange instead of letting the server send it raw."""
        # Reads bounded by the body limit (buffer) or streamed chunk by chunk; the open and every
        # read run in a worker thread, since a disk (or network file system) read blocks the event loop.
        file = await to_thread(open, message["path"], "rb")
        try:
            if body.mode == "sniff" and not body.held:
                sends = body.decide(await to_thread(file.read, SNIFF_HEAD_BYTES))
                if body.mode == "pass":  # a binary file of a vague type: sent as the server would
                    await self.emit(sends)
                    await self.send(message)
                    return
                file.seek(0)
            while body.mode in ("buffer", "stream", "sniff"):
                chunk = await to_thread(file.read, _FILE_CHUNK)
                await self.emit(await self.work(body.push, chunk, bool(chunk)))
                if not chunk:
                    return
            if body.mode == "pass":  # passthrough after a failure: the rest of the file unchanged
                while chunk := await to_thread(file.read, _FILE_CHUNK):
                    await self.emit(body.push(chunk, True))
                await self.emit(body.push(b"", False))
        finally:
            file.close()


def _in_event_loop() -> bool:
    """Whether an event loop runs in this thread: asyncio's, or trio's when anyio is there to tell."""
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    try:
        from anyio import get_current_task
    except ImportError:  # pragma: no cover - veil[asgi] installs starlette, hence anyio
        return False
    try:
        get_current_task()
    except RuntimeError:  # anyio's NoEventLoopError
        return False
    return True


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """The app's receive: the (redacted) body as one message, then the real receive (disconnects)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _unattached(message: Message) -> None:
    raise RuntimeError("send awaitable not set")  # pragma: no cover


VeilASGIMiddleware = ASGIMiddleware
"""The same class under a name that cannot collide with ``starlette.middleware.wsgi.WSGIMiddleware``
and other frameworks' ``*Middleware`` in an app's imports."""
