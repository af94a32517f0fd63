"""The error event that ends a failed SSE stream in the proxy (``error_event``) is an event of its own
whatever line ends the stream used (issue 16): after a lone CR, a leading LF would have joined it into
CRLF, and the error would have been appended to the open event's data."""

from __future__ import annotations

import re

import pytest

from veil import compile_policy
from veil.http import LineStream, Options
from veil.rules.plan_types import Route

PLAN = compile_policy({"version": 1, "limits": {"max_body_bytes": 64},
                       "rules": [{"id": "d", "scan": {"detectors": ["EMAIL"], "action": "redact"}}]})
ERROR = '{"error":"veil_redaction_failed","reason":"line_too_long","direction":"response"}'


def events(stream: bytes) -> list[tuple[str, str]]:
    """(type, data) of each dispatched event, as the SSE spec parses ``stream`` (CRLF, LF and CR end lines)."""
    out, kind, data = [], "message", []
    for line in re.split(r"\r\n|\r|\n", stream.decode()):
        if not line:
            if data:
                out.append((kind, "\n".join(data)))
            kind, data = "message", []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            kind = value
        elif name == "data":
            data.append(value)
    return out


@pytest.mark.parametrize("end", [b"\r", b"\n", b"\r\n"])
def test_a_stream_cut_inside_an_event_ends_that_event_then_sends_the_error_event(end: bytes) -> None:
    stream = LineStream(PLAN, Route("response"), "sse", Options(), "proxy", error_event=True)
    sent = stream.feed(b"data: one" + end + b"data: two" + end + b": held while its end may be CRLF" + end)
    sent += stream.feed(b"data: " + b"x" * 100)  # over the line limit: the stream fails here
    sent += stream.close()
    assert stream.failed == "line_too_long"
    assert events(sent) == [("message", "one\ntwo"), ("veil_error", ERROR)]
