"""Redact a stream of lines (NDJSON, Server-Sent Events, logs) as it arrives.

Chunks are cut anywhere by the transport; a line is redacted only once it is
complete, so a value split across two chunks is still seen whole. Memory is
bounded by the longest line: a line longer than ``max_line_bytes`` is an error
(fail closed), never passed through unread.
"""

from __future__ import annotations

from veil.errors import RedactionError
from veil.rules.plan import Plan
from veil.rules.plan_types import Finding, Route


class LineRedactor:
    """Feed chunks, get back redacted complete lines; ``close`` flushes the last line.

    ``kind`` is ``ndjson`` (each line is a JSON document), ``sse`` (``data:``
    lines hold JSON or text; other fields pass unchanged) or ``text``.
    """

    def __init__(self, plan: Plan, route: Route, kind: str, max_line_bytes: int | None = None) -> None:
        self.plan = plan
        self.route = route
        self.kind = kind
        self.max_line_bytes = max_line_bytes or plan.limits.max_body_bytes
        self.findings: list[Finding] = []
        self.changed = False
        self._carry = b""

    @property
    def unsent(self) -> bytes:
        """The raw bytes of the unfinished line: fed, not yet returned. With ``on_error:
        passthrough`` an adapter that fails on a chunk delivers ``unsent + chunk`` (taken
        before the ``feed``) and then the rest of the stream as it comes."""
        return self._carry

    def feed(self, chunk: bytes) -> bytes:
        data = self._carry + chunk
        cut = data.rfind(b"\n") + 1
        self._carry = data[cut:]
        if len(self._carry) > self.max_line_bytes:
            raise RedactionError("line_too_long", f"a streamed line is longer than {self.max_line_bytes} bytes")
        if not cut:
            return b""
        lines = data[:cut].splitlines(keepends=True)
        if any(len(line) > self.max_line_bytes for line in lines):
            raise RedactionError("line_too_long", f"a streamed line is longer than {self.max_line_bytes} bytes")
        return b"".join(self._line(line) for line in lines)

    def close(self) -> bytes:
        rest, self._carry = self._carry, b""
        return self._line(rest) if rest else b""

    def _line(self, line: bytes) -> bytes:
        body = line.rstrip(b"\r\n")
        ending = line[len(body):]
        if not body.strip():
            return line
        if self.kind == "sse":
            name, colon, value = body.partition(b":")
            if name != b"data" or not colon:
                return line  # event:, id:, retry:, comments carry no payload
            lead = b" " if value.startswith(b" ") else b""
            payload = value[len(lead):]
            new = self._redact(payload, "application/json" if payload[:1] in (b"{", b"[") else "text/plain")
            return b"data:" + lead + new + ending
        ctype = "application/json" if self.kind == "ndjson" else "text/plain"
        return self._redact(body, ctype) + ending

    def _redact(self, payload: bytes, ctype: str) -> bytes:
        try:
            result = self.plan.redact_body(payload, ctype, self.route)
        except RedactionError as exc:
            # Only a line that is not JSON at all may be read as text: after any other
            # failure (a limit) the text path would skip the policy's selectors and classes.
            if ctype != "application/json" or self.kind != "sse" or exc.reason != "invalid_json":
                raise
            # An SSE data line that only looks like JSON ("[DONE]") is text.
            result = self.plan.redact_body(payload, "text/plain", self.route)
        self.findings.extend(result.report.findings)
        self.changed = self.changed or result.report.changed
        return result.output
