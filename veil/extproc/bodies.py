"""One direction's body as Envoy hands it over: whole, or chunk by chunk, and what to send back.

veil asks Envoy (``mode_override`` in its headers reply) for the mode the body needs:

- ``BUFFERED`` for a document (JSON, form, text, multipart) of declared size: one message with
  the whole body. The reply carries the new body and a Content-Length that counts it (Envoy
  answers 500 when a changed body keeps the old length);
- ``BUFFERED_PARTIAL`` for a document of unknown size (chunked): Envoy buffers it whole, or up
  to its buffer limit (set above veil's), and the head waits for veil's answer, so a body over
  the limit is still refused with veil's JSON error;
- ``BUFFERED_PARTIAL`` too for a body whose head decides (a vague type, or one veil knows to be
  binary: ``image/png``), whatever its size: Envoy sends it whole if it fits in its buffer, else
  its first part (a message that is not the last) and the rest then flows without veil, so a large
  image never needs a gateway's buffer. The shared layer judges it
  (:meth:`veil.http.Exchange.redact_partial`): a binary head passes, a text head is redacted
  whole, or refused when Envoy cut it (it may be a document veil cannot read whole);
- ``STREAMED`` for SSE and NDJSON (:class:`veil.http.LineStream`: a line or a value split across
  chunks is held back until it is whole). Every chunk is answered, with the bytes that may go out
  for it (often none);
- ``NONE`` for a body veil does not read (a direction no rule may apply to), which passes unread.

A body that ends in trailers comes without ``end_of_stream`` (its trailers next), in ``BUFFERED``
and ``BUFFERED_PARTIAL`` alike: in ``BUFFERED_PARTIAL`` that is also the shape of a body Envoy cut. Envoy
cuts only once it holds more than its buffer limit, so a message that is not the last is the whole
body when it is no larger than the limit the gateway declares (``veil-buffer-limit-bytes``,
:mod:`veil.extproc.envoy_config`); ``whole_within`` below. Without that declaration it is refused.

Whatever mode actually arrives (a gateway that does not allow mode overrides), a body is never
forwarded unread: a document arriving in chunks is held whole, bounded by the limit.
"""

from __future__ import annotations

from veil.errors import RedactionError
from veil.http import LineStream, Options, redact_buffered
from veil.http.exchange import Exchange
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Route
from veil.rules.restore import Restorer


def after_whole(options: Options, direction: str) -> RedactionError:
    """A body message after one veil read as the whole body (its trailers were next): chunks, a mode veil
    did not ask for. What already went out was redacted on its own; the rest is refused, never passed."""
    options.observer.observe(adapter="extproc", direction=direction, outcome="error", report=EMPTY_REPORT,
                             seconds=0.0, size=0, reason="body_mode_refused")
    return RedactionError("body_mode_refused", f"{direction} body went on after the message read as whole")


class Body:
    """What one direction's body chunks turn into; ``failed`` names the reason once it must be refused;
    ``rewritten``: the last answer changed the body (a buffered one then needs its own Content-Length)."""

    rewritten = False

    @property
    def failed(self) -> str:
        return ""

    def step(self, chunk: bytes, last: bool) -> bytes | None:
        """The bytes to send in place of ``chunk`` (None: ``chunk`` unchanged). Raises RedactionError."""
        raise NotImplementedError

    def release(self) -> bytes:
        """After a failure under ``on_error: passthrough``: the bytes held so far, unredacted; later
        chunks then pass unchanged."""
        return b""


class Unread(Body):
    """Binary: passes unread."""

    def step(self, chunk: bytes, last: bool) -> bytes | None:
        return None


class Document(Body):
    """A body redacted whole: one buffered message, or chunks held until the last, at most ``limit`` bytes."""

    def __init__(
        self, plan: Plan, route: Route, content_type: str, content_encoding: str, options: Options, limit: int,
        restorer: Restorer | None, *, partial: bool = False, whole_within: int = 0,
    ) -> None:
        self.plan, self.route, self.options, self.limit, self.restorer = plan, route, options, limit, restorer
        self.partial = partial
        """Sent in BUFFERED_PARTIAL mode: a message that is not the last means Envoy's buffer overflowed,
        and the rest would cross without reaching veil: refused, unless ``whole_within`` says it is whole."""
        self.whole_within = whole_within
        """A first message that is not the last and holds at most this many bytes is the whole body, its
        trailers next (Envoy cuts only above its buffer limit). 0: such a message is never taken as whole."""
        self.content_type, self.content_encoding = content_type, content_encoding
        self.held: list[bytes] = []
        self.size = 0
        self.rewritten = False
        self.passing = False
        self.whole = False
        """Answered whole at a message that was not the last: only its trailers may follow."""

    def release(self) -> bytes:
        held, self.held, self.passing = b"".join(self.held), [], True
        return held

    def step(self, chunk: bytes, last: bool) -> bytes | None:
        if self.passing:
            return None
        if self.whole:
            if chunk:
                raise after_whole(self.options, self.route.direction)
            return None  # its trailers: nothing was held
        self.held.append(chunk)  # the chunk is held until it is answered: a failure can still release it
        self.size += len(chunk)
        if not last and not self.held[:-1] and self.size <= self.whole_within:
            last = self.whole = True  # the whole body, its trailers next
        if self.size > self.limit or (self.partial and not last):
            self.options.observer.observe(adapter="extproc", direction=self.route.direction, outcome="error",
                                          report=EMPTY_REPORT, seconds=0.0, size=self.size, reason="body_too_large")
            raise RedactionError("body_too_large", f"{self.route.direction} body is over the limit")
        if not last:
            return b""  # held: nothing goes out until the document is whole
        was_held = len(self.held) > 1
        whole = b"".join(self.held)
        out, _, outcome = redact_buffered(self.plan, self.route, whole, self.content_type, self.content_encoding,
                                          self.options, "extproc", self.restorer)
        self.held = []
        self.rewritten = outcome == "rewritten"
        if not self.rewritten and not was_held:
            return None
        return out


class HeadDecides(Body):
    """A body whose head decides, sent ``BUFFERED_PARTIAL``: one message, the whole body or (not the last)
    as much of it as Envoy's buffer held, judged by :meth:`veil.http.Exchange.redact_partial`. Whatever
    follows a binary head passes; a mode veil did not ask for (chunks) is judged on its first chunk.
    ``whole_within`` as for :class:`Document`."""

    def __init__(self, exchange: Exchange, direction: str, content_type: str, content_encoding: str,
                 restorer: Restorer | None, whole_within: int = 0) -> None:
        self.exchange, self.direction, self.restorer = exchange, direction, restorer
        self.content_type, self.content_encoding = content_type, content_encoding
        self.whole_within = whole_within
        self.passing = False
        self.whole = False
        """A text head answered whole at a message that was not the last: only its trailers may follow."""

    def release(self) -> bytes:
        self.passing = True
        return b""  # nothing is held: the message itself goes on

    def step(self, chunk: bytes, last: bool) -> bytes | None:
        if self.passing:
            return None
        if self.whole:
            if chunk:
                raise after_whole(self.exchange.options, self.direction)
            return None  # its trailers
        self.passing = True  # judged once: a binary head's rest passes, a refusal ends the exchange
        whole = last or len(chunk) <= self.whole_within
        out, outcome = self.exchange.redact_partial(self.direction, chunk, whole, self.content_type,
                                                    self.content_encoding, self.restorer)
        if outcome != "binary" and not last:  # read whole, its trailers next: nothing after it passes unread
            self.passing, self.whole = False, True
        self.rewritten = outcome == "rewritten"
        return out if self.rewritten else None


class Streamed(Body):
    """SSE or NDJSON line by line (:class:`veil.http.LineStream`): each chunk answered with what may go out for it."""

    def __init__(self, stream: LineStream) -> None:
        self.stream = stream

    @property
    def failed(self) -> str:
        return self.stream.failed if self.stream.blocks else ""  # passthrough: the stream goes on by itself

    def step(self, chunk: bytes, last: bool) -> bytes | None:
        out = self.stream.step(chunk, last)
        return None if out == chunk else out
