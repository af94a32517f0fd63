"""A streamed response body rewritten line by line: mitmproxy's ``flow.response.stream``.

mitmproxy calls the stream function with each chunk as it arrives from the
upstream and with ``b""`` at the end. Every chunk goes through veil's own
pipeline (decode, redact complete lines, restore tokens, re-encode); nothing is
ever passed through unread.

On failure with ``on_error: block`` the stream stops: nothing after the failure
is forwarded, a last error event (SSE) or line (NDJSON) tells the client why,
and the addon aborts the connection when the upstream ends, so the client can
never take the cut stream for a complete one. With ``passthrough`` the rest of
the stream is forwarded unredacted (the failure is logged and counted).
"""

from __future__ import annotations

import time

from veil.errors import RedactionError
from veil.http import Options, error_response
from veil.http import StreamDecoder, StreamEncoder
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route
from veil.rules.restore import Restorer
from veil.rules.stream_redact import StreamRedactor
from veil.rules.stream_restore import StreamRestorer


class ResponseStream:
    """The callable set as ``flow.response.stream`` for an SSE or NDJSON response."""

    def __init__(
        self, plan: Plan, route: Route, kind: str, encoding: str, options: Options,
        restorer: Restorer | None = None,
    ) -> None:
        self.kind, self.options = kind, options
        self.blocks = options.blocks(plan)
        self.lines = StreamRedactor(plan, route, kind)
        self.restore = StreamRestorer(restorer, kind) if restorer is not None else None
        self.decoder, self.encoder = StreamDecoder(encoding), StreamEncoder(encoding)
        self.failed = ""  # the reason, once the stream has failed
        self.passing = False  # passthrough after a failure: plain bytes go on unredacted
        self.size = 0
        self.seconds = 0.0
        self.direction = route.direction

    def __call__(self, chunk: bytes) -> list[bytes]:
        """The bytes to send for ``chunk``: none (``[]``) while a line or a token is incomplete.

        Never ``[b""]``: mitmproxy sends each item as a chunk, and an empty one on a chunked
        HTTP/1.1 response is ``0\\r\\n\\r\\n``, which ends the body for the client.
        """
        started = time.perf_counter()
        try:
            out = self._step(chunk)
            return [out] if out else []
        finally:
            self.seconds += time.perf_counter() - started
            if not chunk:
                self._observe()

    def _step(self, chunk: bytes) -> bytes:
        if self.failed and not self.passing:
            return b""  # blocked: the rest of the upstream's stream is dropped
        self.size += len(chunk)
        raw = self.lines.unsent  # plain bytes not yet delivered, for passthrough after a failure
        try:
            plain = b"".join(self.decoder.feed(chunk))
            if not chunk:
                self.decoder.close()
            if self.passing:
                return self.encoder.encode(plain) + (b"" if chunk else self.encoder.finish())
            raw += plain
            out = self.lines.feed(plain) + (b"" if chunk else self.lines.close())
            if self.restore is not None:
                out = self.restore.feed(out) + (b"" if chunk else self.restore.close())
        except RedactionError as exc:
            return self._fail(exc.reason, raw, last=not chunk)
        return self.encoder.encode(out) + (b"" if chunk else self.encoder.finish())

    def _fail(self, reason: str, raw: bytes, last: bool) -> bytes:
        self.failed = reason
        # Lines held back for a token split across events are already redacted: send them.
        held = self.restore.close() if self.restore is not None else b""
        if not self.blocks:
            # Passthrough: the unfinished line as it came, then everything after it.
            self.passing = True
            out = held + raw
            return self.encoder.encode(out) + (self.encoder.finish() if last else b"")
        return self.encoder.encode(held + self._error_message(reason)) + self.encoder.finish()

    def _error_message(self, reason: str) -> bytes:
        body = error_response(reason, self.direction)[2]  # the same JSON a refused message carries
        if self.kind == "sse":
            return b"\nevent: veil_error\ndata: " + body + b"\n\n"  # "\n" ends an open event
        return body + b"\n"  # output so far always ends at a line boundary

    def _observe(self) -> None:
        report = Report.from_counts(self.lines.counts, self.lines.changed or bool(self.restore and self.restore.restored))
        outcome = "error" if self.failed else ("rewritten" if report.changed else "unchanged")
        self.options.observer.observe(
            adapter="proxy", direction=self.direction, outcome=outcome, report=report,
            seconds=self.seconds, size=self.size, reason=self.failed,
        )
