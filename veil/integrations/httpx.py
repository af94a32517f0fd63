"""Redact what an httpx client sends to a vendor, and restore tokens in what comes back.

    import httpx
    from veil.integrations.httpx import RedactingTransport

    client = httpx.Client(transport=RedactingTransport(policy="egress.yaml", detokenize=True))
    client.post("https://api.vendor.example/v1/chat", json={"prompt": "mail jane@example.com"})

Direction: for an egress client, ``request`` is what leaves to the vendor and
``response`` is what the vendor sends back. Request bodies, headers and the
query string are redacted with the plan before they leave; with
``detokenize=True`` veil tokens in the vendor's response (``tok_EMAIL_k1_...``,
e.g. echoed by an LLM) are replaced with the original values, so the caller
sees real data while the vendor never did. Response bodies and headers are not
redacted unless ``redact_responses=True``.

Bodies, as in the other adapters (:func:`veil.http.body_mode`): SSE and NDJSON
replies stream through line by line (the core's stream-aware redactor, so a value
split across events is seen whole; tokens split across events are restored);
other redactable bodies are read whole, up to the plan's ``limits.max_body_bytes``
(decoded size, checked as they arrive), and handed on redacted with their
Content-Encoding removed; binary bodies, and any body no rule covers and with
nothing to restore, stream through unread. A body whose type says nothing
(``application/octet-stream``, none, a type veil does not know: :mod:`veil.http.sniff`)
is judged by its first bytes: read whole when they may be text, else streamed on unread. A request the plan has no rules for
leaves as it came, and its target changes only where a path segment or a query
value was redacted.

Fail closed, whatever the policy's ``on_error``: a request body veil cannot
process raises :class:`veil.RedactionError` and nothing is sent; a reply veil
cannot process raises it from ``send`` (nothing partial is returned), or, once a
stream has begun, from the iteration (``veil.http.StreamAborted``, a
``RedactionError``) after the lines redacted so far. An ``observer``
(:class:`veil.observe.Observer`) is told about every body, labelled ``httpx``.

The transport wraps another one (by default httpx's own), following httpx's
"custom transports that wrap the default" pattern, so bodies can be rewritten,
which event hooks cannot do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import orjson

from veil.errors import RedactionError, coding_named
from veil.http import (
    SNIFF_HEAD_BYTES,
    LineStream,
    Options,
    StreamDecoder,
    adrive,
    can_stream,
    drive,
    engine_errors,
    header_value,
    may_be_text,
    redact_buffered,
    redact_head,
    replace_length,
    with_policy_header,
)
from veil.http.chunks import achain_held, atake, chain_held, take
from veil.http.exchange import Exchange, Exchanges
from veil.observe import NullObserver, Observer
from veil.rules.media import body_kind_of
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Report, Route
from veil.rules.restore import Restorer, TokenLedger
from veil.rules.stream_redact import StreamRedactor
from veil.settings import PolicyArg, resolve_plan

try:
    import anyio.to_thread
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("veil.integrations.httpx needs httpx: install veil[httpx]") from exc

ADAPTER = "httpx"
log = logging.getLogger(__name__)
EGRESS_DEFAULT = "builtin:egress"
"""The policy of a transport given none (and no ``VEIL_POLICY``): strict would strip the
``Authorization`` the vendor needs, and every call would fail."""
Headers = list[tuple[str, str]]
T = TypeVar("T")
_FRAMING = ("content-length", "transfer-encoding")
_TARGET_SAFE = "!$&'()*+,;=:@/?%[]"  # what may stay as it is in a path or query (httpx leaves [] raw too)


class _Redactor:
    """What the sync and async transports share: every decision, none of the I/O."""

    def __init__(self, policy: PolicyArg, detokenize: bool, redact_responses: bool, observer: Observer | None,
                 policy_header: bool = False) -> None:
        # A vendor call keeps the client's own credentials: builtin:egress, unless told otherwise.
        self.plan = resolve_plan(policy, default=EGRESS_DEFAULT)
        self.redact_responses = redact_responses
        # The caller gets an exception it can handle: forwarding unredacted data is never the answer here.
        self.options = Options(on_error="block", observer=observer or NullObserver(), policy_header=policy_header)
        self.limit = self.plan.limits.max_body_bytes
        self.exchanges = Exchanges(self.plan, self.options, ADAPTER, log)
        # With detokenize=True every key of the policy may open, in the default scope, the tokens
        # veil made in the request the reply answers (see ledger()).
        rings = self.plan.keyrings() if detokenize else ()
        self.restorer = Restorer(tuple((ring, ("",)) for ring in rings)) if rings else None

    def ledger(self) -> TokenLedger | None:
        """A record of the tokens one request sends: its reply restores those and no others."""
        return self.restorer.ledger() if self.restorer is not None else None

    def open(self, request: httpx.Request) -> Exchange:
        """The exchange of ``request`` and its reply: rules match its original path."""
        return self.exchanges.open(request.method, request.url.host, request.url.path)

    # -- requests: what leaves for the vendor --------------------------------------------

    def request_head(
        self, exchange: Exchange, request: httpx.Request, ledger: TokenLedger | None,
    ) -> tuple[Route, Headers, httpx.URL] | None:
        """The redacted head, or None when no rule may apply to the request on its route, whatever its
        declared type (:meth:`Exchange.covers`): it leaves as it came."""
        if not exchange.covers("request"):
            return None
        url = request.url
        route = exchange.route("request", _header(request, "content-type"))
        path, mark, query = url.raw_path.decode("ascii").partition("?")
        received = list(request.headers.multi_items())
        headers, new_query, new_path = exchange.redact_request_head(received, query, path)
        if ledger is not None:
            ledger.record(repr((received, path, query)), repr((headers, new_path, new_query)))
        if (new_path, new_query) != (path, query):  # else the target stays byte for byte (no "?" added)
            target = quote(new_path, safe=_TARGET_SAFE) + mark + quote(new_query, safe=_TARGET_SAFE)
            url = url.copy_with(raw_path=target.encode("ascii"))
        return route, headers, url

    def request_body_mode(self, route: Route) -> str:
        """``pass`` (binary uploads stream on unread), ``sniff`` (a vague type: the head decides) or ``buffer``."""
        return Exchange.request_mode(route.content_type)

    def outgoing(self, request: httpx.Request, route: Route, headers: Headers, url: httpx.URL, body: bytes | None,
                 ledger: TokenLedger | None, unread: Any = None) -> httpx.Request:
        """The request to send: ``body`` None means the stream goes on unread (``unread``, or the original)."""
        if body is None:
            stream = unread if unread is not None else request.stream
            return httpx.Request(request.method, url, headers=headers, stream=stream, extensions=request.extensions)
        cenc = header_value(headers, "content-encoding")
        out, _, outcome = redact_buffered(self.plan, route, body, route.content_type, cenc, self.options, ADAPTER,
                                          ledger=ledger)
        if outcome == "rewritten":
            headers = replace_length(headers, None)  # and no digest of the unredacted bytes
        framed = [(k, v) for k, v in headers if k.lower() not in _FRAMING]  # httpx frames the new content...
        if not out and len(framed) < len(headers):
            framed.append(("content-length", "0"))  # ...but not an empty one (a POST without a length can get 411)
        return httpx.Request(request.method, url, headers=framed, content=out, extensions=request.extensions)

    # -- responses: what comes back to the caller -----------------------------------------

    def reply(
        self, exchange: Exchange, response: httpx.Response, ledger: TokenLedger | None,
    ) -> _Reply | None:
        """How to hand the vendor's reply on; None: as it came (nothing to redact or restore).
        It restores the tokens ``ledger`` recorded in the request, and no others."""
        ctype = _header(response, "content-type")
        route = exchange.route("response", ctype)
        redacting = self.redact_responses and exchange.covers("response")
        restorer = ledger.restorer() if ledger is not None and ledger.minted else None
        if not redacting and restorer is None:
            return None
        cenc = _header(response, "content-encoding")
        mode, kind = exchange.mode_at_head(ctype, cenc, None)
        headers = list(response.headers.multi_items())
        if redacting:
            headers = redact_head(self.plan, route, headers, "")[0]
        headers = with_policy_header(self.plan, self.options, headers)  # opt-in lineage
        return _Reply(self, route, redacting, restorer, headers, mode, kind, cenc)

    def observe(self, route: Route, outcome: str, report: Report, started: float, size: int, reason: str = "") -> None:
        self.options.observer.observe(adapter=ADAPTER, direction=route.direction, outcome=outcome, report=report,
                                      seconds=time.perf_counter() - started, size=size, reason=reason)


class _Reply:
    """One reply's way through veil: passed on, streamed line by line, or read whole."""

    def __init__(self, core: _Redactor, route: Route, redacting: bool, restorer: Restorer | None, headers: Headers,
                 mode: str, kind: str | None, encoding: str) -> None:
        self.core, self.route, self.redacting, self.restorer, self.headers = core, route, redacting, restorer, headers
        self.mode, self.kind, self.encoding = mode, kind, encoding
        self.started = time.perf_counter()
        self.body: _Bounded | None = None

    def reader(self) -> _Bounded:
        """Where a body read whole (``mode == "buffer"``) goes as it arrives."""
        self.body = _Bounded(self.encoding, self.core.limit, "response")
        return self.body

    def lines(self) -> LineStream:
        """The line driver of a streamed reply (``mode == "stream"``)."""
        assert self.kind is not None
        core = self.core
        stream = LineStream(core.plan, self.route, self.kind, core.options, ADAPTER, encoding=self.encoding,
                            restorer=self.restorer, headers_out=True)
        if not self.redacting:
            # Restore-only (responses not redacted): the driver's loop, with lines that pass unredacted.
            stream.lines = _Unredacted(core.plan, self.route)
        return stream

    def sniffed(self, head: bytes) -> None:
        """Decide a vague reply (``mode == "sniff"``) by its first bytes: read whole, or passed on."""
        self.mode = "buffer" if may_be_text(head, self.encoding, self.route.content_type) else "pass"

    def unread_or_streamed(self, request: httpx.Request, response: httpx.Response,
                           lines: Callable[[LineStream, httpx.Response], Any], unread: Any = None) -> httpx.Response | None:
        """The reply passed on unread (``mode == "pass"``: ``unread``, or the response's own stream)
        or rewritten line by line through ``lines`` (the sync or async byte stream over
        :meth:`lines`); None: read it whole."""
        if self.mode == "pass":
            return _response(response, request, self.headers, stream=unread if unread is not None else response.stream)
        if self.mode == "stream":
            return _response(response, request, self.streamed_headers(), stream=lines(self.lines(), response))
        return None

    def streamed_headers(self) -> Headers:
        return replace_length(self.headers, None)  # re-encoded in its own coding as it goes

    def fail(self, exc: RedactionError) -> None:
        size = self.body.size if self.body is not None else 0
        self.core.observe(self.route, "error", EMPTY_REPORT, self.started, size, exc.reason)

    def whole(self, body: _Bounded) -> tuple[bytes, Headers]:
        """The body read, redacted and restored; its headers (plain: no Content-Encoding)."""
        core, plain = self.core, body.close()
        out, report, restored = plain, EMPTY_REPORT, 0
        with engine_errors("response body"):
            if self.redacting:
                result = core.plan.redact_body(plain, self.route.content_type, self.route)
                out, report = result.output, result.report
            if self.restorer is not None:
                out, restored = _restore(self.restorer, out, self.route.content_type)
        if not plain:
            return out, self.headers  # HEAD, 204, 304: the head stays as it came (its length too)
        changed = report.changed or bool(restored)
        core.observe(self.route, "rewritten" if changed else "unchanged", report, self.started, body.size)
        headers = [(k, v) for k, v in self.headers if k.lower() not in ("content-encoding", *_FRAMING)]
        return out, replace_length(headers, len(out)) if changed else [*headers, ("content-length", str(len(out)))]


class _Bounded:
    """A body read up to ``limit`` bytes, decoded as it arrives: a small compressed body that
    expands past the limit is refused before its end, and never held whole."""

    def __init__(self, encoding: str, limit: int, direction: str) -> None:
        if not can_stream(encoding):
            raise RedactionError("unsupported_encoding", f"cannot decode Content-Encoding {coding_named(encoding)}")
        self.decoder = StreamDecoder(encoding)
        self.limit, self.direction = limit, direction
        self.plain = bytearray()
        self.size = 0  # bytes as they came

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for piece in self.decoder.feed(chunk):
            self.plain += piece
            if len(self.plain) > self.limit:
                break
        if len(self.plain) > self.limit or self.size > self.limit:
            raise RedactionError("body_too_large", f"{self.direction} body is over the limit of {self.limit} bytes")

    def close(self) -> bytes:
        if self.size:  # HEAD and 304 replies carry Content-Encoding and no body: nothing was truncated
            self.decoder.close()
        return bytes(self.plain)


class _Unredacted(StreamRedactor):
    """Cuts a stream into lines and redacts none (kind ``text``: no delta channels either)."""

    def __init__(self, plan: Plan, route: Route) -> None:
        super().__init__(plan, route, "text")

    def redact_line(self, line: bytes) -> bytes:
        return line


def _restore(restorer: Restorer, body: bytes, content_type: str) -> tuple[bytes, int]:
    """Tokens restored as what the body is, not what its label contains: escaped for a JSON
    string when the body parses as JSON (or NDJSON, line by line) whatever its type says, as
    they are in text; a form is left alone (a value would need form encoding)."""
    if b"tok_" not in body:
        return body, 0
    kind = "form" if body_kind_of(content_type) == "form" else "json" if _is_json(body) else "text"
    return restorer.restore_body(body, content_type, kind=kind)


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
        return True
    except orjson.JSONDecodeError:
        pass
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        for line in lines:
            orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return bool(lines)


def _header(message: httpx.Request | httpx.Response, name: str) -> str:
    """The value veil acts on, as the other adapters read it: repeated lines judged together
    (httpx's own ``get`` joins them, and a conflicting type must not read as binary)."""
    return header_value(message.headers.multi_items(), name)


def _response(response: httpx.Response, request: httpx.Request, headers: Headers, **body: Any) -> httpx.Response:
    return httpx.Response(response.status_code, headers=headers, request=request, extensions=response.extensions, **body)


# -- sync -------------------------------------------------------------------------------


class RedactingTransport(httpx.BaseTransport):
    """A sync transport: ``httpx.Client(transport=RedactingTransport(policy=...))``.

    ``detokenize``: restore the policy's tokens in replies. ``redact_responses``: redact
    replies too (headers and bodies). ``observer``: told about every body. ``policy_header``: the
    replies veil processes carry ``veil-policy: sha256:<16 hex>``, its policy's digest. Other keyword
    arguments go to ``httpx.HTTPTransport`` when no ``transport`` is given.
    """

    def __init__(self, policy: PolicyArg = None, *, transport: httpx.BaseTransport | None = None,
                 detokenize: bool = False, redact_responses: bool = False, observer: Observer | None = None,
                 policy_header: bool = False, **transport_options: Any) -> None:
        self._inner = transport or httpx.HTTPTransport(**transport_options)
        self._redactor = _Redactor(policy, detokenize, redact_responses, observer, policy_header)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = self._redactor
        ledger = core.ledger()
        exchange = core.open(request)
        head = core.request_head(exchange, request, ledger)
        outgoing = request
        if head is not None:
            route, headers, url = head
            mode, body, unread = core.request_body_mode(route), None, None
            if mode != "pass":
                chunks = iter(_sync_chunks(request))
                held = take(chunks, SNIFF_HEAD_BYTES)[0] if mode == "sniff" else []
                if mode == "sniff" and not may_be_text(b"".join(held), _header(request, "content-encoding"),
                                                      _header(request, "content-type")):
                    unread = _SyncResumed(held, chunks, None)  # binary by its head: on, unread
                else:
                    body = _read_sync(core, route, chain_held(held, chunks))
            outgoing = core.outgoing(request, route, headers, url, body, ledger, unread)
        response = self._inner.handle_request(outgoing)
        try:
            reply = core.reply(exchange, response, ledger)
            if reply is None:
                return response
            chunks = iter(_sync_chunks(response))
            held = []
            if reply.mode == "sniff":
                held = take(chunks, SNIFF_HEAD_BYTES)[0]
                reply.sniffed(b"".join(held))
            passed = reply.unread_or_streamed(request, response, _SyncLines, _SyncResumed(held, chunks, response))
            if passed is not None:
                return passed
            try:
                whole = reply.reader()
                for chunk in chain_held(held, chunks):
                    whole.feed(chunk)
                content, headers = reply.whole(whole)
            except RedactionError as exc:
                reply.fail(exc)
                raise
            response.close()
            return _response(response, request, headers, content=content)
        except BaseException:
            response.close()
            raise

    def close(self) -> None:
        self._inner.close()


def _read_sync(core: _Redactor, route: Route, chunks: Iterable[bytes]) -> bytes:
    started, body = time.perf_counter(), _Bounded("", core.limit, "request")
    try:
        for chunk in chunks:
            body.feed(chunk)
    except RedactionError as exc:
        core.observe(route, "error", EMPTY_REPORT, started, body.size, exc.reason)
        raise
    return body.close()


def _sync_chunks(message: httpx.Request | httpx.Response) -> Iterator[bytes]:
    if not isinstance(message.stream, httpx.SyncByteStream):
        raise TypeError("a sync transport needs a sync byte stream")
    yield from message.stream


class _SyncResumed(httpx.SyncByteStream):
    """A body whose first chunks were read to sniff it: those, then the rest as it comes."""

    def __init__(self, held: list[bytes], rest: Iterator[bytes], owner: httpx.Response | None) -> None:
        self.held, self.rest, self.owner = held, rest, owner

    def __iter__(self) -> Iterator[bytes]:
        return chain_held(self.held, self.rest)

    def close(self) -> None:
        if self.owner is not None:
            self.owner.close()


class _SyncLines(httpx.SyncByteStream):
    def __init__(self, lines: LineStream, upstream: httpx.Response) -> None:
        self.lines, self.upstream = lines, upstream

    def __iter__(self) -> Iterator[bytes]:
        yield from drive(self.lines, _sync_chunks(self.upstream))

    def close(self) -> None:
        self.upstream.close()


# -- async ------------------------------------------------------------------------------


class AsyncRedactingTransport(httpx.AsyncBaseTransport):
    """The async twin: ``httpx.AsyncClient(transport=AsyncRedactingTransport(policy=...))``.

    A policy with vault tokens redacts in a worker thread (each new value is a round trip to
    the vault), so a slow vault never stalls the caller's event loop.
    """

    def __init__(self, policy: PolicyArg = None, *, transport: httpx.AsyncBaseTransport | None = None,
                 detokenize: bool = False, redact_responses: bool = False, observer: Observer | None = None,
                 policy_header: bool = False, **transport_options: Any) -> None:
        self._inner = transport or httpx.AsyncHTTPTransport(**transport_options)
        self._redactor = _Redactor(policy, detokenize, redact_responses, observer, policy_header)

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, the plan's work on a head or body. In a worker thread (anyio's: asyncio
        or trio, whichever runs the client) when the plan does I/O, so a slow or unreachable vault
        stalls this request and not the caller's event loop; inline otherwise, since a vaultless
        plan only computes and a thread hop would cost more than redacting most bodies."""
        if self._redactor.plan.does_io:
            return await anyio.to_thread.run_sync(fn, *args)  # the context (contextvars) is copied
        return fn(*args)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core = self._redactor
        ledger = core.ledger()
        exchange = core.open(request)
        head = await self.work(core.request_head, exchange, request, ledger)
        outgoing = request
        if head is not None:
            route, headers, url = head
            mode, body, unread = core.request_body_mode(route), None, None
            if mode != "pass":
                chunks = aiter(_async_chunks(request))
                held = (await atake(chunks, SNIFF_HEAD_BYTES))[0] if mode == "sniff" else []
                if mode == "sniff" and not may_be_text(b"".join(held), _header(request, "content-encoding"),
                                                      _header(request, "content-type")):
                    unread = _AsyncResumed(held, chunks, None)  # binary by its head: on, unread
                else:
                    body = await _read_async(core, route, achain_held(held, chunks))
            outgoing = await self.work(core.outgoing, request, route, headers, url, body, ledger, unread)
        response = await self._inner.handle_async_request(outgoing)
        try:
            reply = await self.work(core.reply, exchange, response, ledger)
            if reply is None:
                return response
            chunks = aiter(_async_chunks(response))
            held = []
            if reply.mode == "sniff":
                held = (await atake(chunks, SNIFF_HEAD_BYTES))[0]
                reply.sniffed(b"".join(held))
            lines = partial(_AsyncLines, work=self.work)
            passed = reply.unread_or_streamed(request, response, lines, _AsyncResumed(held, chunks, response))
            if passed is not None:
                return passed
            try:
                whole = reply.reader()
                async for chunk in achain_held(held, chunks):
                    whole.feed(chunk)
                content, headers = await self.work(reply.whole, whole)
            except RedactionError as exc:
                reply.fail(exc)
                raise
            await response.aclose()
            return _response(response, request, headers, content=content)
        except BaseException:
            await response.aclose()
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _read_async(core: _Redactor, route: Route, chunks: AsyncIterator[bytes]) -> bytes:
    started, body = time.perf_counter(), _Bounded("", core.limit, "request")
    try:
        async for chunk in chunks:
            body.feed(chunk)
    except RedactionError as exc:
        core.observe(route, "error", EMPTY_REPORT, started, body.size, exc.reason)
        raise
    return body.close()


async def _async_chunks(message: httpx.Request | httpx.Response) -> AsyncIterator[bytes]:
    if not isinstance(message.stream, httpx.AsyncByteStream):
        raise TypeError("an async transport needs an async byte stream")
    async for chunk in message.stream:
        yield chunk


class _AsyncResumed(httpx.AsyncByteStream):
    """A body whose first chunks were read to sniff it: those, then the rest as it comes."""

    def __init__(self, held: list[bytes], rest: AsyncIterator[bytes], owner: httpx.Response | None) -> None:
        self.held, self.rest, self.owner = held, rest, owner

    def __aiter__(self) -> AsyncIterator[bytes]:
        return achain_held(self.held, self.rest)

    async def aclose(self) -> None:
        if self.owner is not None:
            await self.owner.aclose()


class _AsyncLines(httpx.AsyncByteStream):
    """A reply rewritten line by line by :func:`veil.http.adrive`, each step through ``work``
    (the transport's: off the event loop when the plan does I/O)."""

    def __init__(self, lines: LineStream, upstream: httpx.Response, *, work: Callable[..., Any]) -> None:
        self.lines, self.upstream, self.work = lines, upstream, work

    def __aiter__(self) -> AsyncIterator[bytes]:
        return adrive(self.lines, _async_chunks(self.upstream), self.work)

    async def aclose(self) -> None:
        await self.upstream.aclose()


__all__ = ["AsyncRedactingTransport", "RedactingTransport"]
