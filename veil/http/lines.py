"""One driver for every line-by-line stream (SSE, NDJSON), with the failure loop adapters share.

Every adapter that streams a response (ASGI, WSGI, Django sync and async, the proxy)
feeds the body's chunks to a :class:`LineStream` and sends what it returns:

1. decode (the stream's own Content-Encoding, in bounded pieces);
2. redact complete lines with the stream-aware :class:`StreamRedactor` (a value split
   across text deltas is seen whole);
3. restore tokens the request's rules asked for (``restorer``, the proxy today);
4. re-encode, flushing after every chunk so each event reaches the client as it happens.

On failure the driver logs one warning (reason, method, rule ids: never the path or
payload) and tells the observer (``outcome="error"``, so it reaches ``veil_errors_total``),
then:

- ``passthrough``: the unfinished line as it came, and every later chunk unchanged;
- ``block``: nothing more. ``blocked`` turns True; the adapter answers 502 if nothing went
  out yet, else aborts the connection (:class:`veil.http.aborts.StreamAborted`). With
  ``error_event`` (the proxy, which cannot abort from inside its stream function) a last
  SSE event or NDJSON line carries the JSON error instead.

A stream that ends normally is observed once, at ``close``.

    stream = LineStream(plan, route, "sse", options, "asgi")
    for out in drive(stream, chunks):   # raises StreamAborted when blocked
        send(out)
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

from veil.errors import RedactionError
from veil.http.aborts import StreamAborted
from veil.http.failures import engine_errors, error_body, log_failure
from veil.http.options import Options
from veil.http.stream_codings import StreamDecoder, StreamEncoder
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route
from veil.rules.restore import Restorer
from veil.rules.stream_redact import StreamRedactor
from veil.rules.stream_restore import StreamRestorer

log = logging.getLogger(__name__)


class LineStream:
    """One streamed body's state; ``feed`` each chunk, then ``close``; send what they return.

    ``headers_out``: the response head is already on the wire (ASGI, the proxy); otherwise
    it is taken to go out with the first bytes the stream returns (WSGI, Django), which
    decides whether a failure can still be a 502.
    """

    def __init__(
        self, plan: Plan, route: Route, kind: str, options: Options, adapter: str, *,
        encoding: str = "", restorer: Restorer | None = None, headers_out: bool = False, error_event: bool = False,
    ) -> None:
        self.plan, self.route, self.kind, self.options, self.adapter = plan, route, kind, options, adapter
        self.blocks = options.blocks(plan)
        self.lines = StreamRedactor(plan, route, kind)
        self.restore = StreamRestorer(restorer, kind) if restorer is not None else None
        self.decoder, self.encoder = StreamDecoder(encoding), StreamEncoder(encoding)
        self.headers_out = headers_out
        self.error_event = error_event
        self.failed = ""  # the reason, once the stream has failed
        self.passing = False  # passthrough after a failure: plain bytes go on unredacted
        self.ended = False
        self.size = 0
        self.seconds = 0.0

    @property
    def blocked(self) -> bool:
        """The stream failed under ``block``: nothing more may be sent."""
        return bool(self.failed) and not self.passing

    def feed(self, chunk: bytes) -> bytes:
        """The bytes to send for ``chunk``: often ``b""`` while a line or a value is incomplete."""
        return self.step(chunk, last=False)

    def close(self) -> bytes:
        """The rest, once the body has ended (held lines, the encoder's tail)."""
        return self.step(b"", last=True)

    def step(self, chunk: bytes, last: bool) -> bytes:
        """``feed(chunk)``, and with ``last`` also ``close()``: the bytes to send."""
        if self.blocked or self.ended:
            return b""
        started = time.perf_counter()
        try:
            out = self._process(chunk, last)
        finally:
            self.seconds += time.perf_counter() - started
        if out:
            self.headers_out = True
        if last and not self.failed:
            self._observe("")
        self.ended = last
        return out

    def _process(self, chunk: bytes, last: bool) -> bytes:
        self.size += len(chunk)
        raw = self.lines.unsent  # plain bytes fed but not yet sent: what passthrough must still deliver
        try:
            with engine_errors(f"{self.route.direction} stream"):
                plain = b"".join(self.decoder.feed(chunk))
                if last:
                    self.decoder.close()
                if self.passing:
                    return self._encode(plain, last)
                raw += plain
                out = self.lines.feed(plain) + (self.lines.close() if last else b"")
                if self.restore is not None:
                    out = self.restore.feed(out) + (self.restore.close() if last else b"")
        except RedactionError as exc:
            return self._fail(exc.reason, raw, last)
        return self._encode(out, last)

    def _encode(self, data: bytes, last: bool) -> bytes:
        return self.encoder.encode(data) + (self.encoder.finish() if last else b"")

    def _fail(self, reason: str, raw: bytes, last: bool) -> bytes:
        self.failed = reason
        if not self.blocks:
            what = "the rest of the stream passes unredacted (on_error: passthrough)"
        elif self.error_event:
            what = "stream ended with an error event"
        else:
            what = "stream aborted" if self.headers_out else ""
        log_failure(log, self.plan, self.route, reason, what)
        self._observe(reason)
        # Lines held back for a token split across events are already redacted: they may go out.
        held = self.restore.close() if self.restore is not None else b""
        if not self.blocks:
            self.passing = True
            return self._encode(held + raw, last)
        if self.error_event:
            return self._encode(held + self._error_message(reason), True)
        return b""

    def _error_message(self, reason: str) -> bytes:
        body = error_body(reason, self.route.direction)  # the same JSON a refused message carries
        if self.kind == "sse":
            # A blank line ends an open event. CRLF, not LF: after a stream's lone CR an LF would
            # join it into one line end, and the error would be appended to the open event.
            return b"\r\nevent: veil_error\ndata: " + body + b"\n\n"
        return body + b"\n"  # output so far always ends at a line boundary

    def _observe(self, reason: str) -> None:
        restored = bool(self.restore and self.restore.restored)
        report = Report.from_counts(self.lines.counts, self.lines.changed or restored)
        outcome = "error" if reason else ("rewritten" if report.changed else "unchanged")
        self.options.observer.observe(
            adapter=self.adapter, direction=self.route.direction, outcome=outcome, report=report,
            seconds=self.seconds, size=self.size, reason=reason,
        )


Work = Callable[..., Awaitable[bytes]]
"""How an async driver runs one step of a stream: ``await work(stream.feed, chunk)``."""


async def _inline(fn: Callable[..., bytes], *args: Any) -> bytes:
    return fn(*args)


def drive(stream: LineStream, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream's non-empty output for each of ``chunks``, then its close.

    Raises :class:`StreamAborted` once the stream is blocked; with passthrough the rest
    of ``chunks`` flows through unchanged.
    """
    for chunk in chunks:
        if out := stream.feed(chunk):
            yield out
        if stream.blocked:
            raise StreamAborted(stream.failed)
    if out := stream.close():
        yield out
    if stream.blocked:
        raise StreamAborted(stream.failed)


async def adrive(stream: LineStream, chunks: AsyncIterable[bytes], work: Work | None = None) -> AsyncIterator[bytes]:
    """:func:`drive` over an async iterator (Django's async streaming responses). ``work`` runs each
    step (``work(fn, *args)``), e.g. in a worker thread when the plan does I/O; inline when None."""
    step = work or _inline
    async for chunk in chunks:
        if out := await step(stream.feed, chunk):
            yield out
        if stream.blocked:
            raise StreamAborted(stream.failed)
    if out := await step(stream.close):
        yield out
    if stream.blocked:
        raise StreamAborted(stream.failed)
