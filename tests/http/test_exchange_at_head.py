"""The shared decisions a proxy takes, without a server: ResponseBody.begin_at_head (a response's flow
chosen at its head, for stream callables) and Exchange.redact_request_body (a request body read whole)."""

from __future__ import annotations

import logging

import pytest

from veil.http import Options
from veil.http.exchange import Chunk, Exchanges, ResponseBody, Start
from veil.rules.compiler import compile_policy

LIMIT = 64
SMALL = compile_policy(f"version: 1\nlimits: {{max_body_bytes: {LIMIT}}}\nrules:\n  - scan: true\n", source="small.yaml")
log = logging.getLogger("veil.tests.exchange_at_head")


def response(ctype: str, on_error: str = "block", **kwargs: bool) -> ResponseBody:
    exchange = Exchanges(SMALL, Options(on_error=on_error), "test", log).open("GET", "example.com", "/r")
    return exchange.response([("content-type", ctype), ("etag", '"abc"')], head_first=True, **kwargs)


@pytest.mark.parametrize(
    ("ctype", "length", "on_error", "mode", "status"),
    [
        ("application/json", LIMIT, "block", "buffer", None),  # fits: read whole, nothing sent yet
        ("application/json", None, "block", "buffer", None),  # unknown size: read whole, bounded as it comes
        ("application/json", LIMIT + 1, "block", "done", 502),  # declared over: refused before a byte is read
        ("application/json", LIMIT + 1, "passthrough", "pass", None),  # near miss: passthrough streams it unread
        ("application/x-ndjson", None, "block", "stream", None),
        ("application/octet-stream", LIMIT + 1, "block", "sniff", None),  # too large to buffer first: its head decides
        ("application/octet-stream", 10, "block", "buffer", None),  # near miss: small enough to buffer
    ],
)
def test_the_mode_is_chosen_at_the_head(ctype: str, length: int | None, on_error: str, mode: str,
                                        status: int | None) -> None:
    body = response(ctype, on_error)
    sends = body.begin_at_head(length)
    assert body.mode == mode
    if mode == "buffer":
        assert sends == []
    else:
        assert isinstance(sends[0], Start) and sends[0].status == status
    assert (body.lines is not None) is (mode == "stream") and (body.sniffer is not None) is (mode == "sniff")


def test_a_streamed_head_drops_the_length_and_validators_of_the_unredacted_bytes() -> None:
    body = response("application/x-ndjson")
    [start] = body.begin_at_head(None)
    assert isinstance(start, Start) and not any(name == "etag" for name, _ in start.headers)


def test_a_buffered_body_read_whole_is_redacted_with_the_restorer_and_its_length_fixed() -> None:
    body = response("application/json")
    assert body.begin_at_head(None) == []
    start, chunk = body.push(b'{"a": "jane@example.com"}', False)
    assert isinstance(start, Start) and isinstance(chunk, Chunk) and b"jane" not in chunk.data
    assert ("content-length", str(len(chunk.data))) in start.headers


@pytest.mark.parametrize(("bounded", "status"), [(True, 502), (False, None)])
def test_a_whole_body_is_weighed_against_the_limit_only_when_bounded(bounded: bool, status: int | None) -> None:
    """The exchange's own limit (the proxy's veil_max_body_bytes), under the plan's."""
    plan = compile_policy("version: 1\nrules:\n  - scan: true\n", source="default-limit.yaml")
    exchange = Exchanges(plan, Options(), "test", log).open("GET", "example.com", "/r", limit=LIMIT)
    body = exchange.response([("content-type", "application/json")], head_first=False, whole=True, bounded=bounded)
    body.begin()
    start, _ = body.push(b'{"a": "' + b"x" * LIMIT + b'"}', False)
    assert isinstance(start, Start) and start.status == status


REQUEST_HEAD = [("content-type", "application/json"), ("etag", '"abc"'), ("content-length", "29")]


@pytest.mark.parametrize(
    ("body", "on_error", "status", "reason", "forwarded"),
    [
        (b'{"email": "jane@example.com"}', "block", None, "", b'{"email": "[REDACTED:EMAIL]"}'),
        (b'{"email": "nobody"}', "block", None, "", b'{"email": "nobody"}'),  # near miss: nothing to redact
        (b'{"email": "jane@', "block", 400, "invalid_json", None),
        (b'{"email": "jane@', "passthrough", None, "", b'{"email": "jane@'),  # as it came, logged
    ],
)
def test_a_request_body_read_whole_is_forwarded_redacted_refused_or_as_it_came(
    body: bytes, on_error: str, status: int | None, reason: str, forwarded: bytes | None,
) -> None:
    exchange = Exchanges(SMALL, Options(on_error=on_error), "test", log).open("POST", "example.com", "/r")
    start, chunk = exchange.redact_request_body(REQUEST_HEAD, body)
    assert isinstance(start, Start) and isinstance(chunk, Chunk) and not chunk.more
    assert start.status == status and start.reason == reason
    if forwarded is None:
        assert b"jane" not in chunk.data  # veil's JSON error, never the body
    elif forwarded == body:
        assert start.headers is REQUEST_HEAD and chunk.data is body  # untouched: the adapter rewrites nothing
    else:
        assert chunk.data == forwarded
        assert start.headers == [("content-type", "application/json"), ("content-length", str(len(forwarded)))]


@pytest.mark.parametrize(("length", "keeps"), [(None, False), (LIMIT + 1, True)])
def test_a_sniffed_head_of_unknown_size_drops_the_validators_of_the_unredacted_bytes(length: int | None,
                                                                                     keeps: bool) -> None:
    """Unknown size: the head leaves before the sniffer knows whether the text will be rewritten, and an
    ETag or digest of the unredacted bytes is a plain hash of its personal data (ext_proc and ASGI never
    sent it). Declared over the limit (near miss): a text body fails, a binary one passes as it came, so
    its validators stay true."""
    body = response("application/octet-stream")
    [start] = body.begin_at_head(length)
    assert body.mode == "sniff" and isinstance(start, Start)
    assert any(name == "etag" for name, _ in start.headers) is keeps
