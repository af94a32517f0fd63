"""One exchange driven message by message, as Envoy would, without Envoy: the modes veil asks for, one
answer per streamed chunk, passthrough, and failures that refuse (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("envoy.service.ext_proc.v3.external_processor_pb2", reason="needs veil[envoy]")

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HttpBody,
    HttpHeaders,
    HttpTrailers,
    ProcessingRequest,
    ProcessingResponse,
    ProtocolConfiguration,
)

from tests.extproc.envoy_like import exchange as exchange_like
from tests.restore_policy import KEY_ENV, KEY_HEX, RESTORE_POLICY
from veil import compile_policy, load_policy
from veil.extproc.exchange import Exchange
from veil.extproc.messages import BUFFERED, BUFFERED_PARTIAL, NONE, STREAMED
from veil.http import Options
from veil.rules.plan import Plan

POLICY = {
    "version": 1, "limits": {"max_body_bytes": 64},
    "rules": [{"id": "pii", "scan": {"detectors": ["EMAIL"], "action": "redact"}}],
}


def plan(**extra: object) -> Plan:
    return compile_policy({**POLICY, **extra})


def headers(direction: str, pairs: list[tuple[str, str]], end: bool = False) -> ProcessingRequest:
    message = HttpHeaders(headers=HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]),
                          end_of_stream=end)
    return ProcessingRequest(request_headers=message) if direction == "request" else ProcessingRequest(
        response_headers=message)


def body(direction: str, data: bytes, end: bool) -> ProcessingRequest:
    message = HttpBody(body=data, end_of_stream=end)
    return ProcessingRequest(request_body=message) if direction == "request" else ProcessingRequest(
        response_body=message)


REQUEST = [(":method", "POST"), (":path", "/v1/items"), (":authority", "api.example.com")]


def start(exchange: Exchange) -> None:
    reply = exchange.handle(headers("request", REQUEST, end=True))
    assert reply.WhichOneof("response") == "request_headers"


def chunk_text(reply: ProcessingResponse) -> bytes | None:
    common = reply.response_body.response
    return common.body_mutation.body if common.HasField("body_mutation") else None


@pytest.mark.parametrize(("content_type", "length", "mode"), [
    ("application/json", "10", BUFFERED),
    ("application/json", "", BUFFERED_PARTIAL),  # chunked: Envoy buffers, veil still answers the head
    ("text/event-stream", "", STREAMED),
    ("application/x-ndjson", "10", STREAMED),
    # A binary label or a vague type, of any size: Envoy buffers what its buffer holds, the head decides
    # (issue #15), and a large image never needs Envoy's buffer to hold it whole.
    ("image/png", "10", BUFFERED_PARTIAL),
    ("image/png", "100000000", BUFFERED_PARTIAL),  # over veil's limit too: a binary head passes
    ("image/png", "", BUFFERED_PARTIAL),
    ("application/octet-stream", "10", BUFFERED_PARTIAL),
    ("application/octet-stream", "", BUFFERED_PARTIAL),
])
def test_veil_asks_for_the_body_mode_the_type_needs(content_type: str, length: str, mode: int) -> None:
    exchange = Exchange(plan(), Options())
    start(exchange)
    pairs = [(":status", "200"), ("content-type", content_type)] + ([("content-length", length)] if length else [])
    reply = exchange.handle(headers("response", pairs))
    assert reply.mode_override.response_body_mode == mode


def test_every_streamed_chunk_gets_exactly_one_answer_holding_a_split_value() -> None:
    exchange = Exchange(plan(), Options())
    start(exchange)
    exchange.handle(headers("response", [(":status", "200"), ("content-type", "application/x-ndjson")]))
    first = exchange.handle(body("response", b'{"e": "jane@exa', False))
    second = exchange.handle(body("response", b'mple.com"}\n{"n": 1}\n', False))
    last = exchange.handle(body("response", b"", True))
    assert chunk_text(first) == b""  # held: the value is not whole yet
    assert chunk_text(second) == b'{"e": "[REDACTED:EMAIL]"}\n{"n": 1}\n'
    assert last.WhichOneof("response") == "response_body" and not exchange.done


def test_buffered_body_that_changes_gets_a_content_length_that_counts_it() -> None:
    exchange = Exchange(plan(), Options())
    exchange.handle(headers("request", [*REQUEST, ("content-type", "text/plain"), ("content-length", "20")]))
    reply = exchange.handle(body("request", b"mail jane@example.com", True))
    common = reply.request_body.response
    assert common.body_mutation.body == b"mail [REDACTED:EMAIL]"
    assert [(o.header.key, o.header.raw_value) for o in common.header_mutation.set_headers] == [
        ("content-length", b"21")]


def test_unchanged_buffered_body_is_left_as_it_came() -> None:
    exchange = Exchange(plan(), Options())
    exchange.handle(headers("request", [*REQUEST, ("content-type", "text/plain"), ("content-length", "5")]))
    reply = exchange.handle(body("request", b"hello", True))
    assert not reply.request_body.response.HasField("body_mutation")
    assert not reply.request_body.response.HasField("header_mutation")


def test_partial_buffer_is_refused_even_under_the_limit() -> None:
    """BUFFERED_PARTIAL sends a first part when Envoy's buffer is full; the rest would never reach veil."""
    exchange = Exchange(plan(), Options())
    exchange.handle(headers("request", [*REQUEST, ("content-type", "application/json")]))
    reply = exchange.handle(body("request", b'{"a": 1', False))
    assert reply.immediate_response.status.code == 413 and exchange.done


PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
DOC = b'{"e": "jane@example.com"}'
REDACTED = b'{"e": "[REDACTED:EMAIL]"}'


@pytest.mark.parametrize(("direction", "content_type", "sent", "whole", "status", "out"), [
    ("request", "image/png", PNG_HEAD, False, None, None),  # binary head, cut by Envoy: the rest passes
    ("response", "image/png", PNG_HEAD * 40, True, None, None),  # binary, over veil's limit: passes unread
    ("response", "application/octet-stream", PNG_HEAD, False, None, None),  # vague, binary head: passes
    ("request", "image/png", DOC, True, None, REDACTED),  # a document under a binary label: redacted
    ("response", "application/octet-stream", DOC, True, None, REDACTED),
    ("request", "image/png", DOC, False, 413, None),  # cut: it may be a document veil cannot read whole
    ("response", "image/png", DOC, False, 502, None),
    ("request", "image/png", DOC[:-1] + b" " * 60 + b"}", True, 413, None),  # whole, over the limit
    ("request", "image/png", b"GIF89a plain text", False, 413, None),  # text head, cut: refused too
])
def test_body_whose_head_decides_is_judged_as_envoy_buffered_it(
    direction: str, content_type: str, sent: bytes, whole: bool, status: int | None, out: bytes | None,
) -> None:
    exchange = Exchange(plan(), Options())
    pairs = [("content-type", content_type), ("content-length", str(len(sent) + (0 if whole else 9999)))]
    if direction == "request":
        reply = exchange.handle(headers("request", [*REQUEST, *pairs]))
        assert reply.mode_override.request_body_mode == BUFFERED_PARTIAL
    else:
        start(exchange)
        reply = exchange.handle(headers("response", [(":status", "200"), *pairs]))
        assert reply.mode_override.response_body_mode == BUFFERED_PARTIAL
    reply = exchange.handle(body(direction, sent, whole))
    if status is not None:
        assert reply.immediate_response.status.code == status and exchange.done
        assert b"body_too_large" in reply.immediate_response.body
        return
    common = getattr(reply, f"{direction}_body").response
    assert chunk_text_of(reply, direction) == out
    if out is not None:  # Envoy would keep the old length in this mode: it is removed, never set
        assert list(common.header_mutation.remove_headers) == ["content-length"]
        assert not common.header_mutation.set_headers
    else:
        assert not common.HasField("header_mutation")
    if not whole:  # what Envoy sends past its buffer, should it send more, passes as it comes
        assert chunk_text_of(exchange.handle(body(direction, b"{jane@example.com}", True)), direction) is None


def test_passthrough_lets_a_cut_text_head_go_on_unchanged() -> None:
    exchange = Exchange(plan(on_error="passthrough"), Options())
    exchange.handle(headers("request", [*REQUEST, ("content-type", "image/png")]))
    reply = exchange.handle(body("request", DOC, False))
    assert reply.WhichOneof("response") == "request_body" and not exchange.done
    assert chunk_text_of(reply, "request") is None


def test_declared_length_over_the_limit_is_refused_at_the_headers() -> None:
    exchange = Exchange(plan(), Options())
    reply = exchange.handle(headers("request", [*REQUEST, ("content-type", "application/json"),
                                                ("content-length", "65")]))
    assert reply.immediate_response.status.code == 413


def test_passthrough_lets_a_failing_body_go_on_unchanged() -> None:
    exchange = Exchange(plan(on_error="passthrough"), Options())
    exchange.handle(headers("request", [*REQUEST, ("content-type", "application/json"), ("content-length", "7")]))
    reply = exchange.handle(body("request", b'{"a": 1', True))
    assert reply.WhichOneof("response") == "request_body" and not exchange.done


def test_body_whose_headers_veil_never_saw_is_refused() -> None:
    exchange = Exchange(plan(), Options())
    start(exchange)
    reply = exchange.handle(body("response", b"jane@example.com", True))
    assert reply.immediate_response.status.code == 502


def test_trailers_are_redacted_like_headers() -> None:
    exchange = Exchange(plan(), Options())
    start(exchange)
    trailers = HttpTrailers(trailers=HeaderMap(headers=[HeaderValue(key="x-who", raw_value=b"jane@example.com"),
                                                        HeaderValue(key="x-n", raw_value=b"1")]))
    reply = exchange.handle(ProcessingRequest(response_trailers=trailers))
    assert [(o.header.key, o.header.raw_value) for o in reply.response_trailers.header_mutation.set_headers] == [
        ("x-who", b"[REDACTED:EMAIL]")]


def test_stream_bytes_held_when_trailers_arrive_are_refused_not_dropped() -> None:
    exchange = Exchange(plan(), Options())
    start(exchange)
    exchange.handle(headers("response", [(":status", "200"), ("content-type", "application/x-ndjson")]))
    exchange.handle(body("response", b'{"e": "jane@exa', False))
    reply = exchange.handle(ProcessingRequest(response_trailers=HttpTrailers(trailers=HeaderMap())))
    assert reply.immediate_response.status.code == 502


def test_request_path_and_query_are_rewritten_with_the_route_kept() -> None:
    exchange = Exchange(plan(), Options())
    reply = exchange.handle(headers("request", [(":method", "GET"), (":path", "/u/jane@example.com?q=jane%40example.com"),
                                                (":authority", "api.example.com")], end=True))
    [path] = [o.header.raw_value for o in reply.request_headers.response.header_mutation.set_headers
              if o.header.key == ":path"]
    assert b"jane" not in path and path.startswith(b"/u/") and b"?q=" in path
    assert exchange.path == "/u/jane@example.com"  # rules match the original


def test_passthrough_over_the_limit_still_redacts_the_head() -> None:
    exchange = Exchange(plan(on_error="passthrough"), Options())
    reply = exchange.handle(headers("request", [*REQUEST, ("content-type", "application/json"),
                                                ("content-length", "65"), ("x-contact", "jane@example.com")]))
    assert [(o.header.key, o.header.raw_value) for o in reply.request_headers.response.header_mutation.set_headers] == [
        ("x-contact", b"[REDACTED:EMAIL]")]
    assert reply.mode_override.request_body_mode == NONE and not exchange.done


@pytest.mark.parametrize(("content_type", "split", "restored"), [
    ("application/json", False, b'{"a": "sent to jane@example.com"}\n'),
    ("application/x-ndjson", True, b'{"a":"sent to jane@example.com"}\n'),  # a rewritten stream line is compact JSON
])
def test_tokens_made_on_the_request_are_restored_in_its_response(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content_type: str, split: bool, restored: bytes,
) -> None:
    """An LLM-egress shape: the vendor sees a token, the client gets its e-mail back (whole or streamed)."""
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    policy = tmp_path / "policy.yaml"
    policy.write_text(RESTORE_POLICY)
    exchange = Exchange(load_policy(policy), Options())
    sent = b'{"q": "mail jane@example.com"}\n'
    exchange.handle(headers("request", [*REQUEST, ("content-type", "application/json"),
                                        ("content-length", str(len(sent)))]))
    upstream_got = chunk_text_of(exchange.handle(body("request", sent, True)), "request")
    assert upstream_got is not None and b"jane" not in upstream_got
    token = upstream_got.split(b"mail ")[1].split(b'"')[0]
    reply = b'{"a": "sent to ' + token + b'"}\n'
    pairs = [(":status", "200"), ("content-type", content_type)] + ([] if split else [("content-length", str(len(reply)))])
    exchange.handle(headers("response", pairs))
    if split:  # the token cut in two chunks: held until whole, then restored
        first = chunk_text_of(exchange.handle(body("response", reply[:20], False)), "response")
        rest = chunk_text_of(exchange.handle(body("response", reply[20:], True)), "response")
        client_got = (first or b"") + (rest or b"")
    else:
        client_got = chunk_text_of(exchange.handle(body("response", reply, True)), "response") or b""
    assert client_got == restored


def chunk_text_of(reply: ProcessingResponse, direction: str) -> bytes | None:
    common = (reply.request_body if direction == "request" else reply.response_body).response
    return common.body_mutation.body if common.HasField("body_mutation") else None


BIG_PNG = PNG_HEAD * 4096  # 1 MiB
BIG_DOC = b'{"e": "jane@example.com", "pad": "' + b"x" * 200 + b'"}'


@pytest.mark.parametrize(("content_type", "sent", "status", "upstream_saw"), [
    ("image/png", BIG_PNG, 200, BIG_PNG),  # an upload far over Envoy's buffer: byte for byte
    ("image/png", BIG_DOC, 413, None),  # a document over Envoy's buffer: veil's error, not Envoy's
    ("application/json", BIG_DOC, 413, None),  # near miss: a declared document over veil's limit
    ("image/png", DOC, 200, REDACTED),  # within the buffer: read and redacted
])
def test_envoy_with_a_small_buffer_passes_large_binary_and_refuses_what_it_cannot_read(
    content_type: str, sent: bytes, status: int, upstream_saw: bytes | None,
) -> None:
    """The in-process driver with Envoy's buffer far below the upload (the real Envoy: test_envoy_binary.py)."""
    big_limit = plan(limits={"max_body_bytes": 4 * len(BIG_PNG)}) if content_type == "image/png" else plan()
    outcome = exchange_like(big_limit, "PUT", "/v1/photos", content_type, sent, lambda got: (got, content_type),
                            buffer_limit=128)
    assert (outcome.status, outcome.upstream_saw) == (status, upstream_saw)
    if status == 200:  # the reply (the upstream echoes it) comes back the same way
        assert outcome.body == upstream_saw
    else:
        assert outcome.body == b'{"error":"veil_redaction_failed","reason":"body_too_large","direction":"request"}'


# -- bodies that end in trailers: Envoy sends them without end_of_stream (issue 17) -------------------------

TEXT = b"write to jane@example.com today"
TEXT_REDACTED = b"write to [REDACTED:EMAIL] today"


@pytest.mark.parametrize(("content_type", "sent", "declares", "status", "client"), [
    ("application/octet-stream", TEXT, True, 200, TEXT_REDACTED),  # whole, its trailers next
    ("", TEXT, True, 200, TEXT_REDACTED),  # no type
    ("application/json", DOC, True, 200, REDACTED),  # a document of unknown length
    ("image/png", PNG_HEAD * 4, True, 200, PNG_HEAD * 4),  # binary head, over both limits: passes as it came
    ("application/octet-stream", TEXT, False, 502, None),  # near miss: no buffer declared, it may be cut
    ("application/octet-stream", TEXT * 3, True, 502, None),  # whole but over veil's limit (64)
    ("application/octet-stream", TEXT * 5, True, 502, None),  # over Envoy's buffer (128) too: cut there
    ("application/json", DOC + b" " * 200, True, 502, None),
])
def test_chunked_reply_ending_in_trailers_is_whole_within_the_declared_buffer(
    content_type: str, sent: bytes, declares: bool, status: int, client: bytes | None,
) -> None:
    outcome = exchange_like(plan(), "GET", "/v1/export", "text/plain", b"", lambda _: (sent, content_type),
                            buffer_limit=128, trailers=True, declares_buffer=declares, reply_length=False)
    assert outcome.status == status
    if client is not None:
        assert outcome.body == client
    else:
        assert outcome.body == b'{"error":"veil_redaction_failed","reason":"body_too_large","direction":"response"}'


def test_document_of_declared_length_ending_in_trailers_is_redacted() -> None:
    """BUFFERED: Envoy answers 413 itself rather than cut, so no buffer needs declaring."""
    outcome = exchange_like(plan(), "GET", "/v1/me", "text/plain", b"", lambda _: (DOC, "application/json"),
                            trailers=True)
    assert (outcome.status, outcome.body) == (200, REDACTED)


def configured(message: ProcessingRequest, static: int) -> ProcessingRequest:
    """``message`` as a stream's first: with the filter's own body modes."""
    message.protocol_config.CopyFrom(ProtocolConfiguration(request_body_mode=static, response_body_mode=static))
    return message


@pytest.mark.parametrize(("static", "whole"), [
    (NONE, True),  # the example's: a body came, so the override was honoured
    (BUFFERED_PARTIAL, True),
    (STREAMED, False),  # the override may have been ignored: a first chunk looks the same
])
def test_a_message_is_whole_before_its_trailers_only_where_no_chunks_can_come(static: int, whole: bool) -> None:
    exchange = Exchange(plan(), Options(), buffer_limit=128)
    exchange.handle(configured(headers("request", [*REQUEST, ("content-type", "application/octet-stream")]), static))
    reply = exchange.handle(body("request", TEXT, False))
    if not whole:
        assert reply.immediate_response.status.code == 413 and exchange.done
        return
    assert chunk_text_of(reply, "request") == TEXT_REDACTED
    who = HeaderMap(headers=[HeaderValue(key="x-who", raw_value=b"jane@example.com")])
    reply = exchange.handle(ProcessingRequest(request_trailers=HttpTrailers(trailers=who)))
    assert [(o.header.key, o.header.raw_value) for o in reply.request_trailers.header_mutation.set_headers] == [
        ("x-who", b"[REDACTED:EMAIL]")]


@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/json"])
def test_a_chunk_after_a_body_read_whole_is_refused_not_passed(content_type: str) -> None:
    exchange = Exchange(plan(), Options(), buffer_limit=128)
    exchange.handle(configured(headers("request", [*REQUEST, ("content-type", content_type)]), NONE))
    assert chunk_text_of(exchange.handle(body("request", DOC, False)), "request") == REDACTED
    reply = exchange.handle(body("request", b'{"e": "john@example.com"}', True))
    assert reply.immediate_response.status.code == 400 and exchange.done
    assert b"body_mode_refused" in reply.immediate_response.body


@pytest.mark.parametrize("where", ["redact_body", "redact_headers"])
def test_an_engine_error_is_an_internal_error_refusal_that_never_logs_the_payload(
    where: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """What :func:`veil.http.engine_errors` guarantees, on the ext_proc path: refused (400), its message unlogged."""
    quoted = "invalid literal: 'jane@example.com'"  # a parser's message quoting the input

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError(quoted)

    exchange = Exchange(plan(), Options())
    monkeypatch.setattr(exchange.plan, where, broken)
    pairs = [*REQUEST, ("content-type", "text/plain"), ("content-length", "21")]
    reply = exchange.handle(headers("request", pairs))
    if where == "redact_body":
        reply = exchange.handle(body("request", b"mail jane@example.com", True))
    assert reply.immediate_response.status.code == 400 and exchange.done
    assert b"internal_error" in reply.immediate_response.body
    assert "ValueError" in caplog.text and "jane@example.com" not in caplog.text
