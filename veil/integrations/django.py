"""Django middleware: redact what enters your views and what leaves them, with one policy.

    # settings.py
    MIDDLEWARE = [
        "django.middleware.gzip.GZipMiddleware",        # if used: outside veil, so it works on redacted bytes
        "veil.integrations.django.VeilMiddleware",      # then as early as possible: the rest sees redacted data
        ...
    ]
    VEIL = {"POLICY": "policy.yaml", "ON_ERROR": "block"}  # every key optional; no VEIL at all is fine too

``settings.VEIL`` (a dict, read once when Django builds the middleware chain):

- ``POLICY``: a policy file path, a policy dict, or a compiled Plan. Missing or None:
  ``$VEIL_POLICY``, else veil's built-in default policy.
- ``ON_ERROR``: ``"block"`` or ``"passthrough"``; missing or None: the policy's own ``on_error``.
- ``REQUESTS`` / ``RESPONSES``: False skips that direction entirely (default True).
- ``MAX_DECOMPRESSED_BYTES``: limit on a gzip/deflate body once decoded (default 64 MiB).
- ``OBSERVER``: told about every body: an observer (``veil.integrations.prometheus.Metrics()``),
  or its dotted path (``"myapp.metrics.METRICS"``, an object with ``observe``, or a class
  veil calls with no arguments), imported when the middleware starts.

An unknown key or a bad value is ``ImproperlyConfigured`` at startup, never a silent default.
Add ``"veil.integrations.django.VeilConfig"`` to ``INSTALLED_APPS`` and ``manage.py check``
(and so ``runserver``, before it serves) reports a bad ``VEIL`` setting or policy file as
``veil.E001``/``veil.E002`` with the policy's ``file:line:col`` message. Without it the
middleware still refuses to start: Django raises when it builds the middleware chain
(gunicorn's worker fails to boot, runserver prints the error and serves nothing).
A direction no rule of the policy covers on a route (``builtin:app`` has no rule for
requests) passes untouched and unread (:mod:`veil.http.coverage`).

One class, sync- and async-capable like Django's ``MiddlewareMixin``: under an async
handler chain ``__call__`` returns a coroutine. A vaultless plan's redaction is CPU work and
runs inline; a plan with vault tokens (``plan.does_io``: a round trip to the vault per new
value) redacts in a worker thread under an async chain (asgiref's ``sync_to_async``, not
thread-sensitive), so a slow vault stalls its own request and not every request the server
holds. A view's *synchronous* streaming iterator is advanced in a thread when running async.

Request: the query string (``QUERY_STRING`` and gunicorn's ``RAW_URI``), ``HTTP_*``
headers and cookies are rewritten in ``request.META`` in place (``GET``, ``COOKIES`` and
``headers`` are rebuilt from it); the body is read (up to ``limits.max_body_bytes``),
redacted and put back so ``request.body``, ``request.read()`` and ``request.POST`` see the
redacted bytes. Binary types are never rewritten, so never read; a type that says nothing
(``application/octet-stream``, none) is judged by its first bytes (:mod:`veil.http.sniff`),
put back in front of the stream. The view gets the redacted path (``path``, ``path_info``,
``META["PATH_INFO"]``; URL resolution runs on it); veil's rules match the original. Django's WSGI request reads no body without ``Content-Length``; veil sees
exactly what the view would.

Response: headers and the cookies in ``response.cookies`` (Django's Set-Cookie) are
rewritten. Like django/middleware/gzip.py, bodies split on ``response.streaming``:

- ``HttpResponse``: ``content`` is redacted and ``Content-Length`` fixed.
- ``StreamingHttpResponse`` (and ``FileResponse``) of NDJSON / Server-Sent Events (without
  ``Content-Encoding``): ``streaming_content`` is wrapped, sync or async iterator alike,
  and each line is redacted as the view produces it; ``Content-Length`` is dropped. The
  stream is advanced to its first redacted line before the response is returned, so a
  failure there is still a 502 (except an async iterator under a sync chain, which
  cannot be awaited here: a failure then aborts the stream).
- Other streaming responses: binary types stream through untouched (and ``FileResponse``
  keeps ``wsgi.file_wrapper``/sendfile; of a vague type, its file's head decides); any other redactable type cannot be redacted
  piecewise, so it is buffered (bounded by ``limits.max_body_bytes``), redacted and sent
  as one chunk with a ``Content-Length``: never streamed raw.

Failure semantics are those of :mod:`veil.http.failures`: with ``block`` a request
veil cannot process never reaches the view (400, or 413 over a limit) and a response is
replaced by a 502 with the JSON error body. A stream that fails after its first lines
went out raises, so the server aborts the connection rather than end it cleanly (one
warning line in the log: :mod:`veil.http.aborts`). With ``passthrough`` the body that
failed is delivered unchanged. Failures are logged on the ``veil`` loggers with the
reason, the method and the ids of the policy rules on the route: never the path or payload. ``Host`` and the framing
headers are never rewritten by detectors.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from veil.errors import RedactionError
from veil.http import (
    SNIFF_HEAD_BYTES,
    VALIDATORS_OF_BYTES,
    Headers,
    Replay,
    StreamAborted,
    adrive,
    cgi_host,
    drive,
    error_response,
    header_value,
    may_be_text,
    quiet_server_tracebacks,
    raw_path_of,
    read_head,
    redact_cgi_head,
    redact_request_path,
)
from veil.http.cgi import redact_raw_targets
from veil.http.chunks import achain_held, aonce, atake, chain_held, take
from veil.http.exchange import Chunk, Exchanges, Refusal, ResponseBody, Send, Start
from veil.integrations.django_settings import (
    SETTINGS_KEYS,
    check_settings,
    django_parts,
    options_from_settings,
    veil_app_config,
)
from veil.observe.startup import announce_plan
from veil.rules.plan_types import Route
from veil.settings import resolve_plan

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["SETTINGS_KEYS", "VeilMiddleware", "check_settings", "options_from_settings"]


def __getattr__(name: str) -> Any:
    if name == "VeilConfig":  # made on first use: importing this module does not import Django
        return veil_app_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class VeilMiddleware:
    """Redact requests before the view sees them and responses before the client does (see module doc)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        if get_response is None:
            raise ValueError("get_response must be provided.")
        django = django_parts()
        self.get_response = get_response
        policy, self.options = options_from_settings(getattr(django.settings, "VEIL", None))
        self.plan = resolve_plan(policy)  # compiled once; a Plan is immutable and shared by all requests
        self.exchanges = Exchanges(self.plan, self.options, "django", log)
        announce_plan(self.plan)
        quiet_server_tracebacks()  # an aborted stream is one warning line, not a server traceback
        # As MiddlewareMixin: an async chain turns us into async mode so no thread is held per request.
        self.async_mode = django.sync.iscoroutinefunction(get_response)
        if self.async_mode:
            django.sync.markcoroutinefunction(self)

    def __repr__(self) -> str:
        return f"<VeilMiddleware plan={self.plan.source!r}>"

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        exchange = _Exchange(self.exchanges, request)
        if exchange.exchange.covers("request") and (refusal := exchange.redact_request()) is not None:
            return refusal  # fail closed: the view never sees the request
        response = self.get_response(request)
        return exchange.redact_response(response) if exchange.exchange.covers("response") else response

    async def __acall__(self, request: Any) -> Any:
        exchange = _Exchange(self.exchanges, request)
        if exchange.exchange.covers("request") and (refusal := await exchange.work(exchange.redact_request)) is not None:
            return refusal
        response = await self.get_response(request)
        return await exchange.aredact_response(response) if exchange.exchange.covers("response") else response


class _Exchange:
    """One request and its response in Django's objects, decided by an :class:`Exchange`;
    per-request state lives here, never on the middleware."""

    def __init__(self, exchanges: Exchanges, request: Any) -> None:
        self.request, self.plan = request, exchanges.plan
        # Not get_host(): that validates ALLOWED_HOSTS and may raise. Rules match the original
        # path; the view gets the redacted one.
        self.exchange = exchanges.open(request.method or "GET", cgi_host(request.META), request.path_info)
        self.head: Headers = []  # the response head once redacted, before any length fix-up

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, the plan's work, from the async chain: in a worker thread when the plan does
        I/O (vault tokens), inline otherwise: a vaultless plan only computes, and a thread hop costs
        about as much as redacting a 1 KB body. Not thread-sensitive: vault waits of concurrent
        requests overlap instead of queueing on Django's one sync thread."""
        if self.plan.does_io:
            done: T = await django_parts().sync.sync_to_async(fn, thread_sensitive=False)(*args)  # contextvars copied
            return done
        return fn(*args)

    def fail(self, reason: str, direction: str, original: Any = None) -> Any:
        """Log a failure (reason, method, rule ids); with ``block`` return the error response, else None."""
        refusal = self.exchange.refuse(reason, direction)
        return self.error(refusal, original) if refusal is not None else None

    def error(self, refusal: Refusal, original: Any = None) -> Any:
        status, headers, body = refusal
        response = django_parts().HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        response._has_been_logged = True  # django.request would log "Bad Request: <path>": veil logged its line
        if original is not None:
            # The view's files and iterators close when the server closes our response; calling
            # original.close() here would also fire request_finished before the request is over.
            response._resource_closers.extend(original._resource_closers)
            original._resource_closers.clear()
        return response

    # -- request ------------------------------------------------------------------

    def redact_request(self) -> Any:
        """Rewrite the request in place; the error response when it must be refused, else None."""
        ctype = self.request.META.get("CONTENT_TYPE", "")
        route = self.exchange.route("request", ctype)
        try:
            self._redact_request_head(route)
        except RedactionError as exc:
            if (refusal := self.fail(exc.reason, "request")) is not None:
                return refusal
        encoding = self.request.META.get("HTTP_CONTENT_ENCODING", "")
        mode = self.exchange.request_mode(ctype)
        if mode == "sniff":  # a type that says nothing: the head tells an upload from a document
            if not may_be_text(self._peek_head(), encoding, ctype):
                return None  # binary: never read whole, the view streams it on
        elif mode == "pass":
            return None  # never rewritten, so never read: uploads stream on to the view
        try:
            body = self._read_body()
            if body:
                out, outcome = self.exchange.redact_body("request", body, ctype, encoding)
                if outcome == "rewritten":
                    self._set_body(out)
        except RedactionError as exc:
            return self.fail(exc.reason, "request")  # passthrough: Django still holds the body as it came
        return None

    def _redact_request_head(self, route: Route) -> None:
        if redact_cgi_head(self.plan, route, self.request.META):
            for cached in ("GET", "COOKIES", "headers"):  # cached_property values built from the old META
                self.request.__dict__.pop(cached, None)
            self.request._set_content_type_params(self.request.META)  # content_params, parsed from the old META
        self._redact_request_path(route)

    def _redact_request_path(self, route: Route) -> None:
        """The view (and URL resolution) get the redacted path; the exchange keeps the original."""
        request, info = self.request, self.request.path_info
        new, report = redact_request_path(self.plan, route, raw_path_of(info.encode("utf-8")))
        if not report.changed:
            return
        new_info = unquote(new)
        prefix = request.path[: len(request.path) - len(info)] if request.path.endswith(info) else ""
        request.path_info, request.path = new_info, prefix + new_info
        meta = request.META
        if "PATH_INFO" in meta:  # WSGI: latin-1 of the UTF-8 bytes (PEP 3333); ASGI: the str itself
            meta["PATH_INFO"] = new_info if meta["PATH_INFO"] == info else new_info.encode("utf-8").decode("latin-1")
        redact_raw_targets(self.plan, route, meta)

    def _peek_head(self) -> bytes:
        """The body's first SNIFF_HEAD_BYTES, put back in front of the stream so the view reads it all."""
        request = self.request
        if getattr(request, "_body", None) is not None:  # an outer middleware read it already
            return bytes(request._body[:SNIFF_HEAD_BYTES])
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0 and "CONTENT_LENGTH" in request.META:
            return b""
        stream = request._stream
        head = read_head(stream.read, length or None)
        request._stream = io.BufferedReader(Replay(head, stream))
        return head

    def _read_body(self) -> bytes:
        limit = self.exchange.limit
        try:
            length = int(self.request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:  # refused before reading a byte
            raise RedactionError("body_too_large", f"request body of {length} bytes is over the limit of {limit}")
        return bytes(self.request.body)  # Django caches it, so passthrough leaves the view the same bytes

    def _set_body(self, body: bytes) -> None:
        request = self.request
        request._body = body
        request._stream = io.BytesIO(body)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request.META.pop("HTTP_TRANSFER_ENCODING", None)
        for parsed in ("_post", "_files"):  # an outer middleware may have parsed the old body already
            request.__dict__.pop(parsed, None)

    # -- response -----------------------------------------------------------------

    def redact_response(self, response: Any) -> Any:
        mode, response, body = self._redact_response_start(response)
        if mode == "lines":
            return self._wrap_unprimed(response, body) if response.is_async else self._prime(response, body)
        if mode in ("buffer", "sniff"):
            # An async iterator under a sync chain is consumed as Django's own __iter__ does.
            collect = django_parts().sync.async_to_sync(atake) if response.is_async else take
            source = response.streaming_content if response.is_async else iter(response.streaming_content)
            if mode == "sniff":
                held, more = collect(source, SNIFF_HEAD_BYTES)
                if sends := body.push(b"".join(held), more):
                    return self._apply(response, body, sends, source)
            parts, more = collect(source, self.exchange.limit + 1 - body.size)
            return self._apply(response, body, body.push(b"".join(parts), more), source)
        return response

    async def aredact_response(self, response: Any) -> Any:
        mode, response, body = await self.work(self._redact_response_start, response)
        sync_to_async = django_parts().sync.sync_to_async
        if mode == "lines":  # a view's sync generator may block: advance it in a thread
            if response.is_async:
                return await self._aprime(response, body)
            return await sync_to_async(self._prime)(response, body)
        if mode in ("buffer", "sniff"):
            collect = atake if response.is_async else sync_to_async(take)
            source = response.streaming_content if response.is_async else iter(response.streaming_content)
            if mode == "sniff":
                held, more = await collect(source, SNIFF_HEAD_BYTES)
                if sends := await self.work(body.push, b"".join(held), more):
                    return self._apply(response, body, sends, source)
            parts, more = await collect(source, self.exchange.limit + 1 - body.size)
            return self._apply(response, body, await self.work(body.push, b"".join(parts), more), source)
        return response

    def _redact_response_start(self, response: Any) -> tuple[str, Any, ResponseBody]:
        """Redact the head, and the body unless it streams: ("done", response), ("lines" | "buffer" | "sniff", response)."""
        body = self.exchange.response(list(response.items()), head_first=False, whole=not response.streaming)
        sends = body.begin()
        if _refused(sends):
            return "done", self._apply(response, body, sends), body
        self._set_headers(response, body.received, body.headers)
        self.head = body.headers
        if not body.failed:
            try:
                self._redact_cookies(response, body.route)
            except RedactionError as exc:
                if (refusal := self.fail(exc.reason, "response", response)) is not None:
                    return "done", refusal, body
        if not response.streaming:
            return "done", self._apply(response, body, body.push(response.content, False)), body
        if body.mode == "sniff":  # a file's head is read where it lies, so a binary FileResponse keeps sendfile
            head = _file_head(response)
            if head is not None:
                body.decide(head)
        if body.mode == "pass":
            return "done", response, body  # never rewritten, so never buffered; FileResponse keeps sendfile
        return ("lines" if body.mode == "stream" else body.mode), response, body

    def _apply(self, response: Any, body: ResponseBody, sends: list[Send], rest: Any = None) -> Any:
        """The exchange's answers on Django's response: veil's error response, or the head's
        length fix-ups and the body (whole, or what was held followed by ``rest``)."""
        if _refused(sends):
            start, chunk = sends
            assert isinstance(start, Start) and start.status is not None and isinstance(chunk, Chunk)
            return self.error((start.status, start.headers, chunk.data), response)
        rewritten = False
        for item in sends:
            if isinstance(item, Start):
                rewritten = item.headers is not self.head
                if rewritten:  # computed from the unredacted bytes; see veil.http.headers
                    for name in VALIDATORS_OF_BYTES:
                        if name in response:
                            del response[name]
                    response["Content-Length"] = header_value(item.headers, "content-length")
            elif item.more:  # passed on: what was held, then the rest, in the view's own flavour
                response.streaming_content = achain_held([item.data], rest) if response.is_async else chain_held([item.data], rest)
            elif response.streaming:
                response.streaming_content = aonce(item.data) if response.is_async else [item.data]
            elif rewritten:
                response.content = item.data
        return response

    def _prime(self, response: Any, body: ResponseBody) -> Any:
        """Wrap a sync stream and advance it to its first redacted line, so an early failure is still a 502."""
        assert body.lines is not None
        lines = drive(body.lines, iter(response.streaming_content))
        try:
            first = next(lines, None)
        except StreamAborted as exc:  # logged and observed by the stream
            return self.error(error_response(exc.reason, "response"), response)
        response.streaming_content = chain_held(() if first is None else (first,), lines)
        return response

    def _wrap_unprimed(self, response: Any, body: ResponseBody) -> Any:
        """Sync chain, async iterator: it cannot be awaited here, so wrap it unprimed."""
        assert body.lines is not None
        response.streaming_content = adrive(body.lines, response.streaming_content)
        return response

    async def _aprime(self, response: Any, body: ResponseBody) -> Any:
        assert body.lines is not None
        lines = adrive(body.lines, response.streaming_content, self.work)
        try:
            first = await anext(lines, None)
        except StreamAborted as exc:
            return self.error(error_response(exc.reason, "response"), response)
        response.streaming_content = achain_held(() if first is None else (first,), lines)
        return response

    @staticmethod
    def _set_headers(response: Any, old: Headers, new: Headers) -> None:
        """Make Django's headers ``new`` (redacted, or without the validators a stream drops)."""
        if new is old:
            return
        kept = {name.lower() for name, _ in new}
        for name, _ in old:
            if name.lower() not in kept:
                del response[name]
        for name, value in new:
            response[name] = value

    def _redact_cookies(self, response: Any, route: Route) -> None:
        # Django keeps Set-Cookie apart, as morsels it renders at send time: redact their values.
        cookies = response.cookies
        lines = [("Set-Cookie", morsel.OutputString()) for morsel in cookies.values()]
        new_lines, cookie_report = self.plan.redact_headers(lines, route)
        if not cookie_report.changed:
            return
        values = {}
        for _, line in new_lines:  # only values change (or whole cookies drop); names stay
            name, _, value = line.partition(";")[0].strip().partition("=")
            values[name] = value
        for name in list(cookies):
            if name not in values:
                del cookies[name]
            elif values[name] != cookies[name].coded_value:
                cookies[name].set(name, values[name], values[name])


def _refused(sends: list[Send]) -> bool:
    """Whether the exchange answered with veil's error response."""
    return bool(sends) and isinstance(sends[0], Start) and sends[0].status is not None


def _file_head(response: Any) -> bytes | None:
    """The first SNIFF_HEAD_BYTES of a FileResponse's file, read and sought back; None when it
    cannot be (not a file response, not seekable): the stream's own chunks are sniffed then."""
    file = getattr(response, "file_to_stream", None)
    if file is None:
        return None
    try:
        position = file.tell()
        head = file.read(SNIFF_HEAD_BYTES)
        file.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return bytes(head)
