"""Bodies whose type says nothing (octet-stream, none) through the proxy (issue 15): the head decides.

Small ones are buffered and sniffed whole; ones over the limit or of unknown size stream through a
:class:`veil.http.SniffedStream`: binary passes unread as it arrives, text is held and redacted, or
the flow is aborted when it cannot be.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mitmproxy import http

from tests.proxy_addon.flows import (
    addon_context,
    make_flow,
    send_request,
    send_response,
)
from veil.http import SniffedStream
from veil.proxy_addon import VeilAddon

LIMIT = 2048
JSON = b'{"email": "jane@example.com", "n": 1}'
JSON_REDACTED = b'{"email": "[REDACTED:EMAIL]", "n": 1}'
BINARY = b"\x89PNG\r\n\x1a\n" + b"jane@example.com" + bytes(range(256))  # an e-mail inside binary stays
VAGUE = ("application/octet-stream", "", "binary/octet-stream", "application/unknown", "Application/Octet-Stream; x=1")


@pytest.fixture
def addon() -> Iterator[VeilAddon]:
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_max_body_bytes=LIMIT)
        yield addon


@pytest.mark.parametrize("ctype", VAGUE)
@pytest.mark.parametrize(("body", "want"), [
    (JSON, JSON_REDACTED),
    (b"mail jane@example.com\n", b"mail [REDACTED:EMAIL]\n"),  # text, not JSON: still read
    (BINARY, BINARY),  # near miss: control bytes make it binary, passed unchanged
    (b"plain words, no data\n", b"plain words, no data\n"),  # near miss: text with nothing to redact
])
def test_small_vague_request_is_sniffed(addon: VeilAddon, ctype: str, body: bytes, want: bytes) -> None:
    flow = make_flow(body, ctype)
    send_request(addon, flow)
    assert flow.response is None and flow.request.stream is False
    assert flow.request.raw_content == want


@pytest.mark.parametrize("ctype", VAGUE)
@pytest.mark.parametrize(("body", "want"), [(JSON, JSON_REDACTED), (BINARY, BINARY)])
def test_small_vague_response_is_sniffed(addon: VeilAddon, ctype: str, body: bytes, want: bytes) -> None:
    flow = make_flow(method="GET", path="/file")
    send_request(addon, flow)
    assert send_response(addon, flow, body, ctype) == want


def test_large_binary_download_streams_unread_chunk_by_chunk(addon: VeilAddon) -> None:
    chunks = [b"\x00\x01" + b"jane@example.com" * 40] + [bytes(range(256)) * 4] * 20  # 20 KiB: over the limit
    flow = make_flow(method="GET", path="/file")
    send_request(addon, flow)
    length = str(sum(map(len, chunks)))
    stream = _stream_response(addon, flow, length)
    released = [stream(chunk) for chunk in chunks]
    assert released == [[chunk] for chunk in chunks]  # each chunk leaves as it arrives: nothing is held
    assert stream(b"") == []
    assert flow.response is not None and flow.response.headers["content-length"] == length
    flow.response.data.content = b""
    addon.response(flow)
    assert flow.error is None


def test_large_text_download_is_aborted_not_forwarded(addon: VeilAddon) -> None:
    body = b'{"note": "' + b"jane@example.com " * 200 + b'"}'  # over the limit, text: cannot be redacted
    flow = make_flow(method="GET", path="/file")
    send_request(addon, flow)
    stream = _stream_response(addon, flow, str(len(body)))
    assert stream(body[:700]) == [] and stream(body[700:]) == [] and stream(b"") == []  # nothing is released
    assert flow.response is not None
    flow.response.data.content = b""
    addon.response(flow)
    assert flow.error is not None  # killed: the client sees an aborted body


@pytest.mark.parametrize(("body", "want"), [(JSON, JSON_REDACTED), (BINARY, BINARY)])
def test_chunked_vague_response_is_judged_as_it_streams(addon: VeilAddon, body: bytes, want: bytes) -> None:
    flow = make_flow(method="GET", path="/file")
    send_request(addon, flow)
    out = send_response(addon, flow, body, "application/octet-stream", headers=[("transfer-encoding", "chunked")],
                        chunks=[body[:9], body[9:]])
    assert isinstance(flow.response.stream if flow.response else None, SniffedStream)
    assert out == want


@pytest.mark.parametrize(("body", "want"), [(JSON, JSON_REDACTED), (BINARY, BINARY)])
def test_vague_response_without_a_length_is_judged_as_it_streams(addon: VeilAddon, body: bytes, want: bytes) -> None:
    flow = make_flow(method="GET", path="/file")  # no Content-Length: read to the close, or HTTP/2 frames
    send_request(addon, flow)
    stream = _stream_response(addon, flow, None)
    assert b"".join(b"".join(stream(chunk)) for chunk in (body[:9], body[9:], b"")) == want


def test_chunked_vague_request_is_redacted_at_its_end(addon: VeilAddon) -> None:
    flow = make_flow(JSON, "", headers=[("transfer-encoding", "chunked")])
    addon.requestheaders(flow)
    stream = flow.request.stream
    assert isinstance(stream, SniffedStream)
    out = b"".join(b"".join(stream(chunk)) for chunk in (JSON[:5], JSON[5:], b""))
    assert out == JSON_REDACTED


def test_large_binary_upload_streams_unread(addon: VeilAddon) -> None:
    body = b"\x00" + b"jane@example.com" * 300
    flow = make_flow(body, "application/octet-stream")
    addon.requestheaders(flow)
    stream = flow.request.stream
    assert isinstance(stream, SniffedStream)
    assert b"".join(b"".join(stream(chunk)) for chunk in (body[:600], body[600:], b"")) == body
    addon.request(flow)
    assert flow.response is None and flow.error is None


def _stream_response(addon: VeilAddon, flow: http.HTTPFlow, length: str | None) -> SniffedStream:
    """An octet-stream response of ``length`` declared bytes (None: no Content-Length), its headers
    through the addon."""
    flow.response = http.Response.make(200, b"", [(b"content-type", b"application/octet-stream")])
    if length is None:
        del flow.response.headers["content-length"]  # make() sets the length of b""
    else:
        flow.response.headers["content-length"] = length
    flow.response.data.content = None
    addon.responseheaders(flow)
    stream = flow.response.stream
    assert isinstance(stream, SniffedStream)
    return stream
