"""Redact a stream of lines (NDJSON, Server-Sent Events, logs) as it arrives.

Chunks are cut anywhere by the transport; a line is redacted only once it is
complete, so a value split across two chunks is still seen whole. Memory is
bounded by the longest line: a line longer than ``max_line_bytes`` is an error
(fail closed), never passed through unread.

Server-Sent Events: every field is read, not only ``data``. ``event:`` and ``id:`` values,
comments (``: ...``) and unknown fields are scanned as text (clients may log or echo them);
``retry:`` passes when it is the number the spec says it is. An event whose ``data:`` lines
form one JSON document only together (a pretty-printed object: SSE joins an event's data
lines with "\n") is held until the event ends and redacted as that one document, so its
field names classify; it goes out as data lines whose join is the redacted document. The
held event is bounded by ``max_line_bytes`` like a line. What a stream found is kept as counts
(one per type, rule, action and mode), so an endless stream's report does not grow,
and no line's bytes outlive the call that redacted it.
"""

from __future__ import annotations

from codecs import BOM_UTF8
from collections import Counter
from typing import Any

import orjson

from veil.errors import RedactionError
from veil.rules.json_bytes import valid_json
from veil.rules.media import NDJSON_TYPES, json_to_its_readers, media_type
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route

SSE_TYPE = "text/event-stream"


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


_SSE_VALUE_FIELDS = frozenset({b"data", b"event", b"id", b"retry"})


def sse_field(line: bytes) -> tuple[bytes, bytes, bytes, bytes] | None:
    """``(name, prefix, payload, ending)`` of one SSE line, or None for a blank line.

    For ``data``, ``event``, ``id`` and ``retry`` the prefix is the field name, its colon
    and optional space, and the payload its value. A comment or any other field is all
    payload (prefix ``b""``): what it holds, its name included, is only ever text.
    """
    body = line.rstrip(b"\r\n")
    ending = line[len(body):]
    if not body.strip():
        return None
    name, colon, value = body.partition(b":")
    if not colon or name not in _SSE_VALUE_FIELDS:
        return (b":" if colon and not name else name), b"", body, ending
    lead = b" " if value.startswith(b" ") else b""
    return name, name + b":" + lead, value[len(lead):], ending


def opens_json(payload: bytes) -> bool:
    """Whether ``payload`` is the start of a JSON document that goes on (``{`` alone, an
    object cut after a comma or after a closing bracket): the first data line of a document
    spread over several."""
    if payload.lstrip()[:1] not in (b"{", b"["):
        return False
    if payload.rstrip()[-1:] in (b"}", b"]") and valid_json(payload):
        # The common one-line event, a whole document: validated without building it (the plan
        # parses it next). One that only ends like one ('{"a": {"b": 1}' then 'data: }') is
        # held like any other: read line by line, its keys' classes and escapes went unread.
        return False
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        # orjson reports a document cut short at its end: the next data line may finish it.
        return "end of data" in exc.msg or exc.pos >= len(payload.decode("utf-8", "replace"))
    return False


def joined_json(lines: list[bytes]) -> tuple[bytes, Any] | None:
    """``(joined data, document)`` when the data lines of one event (two or more) parse
    together as one JSON document, as a client joins them (with "\n"); else None."""
    payloads = [parts[1] for parts in map(split_data, lines) if parts is not None]
    if len(payloads) < 2:
        return None
    joined = b"\n".join(payloads)
    try:
        return joined, orjson.loads(joined)
    except orjson.JSONDecodeError:
        return None


def _sse_cut(data: bytes) -> int:
    """Where the complete SSE lines of ``data`` end. SSE lines end in CRLF, LF or a lone CR.

    A CR that ends ``data`` may be the first half of a CRLF whose LF is in the next chunk: the
    line it ends is kept back until the next byte says (sending it and then reading the LF as a
    blank line would end its event early). A blank line (the CR alone) is sent at once, so a
    CR-only stream's events are not delayed: an LF after it is one more blank line, which ends
    no event that is not already over."""
    cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
    if cut != len(data) or data[-1:] != b"\r":
        return cut
    before = max(data.rfind(b"\n", 0, cut - 1), data.rfind(b"\r", 0, cut - 1)) + 1
    return cut if before == cut - 1 else before


def split_data(line: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``split_line(line, "sse")``: the ``data:`` field of an SSE line, or None."""
    return split_line(line, "sse")


class LineRedactor:
    """Feed chunks, get back redacted complete lines; ``close`` flushes the last line.

    ``kind`` is ``ndjson`` (each line is a JSON document), ``sse`` (``data:``
    lines hold JSON or text, other fields text: see the module docstring) or ``text``.

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
        self._open_event = b""  # SSE lines of an event whose data is a JSON document still open
        self._at_start = True  # a byte order mark may still open the stream
        # Which rules a line takes besides its own type's, decided once per stream. An NDJSON line is
        # read as JSON under the rules of the stream's own type instead, as a buffered NDJSON body's
        # lines are (a route that names no NDJSON type stands for the usual one); an event stream's
        # lines take the rules for text/event-stream as well (a policy scoped to event streams
        # redacted nothing in one).
        mtype = media_type(route.content_type)[0]
        ndjson_type = mtype if mtype in NDJSON_TYPES else "application/x-ndjson"
        self.line_rules = ndjson_type if kind == "ndjson" else ""
        self.line_also = SSE_TYPE if kind == "sse" else ""

    @property
    def unsent(self) -> bytes:
        """The raw bytes of the unfinished line: fed, not yet returned. With ``on_error:
        passthrough`` an adapter that fails on a chunk delivers ``unsent + chunk`` (taken
        before the ``feed``) and then the rest of the stream as it comes."""
        return self._open_event + self._carry

    def report(self) -> Report:
        """The stream so far, counted: see :meth:`Report.from_counts` (its ``findings`` is empty)."""
        return Report.from_counts(self.counts, self.changed)

    def feed(self, chunk: bytes) -> bytes:
        mark, chunk = self.take_mark(chunk)
        if self.kind == "sse":
            return mark + b"".join(self.sse_line(line) for line in self.complete_lines(chunk))
        return mark + b"".join(self.redact_line(line) for line in self.complete_lines(chunk))

    def take_mark(self, chunk: bytes) -> tuple[bytes, bytes]:
        """(the UTF-8 byte order mark opening the stream, to pass on as it came; the rest of ``chunk``).

        EventSource (WHATWG) and .NET/PowerShell writers put one before the first line, and readers
        skip it: left on the line, ``\ufeffdata: {...}`` was no data field and ``{...`` no JSON, so
        the first event's field rules (``$.password``) did not apply. A mark cut by the chunk waits."""
        if not self._at_start:
            return b"", chunk
        data = self._carry + chunk
        if len(data) < len(BOM_UTF8) and BOM_UTF8.startswith(data):
            self._carry = data
            return b"", b""
        self._at_start, self._carry = False, b""
        return (BOM_UTF8, data[len(BOM_UTF8):]) if data.startswith(BOM_UTF8) else (b"", data)

    def close(self) -> bytes:
        rest, self._carry = self._carry, b""
        if self.kind == "sse":
            return (self.sse_line(rest) if rest else b"") + self.end_event()
        return self.redact_line(rest) if rest else b""

    # -- SSE events ----------------------------------------------------------------------

    def sse_line(self, line: bytes) -> bytes:
        """One complete SSE line: emitted now, or held with the open event it belongs to."""
        if self._open_event:
            if not line.strip(b"\r\n"):
                return self.end_event() + self.emit(line)
            self._open_event += line
            if len(self._open_event) > self.max_line_bytes:
                raise RedactionError(
                    "line_too_long", f"an SSE event's data lines are longer than {self.max_line_bytes} bytes")
            return b""
        data = split_data(line)
        if data is not None and opens_json(data[1]):
            self._open_event = line
            return b""
        return self.emit(line)

    def end_event(self) -> bytes:
        """The held event's lines: its data redacted as one JSON document if they make one,
        else each line on its own (as if never held)."""
        held, self._open_event = self._open_event, b""
        if not held:
            return b""
        lines = held.splitlines(keepends=True)
        joined = joined_json(lines)
        if joined is None:
            return b"".join(self.emit(line) for line in lines)
        return self.emit_joined(lines, *joined)

    def emit(self, line: bytes) -> bytes:
        """A line that belongs to no held event, redacted (a subclass may hold it further)."""
        return self.redact_line(line)

    def emit_joined(self, lines: list[bytes], joined: bytes, doc: Any) -> bytes:
        """An event whose data lines make one JSON document: the document redacted whole and
        written back as data lines where its first data line was; its other fields as lines."""
        return self.joined_lines(lines, joined)

    def joined_lines(self, lines: list[bytes], joined: bytes) -> bytes:
        redacted = self.redact_payload(joined, "application/json")
        out, placed = [], False
        for line in lines:
            data = split_data(line)
            if data is None:
                out.append(self.redact_line(line))
            elif redacted == joined:
                out.append(line)  # nothing changed: the lines as they came
            elif not placed:
                placed = True
                out += [data[0] + piece + data[2] for piece in redacted.split(b"\n")]
        return b"".join(out)

    def complete_lines(self, chunk: bytes) -> list[bytes]:
        """The lines ``chunk`` completes (with their endings); the unfinished rest is kept."""
        data = self._carry + chunk
        cut = _sse_cut(data) if self.kind == "sse" else data.rfind(b"\n") + 1
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
        if self.kind == "sse":
            field = sse_field(line)
            if field is None or (field[0] == b"retry" and field[2].isdigit()):
                return line  # a blank line ends an event; retry is a number of milliseconds
            name, prefix, payload, ending = field
            if name != b"data":
                return prefix + self.redact_payload(payload, "text/plain") + ending
        parts = split_line(line, self.kind)
        if parts is None:
            return line
        prefix, payload, ending = parts
        if self.kind == "sse":
            ctype = "application/json" if payload[:1] in (b"{", b"[") else "text/plain"
        else:
            ctype = "application/json" if self.kind == "ndjson" else "text/plain"
        return prefix + self.redact_payload(payload, ctype, self.line_rules) + ending

    def redact_payload(self, payload: bytes, ctype: str, rules_for: str = "") -> bytes:
        """A line's payload redacted as ``ctype`` (under the rules of ``rules_for``, if given); its
        findings are counted. An event stream's payloads take the rules of ``line_also`` as well."""
        also = self.line_also
        try:
            result = self.plan.redact_body(payload, ctype, self.route, rules_for=rules_for, rules_also=also)
        except RedactionError as exc:
            # Only a line that is not JSON at all may be read as text: after any other
            # failure (a limit) the text path would skip the policy's selectors and classes.
            if (ctype != "application/json" or self.kind != "sse" or exc.reason != "invalid_json"
                    or json_to_its_readers(payload)):  # a lone surrogate: JSON to the client, refused
                raise
            # An SSE data line that only looks like JSON ("[DONE]") is text.
            result = self.plan.redact_body(payload, "text/plain", self.route, rules_also=also)
        self.found(result.report)
        return result.output

    def found(self, report: Report) -> None:
        """Count one payload's report. Only the counts are kept: the report may hold a closure
        over the payload's bytes (findings made on demand), and goes when this call returns.
        A subclass may read its findings first (``veil apply --explain`` prints them)."""
        self.counts.update(report.counts())
        self.changed = self.changed or report.changed
