"""ASGI middleware: redact what enters the app and what leaves it.

    from veil.middleware import VeilASGIMiddleware                 # ASGIMiddleware: the same class
    app = VeilASGIMiddleware(app, policy="policy.yaml")            # any ASGI app
    app.add_middleware(VeilASGIMiddleware, policy="policy.yaml")   # FastAPI / Starlette

Pure ASGI, shaped like starlette's GZipMiddleware: non-HTTP scopes pass
through, per-request state lives in a ``_Responder`` made per request, and
``http.response.start`` is held back until the body decides the headers.
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
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from veil.errors import PolicyError, RedactionError
from veil.http import (
    DEFAULT_MAX_DECOMPRESSED,
    SNIFF_HEAD_BYTES,
    LineStream,
    Options,
    StreamAborted,
    body_mode,
    error_response,
    header_value,
    is_vague,
    log_failure,
    may_be_text,
    quiet_server_tracebacks,
    raw_headers,
    raw_path_of,
    redact_buffered,
    redact_head,
    redact_request_path,
    replace_length,
    str_headers,
)
from veil.http.coverage import Coverage
from veil.observe import NullObserver, Observer
from veil.observe.startup import announce_plan
from veil.rules.media import body_kind_of
from veil.rules.plan import Plan
from veil.rules.plan_types import Route
from veil.settings import PolicyArg, resolve_plan

# Any-based like starlette.middleware's own aliases, so any framework's app type fits.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Any, Receive, Send], Awaitable[None]]
Headers = list[tuple[str, str]]

log = logging.getLogger(__name__)
_FILE_CHUNK = 64 * 1024

try:  # pathsend reads run in a worker thread: anyio's (asyncio or trio) when there, else asyncio's
    from anyio.to_thread import run_sync as _run_sync
except ImportError:  # pragma: no cover - veil[asgi] installs starlette, hence anyio
    _run_sync = asyncio.to_thread  # type: ignore[assignment]


class ASGIMiddleware:
    """Redact requests before ``app`` sees them and its responses before the client does.

    ``policy``: a policy file path, a policy dict, a compiled Plan, or None for
    ``$VEIL_POLICY`` / the built-in default. The options are those of
    :class:`veil.http.Options`. They are keyword-only parameters
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
    ) -> None:
        if on_error not in (None, "block", "passthrough"):
            raise ValueError(f"on_error must be 'block' or 'passthrough', not {on_error!r}")
        self.app = app
        self.options = Options(on_error, requests, responses, max_decompressed_bytes, observer or NullObserver())
        self.startup_error: PolicyError | None = None
        try:
            self.plan = resolve_plan(policy)  # compiled once; a Plan is immutable and shared by all requests
        except PolicyError as exc:
            if not _in_event_loop():
                raise
            self.startup_error = exc  # built lazily by Starlette: the lifespan is where it can stop the server
            return
        self.coverage = (Coverage(self.plan, "request"), Coverage(self.plan, "response"))
        announce_plan(self.plan)
        quiet_server_tracebacks()  # an aborted stream is one warning line, not a server traceback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.startup_error is not None:
            await self.refuse_to_start(self.startup_error, scope, receive, send)
            return
        if scope["type"] != "http":  # websocket and lifespan carry no HTTP bodies to redact
            await self.app(scope, receive, send)
            return
        await _Responder(self.app, self.plan, self.options, scope, self.coverage)(receive, send)

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
    """One request's state; the middleware itself stays stateless."""

    def __init__(
        self, app: ASGIApp, plan: Plan, options: Options, scope: Scope, coverage: tuple[Coverage, Coverage]
    ) -> None:
        self.app, self.plan, self.options, self.scope, self.coverage = app, plan, options, scope, coverage
        self.headers = str_headers(scope.get("headers", ()))
        self.method: str = scope.get("method", "")
        self.path: str = scope.get("path", "")
        self.host = header_value(self.headers, "host")
        self.blocks = options.blocks(plan)
        self.send: Send = _unattached
        # Response state. mode: "" before start, then pass | stream | buffer, "done" once refused.
        self.mode = ""
        self.start: Message = {}
        self.started = False
        self.ctype = self.cenc = ""
        self.response_route = Route("response")
        self.response_headers: Headers = []  # as sent with the start message, before its length is known
        self.chunks: list[bytes] = []
        self.size = 0
        self.lines: LineStream | None = None

    def route(self, direction: str, content_type: str) -> Route:
        return Route(direction, self.method, self.host, self.path, content_type)

    async def __call__(self, receive: Receive, send: Send) -> None:
        self.send = send
        scope, app_receive = self.scope, receive
        requests, responses = self.coverage
        if self.options.requests and requests and requests.covers(self.route("request", "")):
            prepared = await self.prepare_request(receive)
            if prepared is None:
                return  # refused or the client left: the app never sees this request
            scope, app_receive = prepared
        redacts = self.options.responses and responses and responses.covers(self.route("response", ""))
        await self.app(scope, app_receive, self.send_response if redacts else send)

    # -- request: what enters the app ---------------------------------------------------

    async def prepare_request(self, receive: Receive) -> tuple[Scope, Receive] | None:
        ctype = header_value(self.headers, "content-type")
        route = self.route("request", ctype)
        query = bytes(self.scope.get("query_string", b"")).decode("latin-1")
        raw_path = self.raw_path()
        try:
            headers, new_query, _ = redact_head(self.plan, route, self.headers, query)
            # The app gets the redacted path; the route (rule matching, logs) keeps the original.
            new_path = redact_request_path(self.plan, route, raw_path)[0]
        except RedactionError as exc:
            if await self.fail(exc.reason, "request"):
                return None
            headers, new_query, new_path = self.headers, query, raw_path
        scope = dict(self.scope)
        unchanged = headers == self.headers  # then the server's raw headers are passed on as they came
        if new_query != query:
            scope["query_string"] = new_query.encode("latin-1")
            if b"?" in (scope.get("raw_path") or b""):  # a server that put the query in raw_path
                del scope["raw_path"]
        if new_path != raw_path:
            scope["path"] = unquote(new_path)
            scope["raw_path"] = new_path.encode("latin-1")
        cenc = header_value(self.headers, "content-encoding")
        head, more = b"", True
        if is_vague(ctype):  # a type that says nothing: the head tells a download from a document
            head, more, gone = await self._read(receive, SNIFF_HEAD_BYTES)
            if gone:
                return None
            if not may_be_text(head, cenc):
                if not unchanged:
                    scope["headers"] = _raw_headers(headers)
                return scope, _replay(head, more, receive)  # binary: the rest streams on unread
        elif body_kind_of(ctype) == "binary":
            if not unchanged:
                scope["headers"] = _raw_headers(headers)
            return scope, receive  # never rewritten, so never buffered: uploads stream on
        limit = self.plan.limits.max_body_bytes
        body, more, gone = await self._read(receive, limit + 1, head) if more else (head, False, False)
        if gone:
            return None  # don't hand the app a partial body
        try:
            if len(body) > self.plan.limits.max_body_bytes:
                raise RedactionError("body_too_large", "request body is over the limit")
            out, _, outcome = redact_buffered(self.plan, route, body, ctype, cenc, self.options, "asgi")
        except RedactionError as exc:
            if await self.fail(exc.reason, "request"):
                return None
            out, outcome = body, ""
        if outcome == "rewritten":
            headers = replace_length(headers, len(out))
        if outcome == "rewritten" or not unchanged:
            scope["headers"] = _raw_headers(headers)
        return scope, _replay(out, more, receive)

    def raw_path(self) -> str:
        """The request path as sent (percent-encoded, without the query)."""
        raw = self.scope.get("raw_path")
        if raw:
            return bytes(raw).decode("latin-1").partition("?")[0]
        return raw_path_of(self.path.encode("utf-8"))

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
        if self.mode == "done":
            return  # already refused: the rest of the app's response must not leak
        if kind == "http.response.start":
            await self.on_start(message)
        elif kind == "http.response.body":
            await self.on_body(bytes(message.get("body", b"")), bool(message.get("more_body", False)), message)
        elif kind == "http.response.pathsend" and self.mode != "pass":
            await self.on_pathsend(message)
        elif kind == "http.response.zerocopy" and self.mode != "pass":
            # A bare file descriptor we'd have to read behind the server's back: refuse.
            if not await self.fail("unsupported_transfer", "response"):
                await self.send_start()
                await self.send(message)
        else:  # binary bodies, early hints, trailers
            await self.send(message)

    async def on_start(self, message: Message) -> None:
        received = str_headers(message.get("headers", ()))
        self.ctype = header_value(received, "content-type")
        self.cenc = header_value(received, "content-encoding").strip().lower()
        self.response_route = self.route("response", self.ctype)
        headers = received
        try:
            headers = redact_head(self.plan, self.response_route, received, "")[0]
        except RedactionError as exc:
            if await self.fail(exc.reason, "response"):
                return
        self.response_headers = headers
        self.start = dict(message)  # a copy: the app's message stays its own
        if headers != received:
            self.start["headers"] = _raw_headers(headers)
        self.mode, kind = body_mode(self.ctype, self.cenc, sniffs=True)
        if self.mode == "stream" and kind is not None:  # events must reach the client as they happen
            self.lines = LineStream(self.plan, self.response_route, kind, self.options, "asgi", headers_out=True)
            self.start["headers"] = _raw_headers(replace_length(headers, None))
        elif self.mode in ("buffer", "sniff"):
            return  # Content-Length is known only once the whole body is redacted (or the head says binary)
        await self.send_start()

    async def on_body(self, body: bytes, more: bool, message: Message | None = None) -> None:
        if self.mode == "pass":
            await self.send(message or {"type": "http.response.body", "body": body, "more_body": more})
        elif self.mode == "stream":
            await self.on_stream_chunk(body, more)
        elif self.mode == "sniff":
            self.chunks.append(body)
            self.size += len(body)
            if self.size >= SNIFF_HEAD_BYTES or not more:
                await self.on_head(more)
        elif self.mode == "buffer":
            self.chunks.append(body)
            self.size += len(body)
            await self.on_buffered(more)

    async def on_head(self, more: bool) -> None:
        """A vague type's head is in: binary passes unread from here on, anything else is buffered."""
        head = b"".join(self.chunks)
        if may_be_text(head, self.cenc):
            self.mode = "buffer"
            await self.on_buffered(more)
            return
        self.mode, self.chunks = "pass", []
        await self.send_start()
        await self.send({"type": "http.response.body", "body": head, "more_body": more})

    async def on_buffered(self, more: bool) -> None:
        if self.size > self.plan.limits.max_body_bytes:
            if not await self.fail("body_too_large", "response"):
                self.mode = "pass"  # passthrough: what we hold, then the rest as it comes
                await self.send_start()
                await self.send({"type": "http.response.body", "body": b"".join(self.chunks), "more_body": more})
        elif not more:
            await self.finish(b"".join(self.chunks))

    async def on_stream_chunk(self, body: bytes, more: bool) -> None:
        assert self.lines is not None
        out = self.lines.step(body, last=not more)  # passthrough after a failure: the original bytes
        if self.lines.blocked:  # logged and observed by the stream; the headers are out
            self.mode = "done"
            raise StreamAborted(self.lines.failed)
        if out or not more:
            await self.send({"type": "http.response.body", "body": out, "more_body": more})

    async def on_pathsend(self, message: Message) -> None:
        """A file of a redactable type: read it through on_body instead of letting the server send it raw."""
        # Reads bounded by the body limit (buffer) or streamed chunk by chunk; the open and every
        # read run in a worker thread, since a disk (or network file system) read blocks the event loop.
        file = await _run_sync(open, message["path"], "rb")
        try:
            if self.mode == "sniff" and not self.chunks:
                if not may_be_text(await _run_sync(file.read, SNIFF_HEAD_BYTES), self.cenc):
                    self.mode = "pass"  # a binary file of a vague type: the server sends it as it would
                    await self.send_start()
                    await self.send(message)
                    return
                file.seek(0)
            while self.mode in ("buffer", "stream", "sniff"):
                chunk = await _run_sync(file.read, _FILE_CHUNK)
                await self.on_body(chunk, bool(chunk))
                if not chunk:
                    return
            if self.mode == "pass":  # passthrough after a failure: the rest of the file unchanged
                while chunk := await _run_sync(file.read, _FILE_CHUNK):
                    await self.send({"type": "http.response.body", "body": chunk, "more_body": True})
                await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            file.close()

    async def finish(self, body: bytes) -> None:
        try:
            out, _, outcome = redact_buffered(self.plan, self.response_route, body, self.ctype, self.cenc, self.options, "asgi")
        except RedactionError as exc:
            if await self.fail(exc.reason, "response"):
                return
            out, outcome = body, ""
        if outcome == "rewritten":
            self.start["headers"] = _raw_headers(replace_length(self.response_headers, len(out)))
        await self.send_start()
        await self.send({"type": "http.response.body", "body": out, "more_body": False})

    async def send_start(self) -> None:
        if not self.started:
            self.started = True
            await self.send(self.start)

    async def fail(self, reason: str, direction: str) -> bool:
        """Log a failure (reason, method, rule ids); with on_error=block answer with the error and return True."""
        log_failure(log, self.plan, self.route(direction, ""), reason, "stream aborted" if self.started else "")
        if not self.blocks:
            return False
        if direction == "response":
            self.mode = "done"
        if self.started:
            # Headers are out and the status cannot change. Ending the stream cleanly would look
            # complete to the client; raising makes the server abort the connection instead
            # (as the WSGI middleware does), and the rest is never sent.
            raise StreamAborted(reason)
        status, headers, body = error_response(reason, direction)
        self.started = True
        await self.send({"type": "http.response.start", "status": status, "headers": _raw_headers(headers)})
        await self.send({"type": "http.response.body", "body": body, "more_body": False})
        return True


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


def _raw_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    return raw_headers(headers, lower=True)


async def _unattached(message: Message) -> None:
    raise RuntimeError("send awaitable not set")  # pragma: no cover


VeilASGIMiddleware = ASGIMiddleware
"""The same class under a name that cannot collide with ``starlette.middleware.wsgi.WSGIMiddleware``
and other frameworks' ``*Middleware`` in an app's imports."""
