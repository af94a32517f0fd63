"""The per-exchange decisions every adapter shares (veil.http.exchange), without a server.

Each adapter's own tests and the cross-adapter table check the bytes on the wire; these
check the answers the adapters convert: what is sent, in which order, on which failure.
"""

from __future__ import annotations

import logging

import pytest

from veil.errors import RedactionError
from veil.http import Options, StreamAborted
from veil.http.exchange import Chunk, Exchanges, ResponseBody, Start
from veil.rules.compiler import compile_policy

LIMIT = 64
SMALL = compile_policy(f"version: 1\nlimits: {{max_body_bytes: {LIMIT}}}\nrules:\n  - scan: true\n", source="small.yaml")
EMAIL_JSON = b'{"note": "mail jane.doe@example.com"}'
JSON = [("content-type", "application/json")]
log = logging.getLogger("veil.tests.exchange")


def response(headers: list[tuple[str, str]], on_error: str = "block", **kwargs: bool) -> ResponseBody:
    exchange = Exchanges(SMALL, Options(on_error=on_error), "test", log).open("GET", "example.com", "/r")
    return exchange.response(headers, head_first=kwargs.pop("head_first", False), **kwargs)


def test_binary_passes_with_its_head_at_once() -> None:
    """A binary label is sniffed (issue #15), but its first bytes already show it binary: it passes at
    once, not after 512 bytes (a gRPC stream's first frame is not held back)."""
    headers = [("content-type", "image/png"), ("content-length", "300")]
    body = response(headers)
    assert body.begin() == []
    sends = body.push(b"\x89PNG", True)
    assert sends == [Start(headers), Chunk(b"\x89PNG", True)]
    assert isinstance(sends[0], Start) and sends[0].headers is headers  # unchanged: the server's raw headers go on
    assert body.push(b"\r\n", False) == [Chunk(b"\r\n", False)]


def test_a_text_head_under_a_binary_label_is_held() -> None:
    body = response([("content-type", "image/png")])
    assert body.begin() == []
    assert body.push(b'{"em', True) == []  # near-miss of the above: text so far, so the head decides


def test_a_buffered_body_is_redacted_whole_with_its_length_fixed() -> None:
    body = response([*JSON, ("etag", '"abc"'), ("content-length", str(len(EMAIL_JSON)))])
    assert body.begin() == []  # the length is known only once redacted
    assert body.push(EMAIL_JSON[:10], True) == []
    start, chunk = body.push(EMAIL_JSON[10:], False)
    assert isinstance(start, Start) and isinstance(chunk, Chunk)
    assert b"jane.doe@example.com" not in chunk.data and not chunk.more
    assert start.status is None
    assert ("content-length", str(len(chunk.data))) in start.headers
    assert not any(name == "etag" for name, _ in start.headers)  # a hash of the unredacted bytes


@pytest.mark.parametrize(("fixed_length", "gets_length"), [(True, True), (False, False)])
def test_an_unchanged_body_gets_its_own_length_only_where_the_adapter_fixes_lengths(
    fixed_length: bool, gets_length: bool,
) -> None:
    body = response(JSON, fixed_length=fixed_length)
    body.begin()
    start, _ = body.push(b'{"a": 1}', False)
    assert isinstance(start, Start)
    assert (("content-length", "8") in start.headers) is gets_length


@pytest.mark.parametrize("on_error", ["block", "passthrough"])
def test_over_the_limit_block_refuses_passthrough_sends_what_is_held(on_error: str) -> None:
    body = response(JSON, on_error=on_error)
    body.begin()
    sends = body.push(b"x" * (LIMIT + 1), True)
    assert isinstance(sends[0], Start)
    if on_error == "block":
        assert sends[0] == Start(sends[0].headers, 502) and body.mode == "done"
        assert body.push(b"more", False) == []  # nothing of the rest may leak
    else:
        assert sends == [Start(JSON), Chunk(b"x" * (LIMIT + 1), True)] and body.mode == "pass"
        assert body.push(b"more", False) == [Chunk(b"more", False)]


@pytest.mark.parametrize(
    ("head", "more", "mode"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 600, True, "pass"),  # a full head: binary, the rest passes unread
        (b'{"a": 1}', True, "sniff"),  # a short head with more to come: not judged yet
        (b'{"a": 1}', False, "buffer"),  # the whole body is its head: text, read and redacted
    ],
)
def test_a_vague_body_is_judged_by_its_head(head: bytes, more: bool, mode: str) -> None:
    body = response([("content-type", "application/octet-stream")])
    assert body.begin() == []
    body.push(head, more)
    assert body.mode == mode


def test_a_stream_failing_before_its_first_line_is_a_502_where_the_head_waits() -> None:
    body = response([("content-type", "application/x-ndjson")])
    assert body.begin() == []
    sends = body.push(b"{not json\n", True)
    assert isinstance(sends[0], Start) and sends[0].status == 502


def test_a_stream_failing_after_its_head_went_out_is_aborted() -> None:
    body = response([("content-type", "application/x-ndjson")], head_first=True)
    assert [type(send) for send in body.begin()] == [Start]
    with pytest.raises(StreamAborted):
        body.push(b"{not json\n", True)
    assert body.push(b'{"a": 1}\n', False) == []


@pytest.mark.parametrize(
    ("ctype", "length", "streams", "mode"),
    [
        ("application/octet-stream", 10, True, "buffer"),  # small: redact_buffered reads its head
        ("application/octet-stream", LIMIT + 1, True, "sniff"),
        ("application/octet-stream", None, True, "sniff"),  # unknown size
        ("image/png", None, True, "sniff"),  # a binary label: its head decides (issue #15)
        ("image/png", 10, True, "buffer"),
        ("application/x-ndjson", None, True, "stream"),
        ("application/x-ndjson", None, False, "buffer"),  # a proxy's request: buffered
        ("application/json", None, True, "buffer"),
    ],
)
def test_mode_at_head(ctype: str, length: int | None, streams: bool, mode: str) -> None:
    exchange = Exchanges(SMALL, Options(), "test", log).open("POST", "example.com", "/r")
    assert exchange.mode_at_head(ctype, "", length, streams=streams)[0] == mode


def test_request_body_limit_is_checked_before_redaction() -> None:
    exchange = Exchanges(SMALL, Options(), "test", log).open("POST", "example.com", "/r")
    with pytest.raises(RedactionError) as caught:
        exchange.redact_body("request", b"{}" + b" " * LIMIT, "application/json", "")
    assert caught.value.reason == "body_too_large"
    assert exchange.redact_body("request", b"{}", "application/json", "") == (b"{}", "unchanged")
