"""Bodies behind a lying or missing Content-Type (issue #15): JSON, NDJSON and urlencoded
forms are redacted as what they are; binary content stays untouched, byte for byte."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil import Route, compile_policy, default_plan
from veil.rules.media import sniff_body, sniff_head

PLAN = default_plan()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"jane@example.com"
PROTOBUF = b"\x0a\x10jane@example.com\x10\x2a"  # field 1: a string, field 2: 42


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


