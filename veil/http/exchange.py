"""One request and its response, decided the same way in every adapter.

An adapter (ASGI, WSGI, Django, the proxy) turns its server's messages into plain values
(header pairs, bytes, a ``more`` flag), asks an :class:`Exchange` what to do with them, and
turns the answers back into its server's messages. What is decided here and nowhere else:

- the route of each direction (rules match the original path; logs name only rule ids);
- what a failure does: refuse with veil's error response (``block``, nothing sent yet),
  abort a started stream (:class:`StreamAborted`), or go on unchanged (``passthrough``);
- how a request body is taken (:meth:`Exchange.request_mode`) and redacted, limit first;
- a response body pushed chunk by chunk (:class:`ResponseBody`): head redaction, the body
  mode (pass, sniff, buffer, stream), the held head, the limit, Content-Length fix-ups.

The answers for a response are :class:`Start` and :class:`Chunk` values, in the order the
adapter must send them. Nothing here imports a server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from veil.errors import RedactionError
from veil.http.aborts import StreamAborted
from veil.http.bodies import body_mode, redact_buffered
from veil.http.coverage import Coverage
from veil.http.failures import error_response, log_failure
from veil.http.headers import (
    Headers,
    header_value,
    redact_head,
    redact_request_path,
    replace_length,
    with_policy_header,
)
from veil.http.lines import LineStream
from veil.http.options import Options
from veil.http.sniff import SNIFF_HEAD_BYTES, binary_already, head_decides, may_be_text
from veil.http.sniffed_stream import SniffedStream
from veil.http.stream_codings import can_stream
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Route
from veil.rules.restore import Restorer, TokenLedger

Refusal = tuple[int, Headers, bytes]
"""veil's error response: (status, headers, JSON body)."""


@dataclass(frozen=True, slots=True)
class Start:
    """Send the response head: the app's status with ``headers``, or veil's error ``status``
    (``reason``: the failure's reason code, for an adapter that records why it answered)."""

    headers: Headers
    status: int | None = None
    reason: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Send body bytes; ``more``: the body goes on after them."""

    data: bytes
    more: bool


Send = Start | Chunk


class Exchanges:
    """What every exchange of one adapter instance shares, made once: the plan, the options, which
    directions the adapter redacts and the plan's :class:`Coverage` of each.

    ``log``: the adapter's logger, so that failure lines keep the adapter's logger name.
    """

    def __init__(self, plan: Plan, options: Options, adapter: str, log: logging.Logger) -> None:
        self.plan, self.options, self.adapter, self.log = plan, options, adapter, log
        self.coverage = {"request": Coverage(plan, "request"), "response": Coverage(plan, "response")}
        self.wanted = {"request": options.requests, "response": options.responses}

    def open(self, method: str, host: str, path: str, limit: int | None = None) -> Exchange:
        """One exchange; ``path`` is the original one, which rules match."""
        return Exchange(self, method, host, path, limit)


class Exchange:
    """One request and its response: the plan, the options and the route both directions share.

    ``limit``: the most a body veil holds may weigh; None: the plan's ``limits.max_body_bytes``.
    """

    def __init__(self, exchanges: Exchanges, method: str, host: str, path: str, limit: int | None = None) -> None:
        self.exchanges = exchanges
        self.plan, self.options, self.adapter, self.log = (
            exchanges.plan, exchanges.options, exchanges.adapter, exchanges.log
        )
        self.method, self.host, self.path = method, host, path
        self.blocks = self.options.blocks(self.plan)
        self.limit = self.plan.limits.max_body_bytes if limit is None else limit

    def route(self, direction: str, content_type: str = "") -> Route:
        return Route(direction, self.method, self.host, self.path, content_type)

    def covers(self, direction: str) -> bool:
        """Whether veil reads this direction at all: the adapter's option is on and some rule may
        apply on this route. An uncovered direction passes untouched and unread."""
        coverage = self.exchanges.coverage[direction]
        return self.exchanges.wanted[direction] and bool(coverage) and coverage.covers(self.route(direction))

    def refuse(self, reason: str, direction: str, what: str = "") -> Refusal | None:
        """Log a failure (reason, method, rule ids); with ``block`` the error response to answer
        instead, with ``passthrough`` None (the message goes on unchanged)."""
        log_failure(self.log, self.plan, self.route(direction), reason, what)
        return error_response(reason, direction) if self.blocks else None

    # -- request ---------------------------------------------------------------------

    def redact_request_head(self, headers: Headers, query: str, raw_path: str) -> tuple[Headers, str, str]:
        """(headers, query, raw path) as the app or upstream gets them; the route keeps the
        original path. Raises RedactionError."""
        route = self.route("request", header_value(headers, "content-type"))
        new_headers, new_query, _ = redact_head(self.plan, route, headers, query)
        return new_headers, new_query, redact_request_path(self.plan, route, raw_path)[0]

    @staticmethod
    def request_mode(content_type: str) -> str:
        """How a request body is taken: ``sniff`` (its head decides: :func:`may_be_text`),
        ``pass`` (binary: never read, uploads stream on) or ``buffer`` (read whole, redacted)."""
        mode, _ = body_mode(content_type, "", sniffs=True)
        return "buffer" if mode == "stream" else mode

    def mode_at_head(
        self, content_type: str, content_encoding: str, length: int | None, *, streams: bool = True,
    ) -> tuple[str, str | None]:
        """How a body flows, chosen at its headers by an adapter that cannot wait for its first bytes
        (a proxy's stream callables, a gateway's processing modes): ``pass``, ``stream`` (with its
        line kind; an encoded one too, decoded as it streams), ``buffer``, or ``sniff``: a type whose
        head decides (vague, or one veil knows to be binary: :func:`veil.http.sniff.head_decides`) too
        large to buffer before its head says what it is, or of unknown size (``length`` None), which
        goes through a :class:`veil.http.SniffedStream`. Within the limit such a body is buffered
        (its Content-Length, sent with the head, could not change if a mislabelled document in it is
        rewritten): a labelled-binary one too, so a proxy holds an image within the limit whole.
        ``streams=False`` (a request to a proxy): NDJSON and SSE are buffered."""
        how, kind = body_mode(content_type, content_encoding, streams_encoded=can_stream(content_encoding),
                              sniffs=True)
        if how == "sniff" and length is not None and length <= self.limit:
            how = "buffer"  # small enough to buffer: redact_buffered reads its head
        if how == "stream" and not streams:
            return "buffer", None
        return how, kind

    def body_at_head(
        self, content_type: str, content_encoding: str, length: int | None, *, streams: bool = True,
        partial: bool = False,
    ) -> tuple[str, str | None]:
        """:meth:`mode_at_head`, with one more answer: ``too_large``, a body to buffer whose declared
        ``length`` is over the limit, decided before a byte of it is read. The adapter then calls
        :meth:`refuse` (``body_too_large``): with ``block`` it answers the refusal, with
        ``passthrough`` the body goes on unread (its head still redacted).

        ``partial``: the adapter can have a body buffered up to a size of its own and be told whether
        it was cut there (Envoy's ``BUFFERED_PARTIAL``). A body whose head decides is then ``partial``
        whatever its size: the adapter hands what it got to :meth:`redact_partial`, so that a large
        upload or download under a binary label crosses without a gateway buffering it whole."""
        if partial and head_decides(content_type):
            return "partial", None
        how, kind = self.mode_at_head(content_type, content_encoding, length, streams=streams)
        if how == "buffer" and length is not None and length > self.limit:
            return "too_large", None
        return how, kind

    def redact_partial(
        self, direction: str, body: bytes, whole: bool, content_type: str, content_encoding: str,
        restorer: Restorer | None = None,
    ) -> tuple[bytes, str]:
        """(body, outcome) for a body :meth:`body_at_head` answered ``partial`` for, as the adapter got
        it: ``whole``, or only its first bytes (the rest then follows unread). A binary head passes
        unchanged whatever the size (outcome ``binary``); a text head has the whole body redacted as
        :meth:`redact_body` does. Raises RedactionError: ``body_too_large`` when a text head's body was
        cut (it may be a document veil cannot read whole, so it fails closed) or is over the limit."""
        if not may_be_text(body[:SNIFF_HEAD_BYTES], content_encoding, content_type):
            return body, "binary"
        if not whole or len(body) > self.limit:
            self.options.observer.observe(adapter=self.adapter, direction=direction, outcome="error",
                                          report=EMPTY_REPORT, seconds=0.0, size=len(body), reason="body_too_large")
            cut = "was cut at the gateway's buffer limit" if not whole else f"is over the limit of {self.limit} bytes"
            raise RedactionError("body_too_large", f"{direction} body whose head is text {cut}")
        return self.redact_body(direction, body, content_type, content_encoding, restorer=restorer)

    def sniffer(
        self, direction: str, content_type: str, content_encoding: str, restorer: Restorer | None = None,
    ) -> SniffedStream:
        """The push stream of a body :meth:`mode_at_head` answered ``sniff`` for (its head decides)."""
        return SniffedStream(self.plan, self.route(direction, content_type), content_type, content_encoding,
                             self.options, self.adapter, self.limit, restorer)

    def redact_body(
        self, direction: str, body: bytes, content_type: str, content_encoding: str, *, bounded: bool = True,
        restorer: Restorer | None = None, ledger: TokenLedger | None = None,
    ) -> tuple[bytes, str]:
        """(body, outcome) for a whole body, the limit checked first (``bounded``); ``restorer`` and
        ``ledger`` as for :func:`veil.http.bodies.redact_buffered`. Raises RedactionError."""
        if bounded and len(body) > self.limit:
            raise RedactionError("body_too_large", f"{direction} body is over the limit of {self.limit} bytes")
        route = self.route(direction, content_type)
        out, _, outcome = redact_buffered(self.plan, route, body, content_type, content_encoding, self.options,
                                          self.adapter, restorer, ledger)
        return out, outcome

    def redact_request_body(self, headers: Headers, body: bytes, *, ledger: TokenLedger | None = None) -> list[Send]:
        """A whole request body the adapter read, and the head it came with: what to forward,
        ``[Start(head), Chunk(body, False)]``. A rewritten body gets its own Content-Length (and no
        validators of the unredacted bytes); an unchanged one keeps the very ``headers`` and ``body``.
        A failure is logged; with ``block`` veil's refusal comes instead (``Start`` with its status),
        with ``passthrough`` the request as it came."""
        try:
            out, outcome = self.redact_body("request", body, header_value(headers, "content-type"),
                                            header_value(headers, "content-encoding"), ledger=ledger)
        except RedactionError as exc:
            if (refusal := self.refuse(exc.reason, "request")) is None:
                return [Start(headers), Chunk(body, False)]
            status, error_headers, error = refusal
            return [Start(error_headers, status, exc.reason), Chunk(error, False)]
        if outcome == "rewritten":
            headers = replace_length(headers, len(out))
        return [Start(headers), Chunk(out, False)]

    def response(
        self, headers: Headers, *, head_first: bool, fixed_length: bool = False, whole: bool = False,
        bounded: bool | None = None, restorer: Restorer | None = None,
    ) -> ResponseBody:
        """The response whose head is ``headers``; see :class:`ResponseBody`."""
        return ResponseBody(self, headers, head_first=head_first, fixed_length=fixed_length, whole=whole,
                            bounded=bounded, restorer=restorer)


class ResponseBody:
    """A response pushed chunk by chunk: ``begin`` once the head is in, ``push`` each body chunk
    (``more=False`` with the last, possibly empty); each returns what to send, in order.

    ``mode``: ``pass`` (binary: sent as it comes), ``sniff`` (a vague type: held until its head
    decides pass or buffer), ``buffer`` (held whole, bounded, redacted at the end), ``stream``
    (NDJSON/SSE line by line), ``done`` (refused or aborted: nothing more is sent).

    ``head_first``: a streamed head goes out before its first line (ASGI), else with it (WSGI),
    so that a failure on the first line can still be a 502. ``fixed_length``: a buffered
    non-empty body always gets its own Content-Length (WSGI), not only a rewritten one.
    ``whole``: the body is already in memory, pushed at once (Django's ``HttpResponse``): it is
    redacted whole whatever its type, and not weighed against the limit, which bounds what veil
    itself would hold (``bounded``, default ``not whole``: weighed all the same, as a proxy does with
    what its server read for it). ``restorer``: tokens a buffered body gets back (the proxy's
    replies). A failure after the head went out raises :class:`StreamAborted`.
    """

    def __init__(
        self, exchange: Exchange, headers: Headers, *, head_first: bool, fixed_length: bool, whole: bool = False,
        bounded: bool | None = None, restorer: Restorer | None = None,
    ) -> None:
        self.exchange = exchange
        self.received = headers
        self.content_type = header_value(headers, "content-type")
        self.content_encoding = header_value(headers, "content-encoding").strip().lower()
        self.route = exchange.route("response", self.content_type)
        self.head_first, self.fixed_length, self.whole = head_first, fixed_length, whole
        self.bounded = not whole if bounded is None else bounded
        self.restorer = restorer
        self.headers = headers
        """The head to send; the very ``received`` list while nothing in it changed."""
        self.mode = ""
        self.started = False
        self.failed = ""  # the reason, once something failed (passthrough goes on)
        self.held: list[bytes] = []
        self.size = 0
        self.lines: LineStream | None = None
        self.sniffer: SniffedStream | None = None

    def begin(self) -> list[Send]:
        """Redact the head and choose the body's mode; the head goes out now unless the body decides it."""
        exchange = self.exchange
        if (refused := self._redact_head()) is not None:
            return refused
        self.mode, kind = body_mode(self.content_type, self.content_encoding, sniffs=True)
        if self.whole:
            self.mode = "buffer"  # in memory already: redact_buffered judges its type, binary included
            return []
        if self.mode == "stream" and kind is not None:  # events must reach the client as they happen
            self.lines = LineStream(exchange.plan, self.route, kind, exchange.options, exchange.adapter,
                                    headers_out=self.head_first)
            self.headers = replace_length(self.headers, None)
            return [self.start()] if self.head_first else []
        if self.mode == "pass":
            return [self.start()]
        return []  # buffer, sniff: Content-Length is known once the body is redacted (or the head says binary)

    def begin_at_head(self, length: int | None, *, error_event: bool = False) -> list[Send]:
        """:meth:`begin` for an adapter that must choose how the body flows at its head, ``length``
        its declared size (None: unknown), as a proxy's stream callables do: the mode is
        :meth:`Exchange.body_at_head`'s. ``buffer``: nothing yet, the adapter reads the body whole
        and pushes it. Otherwise the head goes now: ``pass`` (also a body declared over the limit
        under ``passthrough``), ``stream`` (``lines``, an encoded one decoded as it streams;
        ``error_event``: a failure ends it with an error event, the adapter then aborts) or
        ``sniff`` (``sniffer``, a :class:`SniffedStream`)."""
        exchange = self.exchange
        if (refused := self._redact_head()) is not None:
            return refused
        self.mode, kind = exchange.body_at_head(self.content_type, self.content_encoding, length)
        if self.mode == "buffer":
            return []
        if self.mode == "too_large":
            if (refused := self.fail("body_too_large")) is not None:
                return refused
            self.mode = "pass"
        if self.mode == "stream" and kind is not None:
            self.lines = LineStream(exchange.plan, self.route, kind, exchange.options, exchange.adapter,
                                    encoding=self.content_encoding, restorer=self.restorer, headers_out=True,
                                    error_event=error_event)
            self.headers = replace_length(self.headers, None)
        elif self.mode == "sniff":
            self.sniffer = exchange.sniffer("response", self.content_type, self.content_encoding, self.restorer)
            if length is None:  # text of unknown size may yet be rewritten: no validator of the unredacted bytes
                self.headers = replace_length(self.headers, None)
        return [self.start()]

    def _redact_head(self) -> list[Send] | None:
        """Redact the head (with the opt-in policy header) into ``headers``; on failure what to send
        instead (``block``), or None with the head kept as it came (``passthrough``)."""
        exchange = self.exchange
        try:
            headers = redact_head(exchange.plan, self.route, self.received, "")[0]
        except RedactionError as exc:
            if (refused := self.fail(exc.reason)) is not None:
                return refused
            headers = self.received
        headers = with_policy_header(exchange.plan, exchange.options, headers)  # opt-in lineage
        if headers != self.received:
            self.headers = headers
        return None

    def push(self, chunk: bytes, more: bool) -> list[Send]:
        """What to send for one body chunk."""
        if self.mode == "pass":
            return [Chunk(chunk, more)]
        if self.mode == "stream":
            return self._stream(chunk, more)
        if self.mode not in ("sniff", "buffer"):
            return []  # done
        self.held.append(chunk)
        self.size += len(chunk)
        if self.mode == "sniff":
            head = b"".join(self.held)
            if self.size < SNIFF_HEAD_BYTES and more and not binary_already(head, self.content_encoding):
                return []  # a gRPC stream's first frames go out at once: binary_already
            if not may_be_text(head, self.content_encoding, self.content_type):
                return self._pass_held(more)  # binary: unread from here on
            self.mode = "buffer"
        if self.size > self.exchange.limit and self.bounded:
            if (refused := self.fail("body_too_large")) is not None:
                return refused
            return self._pass_held(more)  # passthrough: what is held, then the rest as it comes
        return [] if more else self._finish(b"".join(self.held))

    def start(self) -> Start:
        """The head, once: call it only when it has not gone out (see ``started``)."""
        self.started = True
        return Start(self.headers)

    def pass_unread(self) -> list[Send]:
        """The body passes unread from here on (a file whose head the adapter sniffed where it lies):
        what to send first."""
        self.mode = "pass"
        return [] if self.started else [self.start()]

    def decide(self, head: bytes) -> list[Send]:
        """A vague body whose head the adapter read where it lies (a file): binary passes unread
        from here on (what to send first), anything else is buffered."""
        if may_be_text(head, self.content_encoding, self.content_type):
            self.mode = "buffer"
            return []
        return self.pass_unread()

    def trailers(self, headers: Headers) -> Headers:
        """Trailers (headers sent after the body) redacted as the head was. The body is out by
        then: a failure under ``block`` raises :class:`StreamAborted`; ``passthrough`` sends them as they came."""
        try:
            return redact_head(self.exchange.plan, self.route, headers, "")[0]
        except RedactionError as exc:
            self.started = True  # whatever came before, the status is out: only an abort is left
            self.fail(exc.reason)
            return headers

    def fail(self, reason: str) -> list[Send] | None:
        """Log a failure; with ``block`` what to send instead (or raise StreamAborted once the head
        is out); with ``passthrough`` None: the body goes on unchanged."""
        self.failed = reason
        refusal = self.exchange.refuse(reason, "response", "stream aborted" if self.started else "")
        if refusal is None:
            return None
        self.mode = "done"
        if self.started:
            # Headers are out and the status cannot change. Ending the body cleanly would look
            # complete to the client; raising makes the server abort the connection instead.
            raise StreamAborted(reason)
        return self._refusal(refusal, reason)

    def _refusal(self, refusal: Refusal, reason: str) -> list[Send]:
        status, headers, body = refusal
        self.started, self.mode = True, "done"
        return [Start(headers, status, reason), Chunk(body, False)]

    def _pass_held(self, more: bool) -> list[Send]:
        head, self.held = b"".join(self.held), []
        return [*self.pass_unread(), Chunk(head, more)]

    def _stream(self, chunk: bytes, more: bool) -> list[Send]:
        assert self.lines is not None
        out = self.lines.step(chunk, last=not more)  # passthrough after a failure: the original bytes
        if self.lines.blocked:  # logged and observed by the stream
            if self.started:
                self.mode = "done"
                raise StreamAborted(self.lines.failed)
            return self._refusal(error_response(self.lines.failed, "response"), self.lines.failed)
        if not (out or not more):
            return []
        return [*([] if self.started else [self.start()]), Chunk(out, more)]

    def _finish(self, body: bytes) -> list[Send]:
        try:
            out, outcome = self.exchange.redact_body("response", body, self.content_type, self.content_encoding,
                                                     bounded=self.bounded, restorer=self.restorer)
        except RedactionError as exc:
            if (refused := self.fail(exc.reason)) is not None:
                return refused
            out, outcome = body, ""
        if outcome == "rewritten" or (self.fixed_length and body and outcome):
            self.headers = replace_length(self.headers, len(out))
        return [self.start(), Chunk(out, False)]
