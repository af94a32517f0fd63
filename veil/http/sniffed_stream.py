"""A vague body, or one labelled binary (:mod:`veil.http.sniff`), pushed chunk by chunk, for an
adapter that must decide to stream at the headers (mitmproxy's ``stream`` callables): the head decides, then it passes
unread or is held whole, bounded, and redacted at the end."""

from __future__ import annotations

import logging

from veil.errors import RedactionError
from veil.http.bodies import redact_buffered
from veil.http.failures import log_failure
from veil.http.options import Options
from veil.http.sniff import SNIFF_HEAD_BYTES, binary_already, may_be_text
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Route
from veil.rules.restore import Restorer

log = logging.getLogger(__name__)


class SniffedStream:
    """A body whose head decides (:func:`veil.http.sniff.head_decides`: a vague type, or one veil
    knows to be binary) pushed chunk by chunk, its headers already out of veil's hands (a proxy that
    must choose to stream at the headers): held until :data:`SNIFF_HEAD_BYTES` decide, or fewer when
    they already show it binary (:func:`veil.http.sniff.binary_already`: a gRPC frame, a PNG magic).
    Binary then flows through unread; anything else is held whole (at most ``limit`` bytes) and
    redacted at the end: a vague body that turns out binary past a text head fails as
    ``bad_encoding``; under a binary label only a JSON, NDJSON or form document is rewritten, other
    text keeps its bytes (:mod:`veil.http.sniff`). Over the limit, or when the redaction fails,
    ``failed`` names the reason and, with ``on_error: block``, nothing more is released (the adapter
    then aborts the connection); with ``passthrough`` the body goes on as it came."""

    def __init__(
        self, plan: Plan, route: Route, content_type: str, content_encoding: str, options: Options,
        adapter: str, limit: int, restorer: Restorer | None = None,
    ) -> None:
        self.plan, self.route, self.options, self.adapter, self.limit = plan, route, options, adapter, limit
        self.content_type, self.content_encoding, self.restorer = content_type, content_encoding, restorer
        self.blocks = options.blocks(plan)
        self.mode = "sniff"  # then pass | buffer | done
        self.failed = ""
        self._held: list[bytes] = []
        self._size = 0

    def step(self, chunk: bytes, last: bool) -> bytes:
        """The bytes to release for ``chunk`` (``last``: the body ended with it)."""
        if self.mode == "pass":
            return chunk
        if self.mode == "done":
            return b""
        self._held.append(chunk)
        self._size += len(chunk)
        head = b"".join(self._held) if self.mode == "sniff" else b""
        if self.mode == "sniff" and (self._size >= SNIFF_HEAD_BYTES or last
                                     or binary_already(head, self.content_encoding)):
            self.mode = "buffer" if may_be_text(head, self.content_encoding, self.content_type) else "pass"
            if self.mode == "pass":
                return self._release()
        if self._size > self.limit:
            return self._fail("body_too_large")
        if not last:
            return b""
        body = self._release()
        try:
            out = redact_buffered(self.plan, self.route, body, self.content_type, self.content_encoding,
                                  self.options, self.adapter, self.restorer)[0]
        except RedactionError as exc:  # observed by redact_buffered
            log_failure(log, self.plan, self.route, exc.reason)
            self.failed = exc.reason
            self.mode = "done"
            return b"" if self.blocks else body
        self.mode = "done"
        return out

    def _release(self) -> bytes:
        body = b"".join(self._held)
        self._held, self._size = [], 0
        return body

    def _fail(self, reason: str) -> bytes:
        log_failure(log, self.plan, self.route, reason)
        self.options.observer.observe(adapter=self.adapter, direction=self.route.direction, outcome="error",
                                      report=EMPTY_REPORT, seconds=0.0, size=self._size, reason=reason)
        self.failed = reason
        if self.blocks:
            self.mode, self._held = "done", []
            return b""
        self.mode = "pass"  # passthrough: what is held, then the rest as it comes
        return self._release()

    def __call__(self, chunk: bytes) -> list[bytes]:
        """As a stream callable (mitmproxy's): each chunk, then ``b""`` at the end; never an empty
        piece, which a chunked HTTP/1.1 body would read as its end."""
        out = self.step(chunk, last=not chunk)
        return [out] if out else []
