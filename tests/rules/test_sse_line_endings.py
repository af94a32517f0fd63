"""SSE lines end in CRLF, LF or a lone CR (issue 16): each is a line end for the stream redactor, an event
goes out as soon as its blank line is in, and a CRLF split across two chunks is one line end."""

from __future__ import annotations

import pytest

from veil import compile_policy
from veil.rules.plan_types import Route
from veil.rules.stream_redact import StreamRedactor

PLAN = compile_policy({"version": 1, "rules": [
    {"id": "names", "classify": {"action": "redact"}},
    {"id": "d", "scan": {"detectors": ["EMAIL"], "action": "redact"}},
]})


def feed_each(chunks: list[bytes]) -> list[bytes]:
    """What the redactor returns for each chunk, then for its close."""
    redactor = StreamRedactor(PLAN, Route("response"), "sse")
    return [redactor.feed(chunk) for chunk in chunks] + [redactor.close()]


@pytest.mark.parametrize("end", [b"\r", b"\n", b"\r\n"])
def test_an_event_goes_out_as_soon_as_its_blank_line_is_in(end: bytes) -> None:
    first = b"id: 1" + end + b"data: mail jane@example.com" + end + end
    second = b"data: two" + end + end
    assert feed_each([first, second]) == [
        b"id: 1" + end + b"data: mail [REDACTED:EMAIL]" + end + end, b"data: two" + end + end, b""]


def test_a_cr_ending_a_chunk_waits_for_the_next_byte_unless_it_ends_a_blank_line() -> None:
    assert feed_each([b"data: jane@example.com\r", b"\n\r", b"\ndata: x\r", b"\r", b""]) == [
        b"",  # the CR may be half of a CRLF: an LF read as a blank line would end the event early
        b"data: [REDACTED:EMAIL]\r\n\r",  # a blank line goes out at once...
        b"\n",  # ...and the LF after it is one more blank line, ending nothing
        b"data: x\r\r",
        b"",
        b"",
    ]


def test_a_json_document_over_cr_ended_data_lines_is_redacted_as_one() -> None:
    """The password is only known to be one by its field name, on the line before."""
    out = b"".join(feed_each([b'data: {"password":\r', b'data: "hunter2", "n": 1}\r\r']))
    assert out == b'data: {"password":\rdata: "[REDACTED:SECRET]", "n": 1}\r\r'


STREAM = (b'id: jane@example.com\rdata: {"password":\r\ndata: "hunter2"}\r\n\r\n'
          b": note jane@example.com\r\rdata: mail jane@example.com\n\ndata: [DONE]\r\n\r\n")
REDACTED = (b'id: [REDACTED:EMAIL]\rdata: {"password":\r\ndata: "[REDACTED:SECRET]"}\r\n\r\n'
            b": note [REDACTED:EMAIL]\r\rdata: mail [REDACTED:EMAIL]\n\ndata: [DONE]\r\n\r\n")


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_where_the_chunks_split_a_mixed_stream_does_not_change_it(cut: int) -> None:
    assert b"".join(feed_each([STREAM[:cut], STREAM[cut:]])) == REDACTED


def test_a_cr_only_stream_longer_than_the_line_limit_is_read_line_by_line() -> None:
    """Lines were cut at LF alone: a CR-only stream was one line, refused once past the limit."""
    redactor = StreamRedactor(PLAN, Route("response"), "sse", max_line_bytes=1024)
    event = b"data: " + b"x" * 200 + b"\r\r"
    assert [redactor.feed(event) for _ in range(20)] == [event] * 20
