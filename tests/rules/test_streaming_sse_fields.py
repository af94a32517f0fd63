"""SSE fields other than one-line ``data:`` (issue #15): every field is read, and a JSON
document spread over an event's data lines is redacted as that one document.

Both redactors every adapter may use (LineRedactor, and StreamRedactor, which every adapter
does use) run each case; expected outputs are written out.
"""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil import RedactionError, Route, compile_policy, default_plan
from veil.rules.stream_redact import StreamRedactor
from veil.rules.streaming import LineRedactor, opens_json, sse_field

PLAN = default_plan()
ROUTE = Route("response", "GET", "api.test", "/events", "text/event-stream")
REDACTORS = [LineRedactor, StreamRedactor]


def run(cls: type[LineRedactor], stream: bytes, chunks: list[int] | None = None) -> bytes:
    redactor = cls(PLAN, ROUTE, "sse")
    cuts = [0, *sorted(chunks or []), len(stream)]
    out = b"".join(redactor.feed(stream[a:b]) for a, b in zip(cuts, cuts[1:]))
    return out + redactor.close()


def joined_data(event: bytes) -> bytes:
    """The data of one SSE event as a client sees it: its data lines joined with "\\n"."""
    values = []
    for line in event.splitlines():
        name, _, value = line.partition(b":")
        if name == b"data":
            values.append(value[1:] if value.startswith(b" ") else value)
    return b"\n".join(values)


@pytest.mark.parametrize("cls", REDACTORS)
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"id: jane@example.com\n", b"id: [REDACTED:EMAIL]\n"),
        (b"id:jane@example.com\r\n", b"id:[REDACTED:EMAIL]\r\n"),  # no space, CRLF
        (b"event: signup jane@example.com\n", b"event: signup [REDACTED:EMAIL]\n"),
        (b": debug jane@example.com\n", b": debug [REDACTED:EMAIL]\n"),  # a comment
        (b":jane@example.com\n", b":[REDACTED:EMAIL]\n"),
        (b"x-user: jane@example.com\n", b"x-user: [REDACTED:EMAIL]\n"),  # an unknown field
        (b"jane@example.com\n", b"[REDACTED:EMAIL]\n"),  # a field name alone
        (b"retry: jane@example.com\n", b"retry: [REDACTED:EMAIL]\n"),  # not a number: text
        (b"retry: 3000\n", b"retry: 3000\n"),  # near-miss: the number it should be
        (b"id: 4111 1111 1111 1111\n", b"id: [REDACTED:CREDIT_CARD]\n"),
        (b"id: evt_81723\n", b"id: evt_81723\n"),  # near-miss: an ordinary id
        (b"event: message\n", b"event: message\n"),
        (b": keep-alive\n", b": keep-alive\n"),
        (b"\n", b"\n"),
    ],
)
def test_fields_other_than_data_are_scanned_as_text(cls: type[LineRedactor], line: bytes, expected: bytes) -> None:
    assert run(cls, line) == expected


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (b"data: {}\n", (b"data", b"data: ", b"{}", b"\n")),
        (b"id:7\r\n", (b"id", b"id:", b"7", b"\r\n")),
        (b"retry: 10\n", (b"retry", b"retry: ", b"10", b"\n")),
        (b": ping\n", (b":", b"", b": ping", b"\n")),
        (b"foo: bar\n", (b"foo", b"", b"foo: bar", b"\n")),
        (b"lonely\n", (b"lonely", b"", b"lonely", b"\n")),
        (b"\r\n", None),
    ],
)
def test_sse_field_splits_every_kind_of_line(line: bytes, field: tuple[bytes, ...] | None) -> None:
    assert sse_field(line) == field


@pytest.mark.parametrize(
    ("payload", "opens"),
    [
        (b"{", True),
        (b'{"a": 1,', True),
        (b"  [1, 2", True),
        (b'{"a": 1}', False),  # complete on its own
        (b'{"a": {"b": 1}', True),  # ends with a bracket, yet cut short (it used to be read line by line)
        (b'[[1], [2]', True),
        (b'{"a": 1}}', False),  # broken after a whole document
        (b"[DONE]", False),  # not JSON at all: text
        (b"{}x", False),  # broken, not cut short
        (b"hello {", False),
        (b"", False),
    ],
)
def test_a_data_line_opens_a_document_only_when_cut_short(payload: bytes, opens: bool) -> None:
    assert opens_json(payload) is opens


PRETTY = (
    b'event: profile\n'
    b'data: {\n'
    b'data:   "password": "hunter2",\n'
    b'id: 17\n'
    b'data:   "ssn": "078-05-1120",\n'
    b'data:   "plan": "pro"\n'
    b'data: }\n'
    b'\n'
)


@pytest.mark.parametrize("cls", REDACTORS)
def test_a_document_whose_first_line_ends_with_a_bracket_is_redacted_whole(cls: type[LineRedactor]) -> None:
    """Read line by line, the escaped address and the key-classified zip code crossed (review, issue 13)."""
    stream = b'event: msg\ndata: {"user": {"email": "jane\\u0040example.com", "zip": "94107"}\ndata: }\n\n'
    out = run(cls, stream)
    assert orjson.loads(joined_data(out)) == {"user": {"email": "[REDACTED:EMAIL]", "zip": "[REDACTED:ADDRESS]"}}


@pytest.mark.parametrize("cls", REDACTORS)
def test_a_json_document_over_several_data_lines_is_redacted_whole(cls: type[LineRedactor]) -> None:
    """Line by line, '"password": "hunter2",' is text with nothing to find; joined, it is a
    field named password."""
    out = run(cls, PRETTY)
    assert orjson.loads(joined_data(out)) == {"password": "[REDACTED:SECRET]", "ssn": "[REDACTED:US_SSN]", "plan": "pro"}
    assert out.startswith(b"event: profile\n") and b"id: 17\n" in out and out.endswith(b"\n\n")
    assert out.count(b"\n\n") == 1  # still one event


@pytest.mark.parametrize("cls", REDACTORS)
@pytest.mark.parametrize(
    "stream",
    [
        b'data: {\ndata:   "plan": "pro"\ndata: }\n\n',  # one document, nothing to redact
        b'data: {"a": 1}\ndata: {"b": 2}\n\n',  # two documents: the join is not JSON
        b'data: {\ndata: not json\n\n',  # never closed
        b"data: [DONE]\n\n",
    ],
)
def test_events_with_nothing_to_redact_go_out_byte_for_byte(cls: type[LineRedactor], stream: bytes) -> None:
    assert run(cls, stream) == stream


@pytest.mark.parametrize("cls", REDACTORS)
def test_data_lines_that_do_not_join_into_json_are_redacted_one_by_one(cls: type[LineRedactor]) -> None:
    stream = b'data: {\ndata: "mail": "jane@example.com"\ndata: oops\n\n'
    assert run(cls, stream) == b'data: {\ndata: "mail": "[REDACTED:EMAIL]"\ndata: oops\n\n'


@pytest.mark.parametrize("cls", REDACTORS)
def test_a_document_left_open_when_the_stream_ends_is_still_redacted(cls: type[LineRedactor]) -> None:
    out = run(cls, b'data: {\ndata: "password": "hunter2"\ndata: }')
    assert orjson.loads(joined_data(out)) == {"password": "[REDACTED:SECRET]"}


@pytest.mark.parametrize("cls", REDACTORS)
def test_an_open_event_is_bounded_like_a_line(cls: type[LineRedactor]) -> None:
    redactor = cls(PLAN, ROUTE, "sse", max_line_bytes=64)
    redactor.feed(b"data: {\n")
    with pytest.raises(RedactionError) as info:
        redactor.feed(b'data: "n": "' + b"x" * 40 + b'",\n' + b'data: "m": "' + b"y" * 40 + b'",\n')
    assert info.value.reason == "line_too_long"


@pytest.mark.parametrize("cls", REDACTORS)
def test_unsent_holds_the_open_event_as_it_came(cls: type[LineRedactor]) -> None:
    redactor = cls(PLAN, ROUTE, "sse")
    assert redactor.feed(b'data: {\ndata: "password": "hunter2"\ndata: }') == b""
    assert redactor.unsent == b'data: {\ndata: "password": "hunter2"\ndata: }'


def test_a_delta_event_over_several_data_lines_joins_the_stream_text() -> None:
    """StreamRedactor reads the joined document's deltas like a one-line event's."""
    first = b'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "write to jane@exa"}}]}\n\n'
    second = b'data: {"choices": [{"index": 0, "delta": {"content": "mple.com today"}, "finish_reason": "stop"}]}\n\n'
    out = run(StreamRedactor, first + second)
    events = [orjson.loads(joined_data(e)) for e in out.split(b"\n\n") if e]
    text = "".join(e["choices"][0]["delta"]["content"] for e in events)
    assert text == "write to [REDACTED:EMAIL] today"


EVENTS = [
    PRETTY,
    b"id: jane@example.com\nevent: update\ndata: {\"email\": \"bob@example.com\"}\n\n",
    b": keep-alive\n\n",
    b"retry: 1500\n\n",
    b'data: {"choices":[{"index":0,"delta":{"content":"call +1 415 "}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{"content":"555 0100 now"},"finish_reason":"stop"}]}\n\n',
    b'data: {\r\ndata: "name": "Jane Doe",\r\ndata: "card": "4111 1111 1111 1111"\r\ndata: }\r\n\r\n',
    b"data: [DONE]\n\n",
]


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
    cls=st.sampled_from(REDACTORS),
)
def test_any_chunking_of_the_byte_stream_gives_the_same_output(
    events: list[bytes], cuts: list[int], cls: type[LineRedactor]
) -> None:
    stream = b"".join(events)
    whole = run(cls, stream)
    assert run(cls, stream, [c % (len(stream) + 1) for c in cuts]) == whole
    for secret in (b"jane@example.com", b"bob@example.com", b"hunter2", b"078-05-1120", b"4111 1111"):
        assert secret not in whole


def test_a_whole_event_stream_body_is_redacted_as_events() -> None:
    """A buffered SSE reply (a framework's plain response) reads like the same stream fed in chunks."""
    stream = PRETTY + b"id: jane@example.com\ndata: [DONE]\n\n"
    result = PLAN.redact_body(stream, "text/event-stream; charset=utf-8", ROUTE)
    assert result.output == run(StreamRedactor, stream)
    assert result.report.changed and sum(result.report.counts().values()) == 3
    assert b"hunter2" not in result.output and b"jane@" not in result.output


SSE_SCOPED = """version: 1
detectors:
  - {name: EMP, pattern: 'EMP-[0-9]{6}'}
rules:
  - match: {content_types: ["text/event-stream"]}
    scan: {detectors: [EMP, EMAIL]}
"""
JSON_SCOPED = """version: 1
rules:
  - match: {content_types: ["application/json"]}
    scan: {detectors: [EMAIL]}
"""
SCOPED_STREAM = (b'data: {"msg":"EMP-123456 jane@example.com","user":{"id":"u1"}}\n\n'
                 b"data: EMP-123456 here\n\nevent: EMP-123456\ndata: x\n\n")


@pytest.mark.parametrize("cls", REDACTORS)
@pytest.mark.parametrize("chunk", [1, 9, len(SCOPED_STREAM)])
def test_a_policy_scoped_to_event_streams_applies_to_their_lines(cls: type[LineRedactor], chunk: int) -> None:
    """An event's JSON data was matched as application/json and its text as text/plain, never as the
    stream's type: a policy for text/event-stream redacted nothing in one (review, issue 13)."""
    plan = compile_policy(SSE_SCOPED)
    route = Route("response", content_type="text/event-stream")
    redactor = cls(plan, route, "sse")
    cuts = range(0, len(SCOPED_STREAM), chunk)
    out = b"".join(redactor.feed(SCOPED_STREAM[i : i + chunk]) for i in cuts) + redactor.close()
    assert out == (b'data: {"msg":"[REDACTED:EMP] [REDACTED:EMAIL]","user":{"id":"u1"}}\n\n'
                   b"data: [REDACTED:EMP] here\n\nevent: [REDACTED:EMP]\ndata: x\n\n")
    assert plan.redact_body(SCOPED_STREAM, "text/event-stream", Route("response")).output == out  # buffered alike
    assert plan.redact_body(b'{"msg":"EMP-123456"}', "application/json").output == b'{"msg":"EMP-123456"}'


def test_a_policy_scoped_to_json_still_applies_to_an_event_streams_json() -> None:
    plan = compile_policy(JSON_SCOPED)
    out = plan.redact_body(b'data: {"to": "jane@example.com"}\n\ndata: mail jane@example.com\n\n', "text/event-stream")
    assert out.output == b'data: {"to": "[REDACTED:EMAIL]"}\n\ndata: mail jane@example.com\n\n'
