"""Redact a stream of lines (NDJSON, Server-Sent Events, logs) as it arrives.

Chunks are cut anywhere by the transport; a line is redacted only once it is
complete, so a value split across two chunks is still seen whole. Memory is
bounded by the longest line: a line longer than ``max_line_bytes`` is an error
(fail closed), never passed through unread. What a stream found is kept as counts
(one per type, rule, action and mode), so an endless stream's report does not grow,
and no line's bytes outlive the call that redacted it.
"""

from __future__ import annotations

from collections import Counter

from veil.errors import RedactionError
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route


def split_line(line: bytes, kind: str) -> tuple[bytes, bytes, bytes] | None:
    """``(prefix, payload, ending)`` of one streamed line, or None for a line with no payload.

    For SSE the payload is a ``data:`` field's value and the prefix is ``data:`` with
    its optional space; ``event:``, ``id:``, ``retry:``, comments and blank lines carry none.
    """
    body = line.rstrip(b"\r\n")
    ending = line[len(body):]
    if not body.strip():
        return None
    if kind != "sse":
        return b"", body, ending
    name, colon, value = body.partition(b":")
    if name != b"data" or not colon:
        return None
    lead = b" " if value.startswith(b" ") else b""
    return b"data:" + lead, value[len(lead):], ending


class LineRedactor:
    """Feed chunks, get back redacted complete lines; ``close`` flushes the last line.

    ``kind`` is ``ndjson`` (each line is a JSON document), ``sse`` (``data:``
    lines hold JSON or text; other fields pass unchanged) or ``text``.

    ``counts`` holds the findings so far by (type, rule, action, mode), as
    :meth:`Report.counts` keys them; ``changed`` is whether any line was rewritten.
    :meth:`report` gives both as a :class:`Report`. Individual findings (paths,
    offsets) are not kept: a stream may be endless.
    """

    def __init__(self, plan: Plan, route: Route, kind: str, max_line_bytes: int | None = None) -> None:
        self.plan = plan
        self.route = route
        self.kind = kind
        self.max_line_bytes = max_line_bytes or plan.limits.max_body_bytes
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.changed = False
        self._carry = b""

    @property
    def unsent(self) -> bytes:
        """The raw bytes of the unfinished line: fed, not yet returned. With ``on_error:
        passthrough`` an adapter that fails on a chunk delivers ``unsent + chunk`` (taken
        before the ``feed``) and then the rest of the stream as it comes."""
        return self._carry

    def report(self) -> Report:
        """The stream so far, counted: see :meth:`Report.from_counts` (its ``findings`` is empty)."""
        return Report.from_counts(self.counts, self.changed)

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(self.redact_line(line) for line in self.complete_lines(chunk))

    def close(self) -> bytes:
        rest, self._carry = self._carry, b""
        return self.redact_line(rest) if rest else b""

    def complete_lines(self, chunk: bytes) -> list[bytes]:
        """The lines ``chunk`` completes (with their endings); the unfinished rest is kept."""
        data = self._carry + chunk
        cut = data.rfind(b"\n") + 1
        self._carry = data[cut:]
        if len(self._carry) > self.max_line_bytes:
            raise RedactionError("line_too_long", f"a streamed line is longer than {self.max_line_bytes} bytes")
        if not cut:
            return []
        lines = data[:cut].splitlines(keepends=True)
        if any(len(line) > self.max_line_bytes for line in lines):
            raise RedactionError("line_too_long", f"a streamed line is longer than {self.max_line_bytes} bytes")
        return lines

    def redact_line(self, line: bytes) -> bytes:
        """One complete line, redacted on its own (its payload as JSON or text)."""
        parts = split_line(line, self.kind)
        if parts is None:
            return line
        prefix, payload, ending = parts
        if self.kind == "sse":
            ctype = "application/json" if payload[:1] in (b"{", b"[") else "text/plain"
        else:
            ctype = "application/json" if self.kind == "ndjson" else "text/plain"
        return prefix + self.redact_payload(payload, ctype) + ending

    def redact_payload(self, payload: bytes, ctype: str) -> bytes:
        """A line's payload redacted as ``ctype``; its findings are counted."""
        try:
            result = self.plan.redact_body(payload, ctype, self.route)
        except RedactionError as exc:
            # Only a line that is not JSON at all may be read as text: after any other
            # failure (a limit) the text path would skip the policy's selectors and classes.
            if ctype != "application/json" or self.kind != "sse" or exc.reason != "invalid_json":
                raise
            # An SSE data line that only looks like JSON ("[DONE]") is text.
            result = self.plan.redact_body(payload, "text/plain", self.route)
        # Only the counts are kept: the line's report may hold a closure over the
        # line's bytes (findings made on demand), and goes when this call returns.
        self.counts.update(result.report.counts())
        self.changed = self.changed or result.report.changed
        return result.output
