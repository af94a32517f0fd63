"""Bodies behind a lying or missing Content-Type (issue #15): JSON, NDJSON and urlencoded
forms are redacted as what they are; binary content stays untouched, byte for byte."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil import Route, compile_policy, default_plan
from veil.errors import RedactionError
from veil.rules.media import sniff_body, sniff_head
from veil.rules.stream_redact import StreamRedactor

PLAN = default_plan()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"jane@example.com"
PROTOBUF = b"\x0a\x10jane@example.com\x10\x2a"  # field 1: a string, field 2: 42
BOM = b"\xef\xbb\xbf"
ESCAPED = b'{"email":"jane\\u0040example.com"}'  # text detectors do not see an e-mail in it


@pytest.mark.parametrize("ctype", ["application/octet-stream", "text/plain", "text/plain; charset=utf-8", ""])
@pytest.mark.parametrize(
    ("body", "kind", "expected"),
    [
        (b'{"password": "hunter2", "id": 7}', "json", b'{"password": "[REDACTED:SECRET]", "id": 7}'),
        (b'  [{"ssn": "078-05-1120"}]\n', "json", b'  [{"ssn": "[REDACTED:US_SSN]"}]\n'),
        (b'{"password": "hunter2"}\n{"password": "swordfish"}\n', "ndjson",
         b'{"password": "[REDACTED:SECRET]"}\n{"password": "[REDACTED:SECRET]"}\n'),
        (b"q=shoes&password=hunter2", "form", b"q=shoes&password=[REDACTED:SECRET]"),
        (b"email=jane%40example.com&page=2\n", "form", b"email=[REDACTED:EMAIL]&page=2\n"),
        (b'{"a": 1}', "json", b'{"a": 1}'),  # near-miss: JSON with nothing to redact is kept as it came
        (b"q=shoes&page=2", "form", b"q=shoes&page=2"),
        # what Python's json.loads(bytes) reads as JSON (review of the sniffing): an escape is decoded
        (BOM + ESCAPED, "json", BOM + b'{"email":"[REDACTED:EMAIL]"}'),  # a UTF-8 byte order mark, kept
        (b'"jane\\u0040example.com"', "json", b'"[REDACTED:EMAIL]"'),  # a lone JSON string
        (b"  42\n", "json", b"  42\n"),  # near-miss: a lone number, nothing to redact
        *((ESCAPED.decode().encode(codec), "json", b'{"email":"[REDACTED:EMAIL]"}'.decode().encode(codec))
          for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")),  # no mark: json.detect_encoding's NULs
    ],
)
def test_json_ndjson_and_forms_are_redacted_as_what_they_are(ctype: str, body: bytes, kind: str, expected: bytes) -> None:
    result = PLAN.redact_body(body, ctype, Route("request", "POST"))
    assert (result.kind, result.output) == (kind, expected)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"mail jane@example.com today", "text"),  # UTF-8 text: scanned as text
        (b"password: hunter2 & more = less", "text"),  # spaces: not a form
        (b"https://example.com/?a=b", "text"),  # a URL is not a form body
        (b'{"a": 1', "text"),  # near-miss: JSON cut short is text
        (b'{"a": 1}\nnot json\n', "text"),  # near-miss: one line is not JSON
        (PNG, "binary"),
        (gzip.compress(b'{"email": "jane@example.com"}'), "binary"),
        (PROTOBUF, "binary"),  # valid UTF-8, but control bytes: not text
        (b"\xff\xfejane@example.com", "binary"),  # not UTF-8
        (b"jane@example.com\x00", "binary"),
        (b'"jane@example.com"', "json"),  # any JSON value a parser accepts whole
        (b" -1.5e3 ", "json"),
        (b"null", "json"),
        (b"true story", "text"),  # near-misses: a JSON literal opening text
        (b'"quoted" she said', "text"),
        (b"[playlist]\nFile1=http://example.com/a\n", "text"),
        (b'\x1e{"a": 1}\n\x1e[2]\n', "ndjson"),  # RFC 7464: RS opens each record
        (b"\x1enot json\n", "text"),  # near-misses: RS before text, RS then a NUL
        (b'\x1e{"a": 1}\x00\n', "binary"),
    ],
)
def test_sniff_body(body: bytes, kind: str) -> None:
    assert sniff_body(body) == kind


@pytest.mark.parametrize("body", [PNG, PROTOBUF, gzip.compress(b'{"email": "jane@example.com"}')])
def test_binary_content_behind_a_vague_type_is_untouched(body: bytes) -> None:
    result = PLAN.redact_body(body, "application/octet-stream")
    assert (result.kind, result.output) == ("binary", body)


def test_utf8_text_behind_octet_stream_is_scanned() -> None:
    result = PLAN.redact_body(b"notes: call jane@example.com", "application/octet-stream")
    assert (result.kind, result.output) == ("text", b"notes: call [REDACTED:EMAIL]")


def test_text_plain_that_is_not_utf8_still_fails_as_bad_encoding_not_binary() -> None:
    """A declared text type is never waved through as binary."""
    with pytest.raises(Exception) as info:
        PLAN.redact_body(b"\xff\xfe mail", "text/plain")
    assert getattr(info.value, "reason", None) == "bad_encoding"


def test_sniffed_json_is_matched_by_rules_for_json() -> None:
    """A rule limited to JSON bodies still applies to JSON under another label."""
    plan = compile_policy(
        "version: 1\nrules:\n  - id: r\n    match: {content_types: [application/json]}\n"
        "    fields: [{path: $.note, action: drop}]\n"
    )
    assert plan.redact_body(b'{"note": "x", "k": 1}', "application/octet-stream").output == b'{"k":1}'


@pytest.mark.parametrize(
    ("head", "may_be_text"),
    [
        (b'{"email": "jane@exa', True),
        (b"q=1&email=jane%40", True),
        (b"caf\xc3", True),  # a character cut by the end of the head
        (b"", True),
        (PNG[:16], False),
        (gzip.compress(b"x")[:16], False),
        (PROTOBUF, False),
        (b"\xff\xd8\xff\xe0", False),  # JPEG
        (b"ab\xc3(", False),  # invalid UTF-8 inside the head
        ('{"email": "jane'.encode("utf-16-le"), True),  # UTF-16/32 without a mark, as JSON readers detect it
        ('{"email": "jane'.encode("utf-32-be"), True),
        ('{"email": "jane'.encode("utf-16-le")[:-1], True),  # a code unit cut by the end of the head
        (b"\x00\x00\x00\x18ftypmp42", False),  # near-misses: MP4, a gRPC frame, ICO open with NULs too
        (b"\x00\x00\x00\x00\x05hello", False),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10", False),
        (b'{"email": "jane@example.com"}\x00\x00', True),  # a whole document, then a NUL: read (and refused)
        (b'  [1, 2]\x01', True),
        (b'{"email": "jane@exa\x00', False),  # near-misses: no whole document before the NUL
        (b'[playlist]\x00', False),
        (b'\x1e{"email": "jane', True),  # an RFC 7464 JSON text sequence
        (b"\x1e\x00\x01", False),
    ],
)
def test_sniff_head_tells_adapters_which_bodies_to_read(head: bytes, may_be_text: bool) -> None:
    assert sniff_head(head) is may_be_text


@given(st.binary(max_size=200))
def test_sniffing_arbitrary_bytes_returns_a_kind(body: bytes) -> None:
    kind = sniff_body(body)
    assert kind in {"json", "ndjson", "form", "text", "binary"}
    if kind == "binary":
        assert PLAN.redact_body(body, "application/octet-stream").output == body
    if kind != "binary":
        assert sniff_head(body[:64])


@pytest.mark.parametrize("ctype", ["application/x-amz-json-1.1", "application/yaml", "application/x-json", "application/vnd.foo"])
def test_a_type_veil_has_no_rule_for_is_sniffed(ctype: str) -> None:
    # AWS's JSON APIs label their bodies application/x-amz-json-1.x: on egress they passed unread.
    result = default_plan().redact_body(b'{"email":"jane@example.com"}', ctype)
    assert result.output == b'{"email":"[REDACTED:EMAIL]"}'




SEQ = b'\x1e{"email": "jane@example.com"}\n\x1e{"n": 2}\n'
SEQ_REDACTED = b'\x1e{"email": "[REDACTED:EMAIL]"}\n\x1e{"n": 2}\n'


@pytest.mark.parametrize("ctype", ["application/json-seq", "application/geo+json-seq", "application/octet-stream",
                                   "", "image/png", "application/x-ndjson"])
def test_a_json_text_sequence_is_redacted_record_by_record_its_rs_kept(ctype: str) -> None:
    """RFC 7464: RS (a control byte) opened the head, so it counted as binary and crossed unread."""
    result = PLAN.redact_body(SEQ, ctype, Route("response"))
    assert (result.kind, result.output) == ("ndjson", SEQ_REDACTED)


def test_a_json_text_sequence_is_buffered_not_streamed_line_by_line() -> None:
    from veil.http import stream_kind

    assert [stream_kind(t) for t in ("application/json-seq", "application/geo+json-seq", "application/x-ndjson")] == [
        None, None, "ndjson"]  # near-miss: NDJSON still streams


@pytest.mark.parametrize(("part_type", "content", "expected"), [
    ("image/png", b'\xef\xbb\xbf{"email":"jane@example.com"}', b'\xef\xbb\xbf{"email":"[REDACTED:EMAIL]"}'),
    ("application/octet-stream", '{"email":"jane@example.com"}'.encode("utf-16-le"),
     '{"email":"[REDACTED:EMAIL]"}'.encode("utf-16-le")),
    ("image/png", b'"jane@example.com"', b'"[REDACTED:EMAIL]"'),
    ("image/png", PNG, PNG),  # near-miss: a real image part keeps its bytes
])
def test_a_multipart_part_is_sniffed_as_a_body_is(part_type: str, content: bytes, expected: bytes) -> None:
    def form(data: bytes) -> bytes:
        return (b'--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\nContent-Type: '
                + part_type.encode() + b"\r\n\r\n" + data + b"\r\n--B--\r\n")

    result = PLAN.redact_body(form(content), "multipart/form-data; boundary=B", Route("request", "POST"))
    assert result.output == form(expected)


LONE_SURROGATE = b'{"x": "\\ud800", "email": "hello", "password": "hunter2"}'
"""JSON to Python's json and JavaScript's JSON.parse, not to orjson: it used to be read as text under
any label but JSON's, so its field names did not count and the password crossed (review, issue 13)."""


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "", "application/octet-stream", "text/html",
                                   "image/png", "application/x-ndjson"])
def test_json_only_a_lone_surrogate_keeps_from_orjson_is_refused_under_every_label(ctype: str) -> None:
    with pytest.raises(RedactionError) as refused:
        PLAN.redact_body(LONE_SURROGATE, ctype)
    assert refused.value.reason == "invalid_json"


def test_an_sse_data_line_with_a_lone_surrogate_is_refused_not_read_as_text() -> None:
    redactor = StreamRedactor(PLAN, Route("response"), "sse")
    with pytest.raises(RedactionError):
        redactor.feed(b"data: " + LONE_SURROGATE + b"\n\n")
    done = StreamRedactor(PLAN, Route("response"), "sse")
    assert done.feed(b"data: [DONE]\n\ndata: {not json\n\n") + done.close() == b"data: [DONE]\n\ndata: {not json\n\n"


@pytest.mark.parametrize("body", [b"plain text \\ud800 here", b'{"a": 1} \\ud800', b'"\\ud800" then text'])
def test_text_holding_a_lone_surrogate_escape_is_still_text(body: bytes) -> None:
    assert PLAN.redact_body(body, "text/plain").output == body
