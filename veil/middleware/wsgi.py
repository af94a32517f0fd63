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
    Replay,
    cgi_host,
    may_be_text,
    parse_options,
    quiet_server_tracebacks,
    read_head,
    redact_cgi_head,
    redact_cgi_path,
)
from veil.http.exchange import Chunk, Exchanges, Send, Start
from veil.observe.startup import announce_plan
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
        self.exchanges = Exchanges(self.plan, self.options, "wsgi", log)
        announce_plan(self.plan)
        quiet_server_tracebacks()  # an aborted stream is one warning line, not a server traceback

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        exchange = _Exchange(self.exchanges, environ, start_response)
        if exchange.exchange.covers("request"):
            refusal = exchange.redact_request()
            if refusal is not None:
                return refusal  # fail closed: the app never sees the request
        if not exchange.exchange.covers("response"):
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
    """One request and its response in WSGI terms, decided by an :class:`Exchange`; the held
    response head lives here, never on the middleware."""

    def __init__(self, exchanges: Exchanges, environ: WSGIEnvironment, start_response: StartResponse) -> None:
        self.environ = dict(environ)  # the server's dict stays as it arrived
        # Rules match the original path; the app gets the redacted one.
        self.exchange = exchanges.open(
            environ.get("REQUEST_METHOD", "GET"), cgi_host(environ), str(environ.get("PATH_INFO", ""))
        )
        self.start_response = start_response
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent = False
        self.written: list[bytes] = []
        self.consumed = b""  # request bytes read before the body turned out too large

    # -- request ------------------------------------------------------------------

    def redact_request(self) -> list[bytes] | None:
        """Rewrite ``self.environ`` in place; the error body when the request must be refused."""
        env, exchange = self.environ, self.exchange
        ctype = env.get("CONTENT_TYPE", "")
        route = exchange.route("request", ctype)
        try:
            redact_cgi_head(exchange.plan, route, self.environ)
            redact_cgi_path(exchange.plan, route, self.environ)
        except RedactionError as exc:
            if (refusal := self._refuse(exc.reason)) is not None:
                return refusal
        mode = exchange.request_mode(ctype)
        head = b""
        if mode == "sniff":  # a type that says nothing: the head tells an upload from a document
            head = self._read_head()
            if not may_be_text(head, env.get("HTTP_CONTENT_ENCODING", ""), ctype):
                if head:
                    env["wsgi.input"] = io.BufferedReader(Replay(head, env["wsgi.input"]))
                return None  # binary: the rest streams on to the app unread
        elif mode == "pass":
            return None  # never rewritten, so never read: uploads stream on to the app
        body = b""
        try:
            body = self._read_body(head)
            if body:
                self._set_body(exchange.redact_body("request", body, ctype, env.get("HTTP_CONTENT_ENCODING", ""))[0])
        except RedactionError as exc:
            if (refusal := self._refuse(exc.reason)) is not None:
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
        limit = self.exchange.limit
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

    def _refuse(self, reason: str) -> list[bytes] | None:
        """Log a request failure; with ``block``, start the error response and return its body."""
        refusal = self.exchange.refuse(reason, "request")
        if refusal is None:
            return None
        status, headers, body = refusal
        return list(self._emit([Start(headers, status), Chunk(body, False)]))

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
        chunks: Iterator[bytes] = self._chunks(result)
        first = next(chunks, None)  # a generator app calls start_response on its first step
        if self.status is None:
            raise RuntimeError("the WSGI application did not call start_response")
        # Headers of a stream go out with its first redacted line, so an early failure can still be a 502.
        body = self.exchange.response(self.headers, head_first=False, fixed_length=True)
        yield from self._emit(body.begin())
        for chunk in chain(() if first is None else (first,), chunks):
            if body.mode == "done":
                return  # refused: the rest of the app's body is never read
            yield from self._emit(body.push(chunk, True))
        yield from self._emit(body.push(b"", False))

    def _chunks(self, result: Iterable[bytes]) -> Body:
        """The app's chunks, each after whatever it passed to the legacy ``write()`` before it."""
        for chunk in chain(result, (b"",)):  # the empty tail flushes writes made during the last step
            while self.written:
                yield self.written.pop(0)
            yield chunk

    def _emit(self, sends: list[Send]) -> Body:
        """The exchange's answers: the real start_response (once), then the non-empty chunks."""
        for item in sends:
            if isinstance(item, Chunk):
                if item.data:
                    yield item.data
                continue
            status = self.status if item.status is None else f"{item.status} {HTTPStatus(item.status).phrase}"
            self.start_response(status or "500 Internal Server Error", item.headers)
            self.sent = True


VeilWSGIMiddleware = WSGIMiddleware
"""The same class under a name that cannot collide with ``starlette.middleware.wsgi.WSGIMiddleware``
(or a2wsgi's) in an app's imports."""
