"""Redact what enters and leaves a WSGI application (Flask, Django's WSGI handler, ...).

    from veil.middleware import VeilWSGIMiddleware   # WSGIMiddleware: the same class

    app.wsgi_app = VeilWSGIMiddleware(app.wsgi_app, policy="policy.yaml")

Request ("request" rules): the query string, headers and cookies are rewritten
in a copy of ``environ``; the body is read in full (up to the plan's
``max_body_bytes``), redacted and handed to the app as a new ``wsgi.input``
with a matching ``CONTENT_LENGTH``. Response ("response" rules): headers (and
Set-Cookie) are rewritten; NDJSON and Server-Sent Events bodies are redacted
line by line as the app yields them; every other body is buffered, redacted
and sent as one chunk with a fixed Content-Length. Binary bodies stream
through untouched; a type that says nothing (``application/octet-stream``,
none) is judged by its first bytes (:mod:`veil.http.sniff`). The app is
handed the redacted path (``PATH_INFO``, ``RAW_URI``/``REQUEST_URI``); veil's
rules match the original.

Failure semantics are those of :mod:`veil.http.failures`: with ``block``
(the default) a request veil cannot process never reaches the app (400/413)
and a response is replaced by a 502. The exception is a stream whose first
lines were already sent: the status can no longer change, so veil raises and
the server aborts the connection; the client sees a broken stream, never raw
bytes, and the log one warning line (see :mod:`veil.http.aborts` for which servers). With ``passthrough`` the body that failed is delivered unchanged (the
head, which was processed, stays redacted).

Host and the framing headers are never rewritten by detectors (the plan's
``PROTOCOL_HEADERS``): servers and frameworks need them verbatim. A direction
no rule of the policy covers on a route (``builtin:app`` has no rule for
requests) passes untouched and unread (:mod:`veil.http.coverage`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from http import HTTPStatus
from itertools import chain
from typing import TYPE_CHECKING, Any

from veil.errors import RedactionError
from veil.http import (
    LineStream,
    Options,
    Replay,
    StreamAborted,
    body_mode,
    cgi_host,
    drive,
    error_response,
    head_chunks,
    header_value,
    is_vague,
    log_failure,
    may_be_text,
    parse_options,
    quiet_server_tracebacks,
    read_head,
    redact_buffered,
    redact_cgi_head,
    redact_cgi_path,
    redact_head,
    replace_length,
)
from veil.http.coverage import Coverage
from veil.observe.startup import announce_plan
from veil.rules.media import body_kind_of
from veil.rules.plan import Plan
from veil.rules.plan_types import Route
from veil.settings import PolicyArg, resolve_plan

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from _typeshed import OptExcInfo

Body = Generator[bytes, None, None]

_READ_SIZE = 64 * 1024
log = logging.getLogger(__name__)


class WSGIMiddleware:
    """Wrap a WSGI app; ``policy`` as for :func:`veil.settings.resolve_plan`, compiled once here.

    Options: ``on_error`` (None: the policy's), ``requests``/``responses``
    (False skips that direction entirely), ``max_decompressed_bytes``.
    """

    def __init__(self, app: WSGIApplication, policy: PolicyArg = None, **options: Any) -> None:
        self.app = app
        self.options = parse_options(options)  # a typo fails before any policy file is read
        self.plan = resolve_plan(policy)
        self.requests, self.responses = Coverage(self.plan, "request"), Coverage(self.plan, "response")
        announce_plan(self.plan)
        quiet_server_tracebacks()  # an aborted stream is one warning line, not a server traceback

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        exchange = _Exchange(self.plan, self.options, environ, start_response)
        if self.options.requests and self.requests and self.requests.covers(exchange.route("request", "")):
            refusal = exchange.redact_request()
            if refusal is not None:
                return refusal  # fail closed: the app never sees the request
        if not (self.options.responses and self.responses and self.responses.covers(exchange.route("response", ""))):
            return self.app(exchange.environ, start_response)
        result = self.app(exchange.environ, exchange.capture)
        return _Closing(exchange.respond(result), result)


class _Closing:
    """Our body generator plus the app's iterable: ``close`` reaches both (as werkzeug's ClosingIterator)."""

    def __init__(self, body: Body, result: Iterable[bytes]) -> None:
        self._body = body
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._body)

    def close(self) -> None:
        try:
            self._body.close()
        finally:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()


class _Exchange:
    """One request and its response; the held response head lives here, never on the middleware."""

    def __init__(self, plan: Plan, options: Options, environ: WSGIEnvironment, start_response: StartResponse) -> None:
        self.plan = plan
        self.options = options
        self.blocks = options.blocks(plan)
        self.environ = dict(environ)  # the server's dict stays as it arrived
        self.path = str(environ.get("PATH_INFO", ""))  # rules match the original path; the app gets the redacted one
        self.start_response = start_response
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent = False
        self.written: list[bytes] = []
        self.consumed = b""  # request bytes read before the body turned out too large

    def route(self, direction: str, content_type: str) -> Route:
        env = self.environ
        return Route(direction, env.get("REQUEST_METHOD", "GET"), cgi_host(env), self.path, content_type)

    # -- request ------------------------------------------------------------------

    def redact_request(self) -> list[bytes] | None:
        """Rewrite ``self.environ`` in place; the error body when the request must be refused."""
        env = self.environ
        ctype = env.get("CONTENT_TYPE", "")
        route = self.route("request", ctype)
        try:
            redact_cgi_head(self.plan, route, self.environ)
            redact_cgi_path(self.plan, route, self.environ)
        except RedactionError as exc:
            if (refusal := self._fail(exc.reason, "request")) is not None:
                return refusal
        head = b""
        if is_vague(ctype):  # a type that says nothing: the head tells an upload from a document
            head = self._read_head()
            if not may_be_text(head, env.get("HTTP_CONTENT_ENCODING", "")):
                if head:
                    env["wsgi.input"] = io.BufferedReader(Replay(head, env["wsgi.input"]))
                return None  # binary: the rest streams on to the app unread
        elif body_kind_of(ctype) == "binary":
            return None  # never rewritten, so never read: uploads stream on to the app
        body = b""
        try:
            body = self._read_body(head)
            if body:
                encoding = env.get("HTTP_CONTENT_ENCODING", "")
                self._set_body(redact_buffered(self.plan, route, body, ctype, encoding, self.options, "wsgi")[0])
        except RedactionError as exc:
            if (refusal := self._fail(exc.reason, "request")) is not None:
                return refusal
            if self.consumed:  # chunked and over the limit: give back what was read, then the rest
                env["wsgi.input"] = io.BufferedReader(Replay(self.consumed, env["wsgi.input"]))
            elif body:
                self._set_body(body)
        return None

    def _length(self) -> int | None:
        """The request body's length; None when unknown (chunked)."""
        try:
            return max(int(self.environ["CONTENT_LENGTH"]), 0)
        except (KeyError, ValueError):
            return None

    def _read_head(self) -> bytes:
        """The first SNIFF_HEAD_BYTES of the body (what _read_body would read, no more)."""
        length = self._length()
        if length is None and not self.environ.get("wsgi.input_terminated"):
            return b""
        return read_head(self.environ["wsgi.input"].read, length)

    def _read_body(self, head: bytes = b"") -> bytes:
        """The whole body, ``head`` (already read) first; over the limit a RedactionError, with what
        was read kept in ``self.consumed`` for passthrough."""
        env = self.environ
        limit = self.plan.limits.max_body_bytes
        length = self._length()
        if length is None and not env.get("wsgi.input_terminated"):
            return b""  # PEP 3333: without a length the stream may never end; werkzeug reads nothing either
        if length is not None and length > limit:
            self.consumed = head
            raise RedactionError("body_too_large", f"request body of {length} bytes is over the limit of {limit}")
        stream, parts, size = env["wsgi.input"], [head], len(head)
        while length is None or size < length:
            chunk = stream.read(_READ_SIZE if length is None else min(_READ_SIZE, length - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                self.consumed = b"".join(parts)
                raise RedactionError("body_too_large", f"request body is over the limit of {limit} bytes")
        return b"".join(parts)

    def _set_body(self, body: bytes) -> None:
        self.environ["wsgi.input"] = io.BytesIO(body)
        self.environ["CONTENT_LENGTH"] = str(len(body))
        self.environ.pop("HTTP_TRANSFER_ENCODING", None)  # the new body has a length, not chunks

    def _fail(self, reason: str, direction: str) -> list[bytes] | None:
        """Log a failure (reason, method, rule ids); with ``block``, start the error response and return its body."""
        log_failure(log, self.plan, self.route(direction, ""), reason)
        return self._refuse(reason, direction)

    def _refuse(self, reason: str, direction: str) -> list[bytes] | None:
        """With ``block`` and nothing sent yet, start the error response and return its body."""
        if not self.blocks or self.sent:
            return None
        status, headers, body = error_response(reason, direction)
        self.start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        self.sent = True
        return [body]

    # -- response -----------------------------------------------------------------

    def capture(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        """The app's start_response: hold the head until the body decides its headers."""
        if exc_info is not None and self.sent and exc_info[1] is not None:
            raise exc_info[1].with_traceback(exc_info[2])  # PEP 3333: too late to replace the head
        if exc_info is None and self.status is not None:
            raise RuntimeError("start_response called a second time without exc_info")
        # An exc_info call before anything was sent just replaces the held head: the server only ever
        # sees our single start_response call, so it needs no exc_info (werkzeug's test client raises on it).
        self.status, self.headers = status, list(headers)
        return self.written.append  # legacy write(): buffered and sent before the iterable's chunks

    def respond(self, result: Iterable[bytes]) -> Body:
        body: Iterator[bytes] = self._chunks(result)
        first = next(body, None)  # a generator app calls start_response on its first step
        if self.status is None:
            raise RuntimeError("the WSGI application did not call start_response")
        if first is not None:
            body = chain((first,), body)
        ctype = header_value(self.headers, "content-type")
        encoding = header_value(self.headers, "content-encoding")
        route = self.route("response", ctype)
        try:
            headers = redact_head(self.plan, route, self.headers, "")[0]
        except RedactionError as exc:
            if (refusal := self._fail(exc.reason, "response")) is not None:
                yield from refusal
                return
            headers = self.headers
        mode, kind = body_mode(ctype, encoding, sniffs=True)
        if mode == "sniff":  # a type that says nothing: binary passes unread, anything else is buffered
            held = head_chunks(body)
            mode = "buffer" if may_be_text(b"".join(held), encoding) else "pass"
            body = chain(held, body)
        if mode == "stream" and kind is not None:
            yield from self._stream(route, kind, replace_length(headers, None), body)
        elif mode == "pass":
            yield from self._send(headers, body)  # never rewritten, so never buffered
        else:
            yield from self._buffered(route, ctype, encoding, headers, body)

    def _chunks(self, result: Iterable[bytes]) -> Body:
        """The app's chunks, each after whatever it passed to the legacy ``write()`` before it."""
        for chunk in chain(result, (b"",)):  # the empty tail flushes writes made during the last step
            while self.written:
                yield self.written.pop(0)
            yield chunk

    def _send(self, headers: list[tuple[str, str]], chunks: Iterable[bytes]) -> Body:
        """Start the real response (once, lazily) and yield the non-empty chunks."""
        if not self.sent:
            self.start_response(self.status or "500 Internal Server Error", headers)
            self.sent = True
        for chunk in chunks:
            if chunk:
                yield chunk

    def _stream(self, route: Route, kind: str, headers: list[tuple[str, str]], body: Iterator[bytes]) -> Body:
        # Headers go out with the first redacted line, so an early failure can still be a 502.
        stream = LineStream(self.plan, route, kind, self.options, "wsgi")
        try:
            for out in drive(stream, body):
                yield from self._send(headers, (out,))
        except StreamAborted as exc:  # logged and observed by the stream
            if (refusal := self._refuse(exc.reason, "response")) is None:
                raise  # lines already went out: abort the connection so the client sees a broken stream
            yield from refusal
        if not self.sent:
            yield from self._send(headers, ())  # an empty stream: the head still goes out

    def _buffered(
        self, route: Route, ctype: str, encoding: str, headers: list[tuple[str, str]], body: Iterator[bytes]
    ) -> Body:
        limit = self.plan.limits.max_body_bytes
        parts: list[bytes] = []
        size = 0
        try:
            for chunk in body:
                parts.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise RedactionError("body_too_large", f"response body is over the limit of {limit} bytes")
            data = b"".join(parts)
            if data:  # empty bodies (HEAD, 204, 304) keep their headers as the app set them
                data, _, _ = redact_buffered(self.plan, route, data, ctype, encoding, self.options, "wsgi")
                headers = replace_length(headers, len(data))
        except RedactionError as exc:
            refusal = self._fail(exc.reason, "response")
            yield from refusal if refusal is not None else self._send(headers, chain(parts, body))
            return
        yield from self._send(headers, (data,))


VeilWSGIMiddleware = WSGIMiddleware
"""The same class under a name that cannot collide with ``starlette.middleware.wsgi.WSGIMiddleware``
(or a2wsgi's) in an app's imports."""
