"""Bodies labelled with a type veil knows to be binary (issue #15: "sniff JSON/NDJSON/form content behind
a lying type"). A JSON document labelled ``image/png`` crossed every adapter unread, and ``veil apply -t
application/pdf``. Now a binary head still passes unread; a text head has the body read, and only a whole
JSON, NDJSON or form document is redacted; anything else keeps its bytes under its label (not refused as a
vague body's would be: rewriting inside a binary format corrupts it)."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from veil import Route, default_plan
from veil.cli import main
from veil.errors import RedactionError
from veil.http import Options, SniffedStream, may_be_text, redact_buffered
from veil.http.exchange import Chunk, Exchanges, Start
from veil.rules.compiler import compile_policy

PLAN = default_plan()
LABELS = ("image/png", "application/pdf", "application/grpc", "font/woff2", "application/zip", "audio/mpeg")
JSON_DOC = b'{"email": "jane@example.com", "n": 1}'
JSON_REDACTED = b'{"email": "[REDACTED:EMAIL]", "n": 1}'
NDJSON_DOC = b'{"email": "jane@example.com"}\n{"n": 2}\n'
NDJSON_REDACTED = b'{"email": "[REDACTED:EMAIL]"}\n{"n": 2}\n'
FORM_DOC = b"email=jane%40example.com&page=2"
FORM_REDACTED = b"email=[REDACTED:EMAIL]&page=2"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b'{"email": "jane@example.com"}'
GZIP = gzip.compress(JSON_DOC, mtime=0)  # without Content-Encoding: a .json.gz file, bytes on their own
ASCII_PDF = b"%PDF-1.4\n1 0 obj << /Author (jane@example.com) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ASCII_PROTOBUF = b'" ' + b"write to jane@example.com today!"  # field 4, 32 bytes: every byte printable
TEXT_THEN_NUL = b'{"email": "jane@example.com", "pad": "' + b"x" * 600 + b'"}\x00'  # NUL past the head
PDF_THEN_BINARY = ASCII_PDF + b"% " + b"x" * 600 + b"\nstream\n\x00\x01\xff\xfe\nendstream\n"  # text head, binary past it
JSON_THEN_NUL = JSON_DOC + b"\x00"  # a whole document, then a NUL inside the head
BOM = b"\xef\xbb\xbf"
WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")  # no byte order mark: json.detect_encoding's NULs
PLAYLIST = b"[playlist]\nNumberOfEntries=1\nFile1=http://example.com/stream\n"  # audio/x-scpls
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x01" * 40
GRPC = b"\x00\x00\x00\x00\x13" + b"\n\x11jane@example.com"


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize(
    ("body", "kind", "expected"),
    [
        (JSON_DOC, "json", JSON_REDACTED),
        (b"  [" + JSON_DOC + b"]\n", "json", b"  [" + JSON_REDACTED + b"]\n"),
        (NDJSON_DOC, "ndjson", NDJSON_REDACTED),
        (FORM_DOC, "form", FORM_REDACTED),
        # near-misses: each keeps its bytes and its label
        (PNG, "binary", PNG),
        (GZIP, "binary", GZIP),
        (ASCII_PDF, "binary", ASCII_PDF),  # text, not a document: the e-mail stays (the documented trade-off)
        (ASCII_PROTOBUF, "binary", ASCII_PROTOBUF),
        (PDF_THEN_BINARY, "binary", PDF_THEN_BINARY),  # a text head, binary past it: its label stands
        (b"mail jane@example.com", "binary", b"mail jane@example.com"),
        # review of the sniffing: what Python's json.loads(bytes) reads as JSON is redacted as JSON
        (BOM + JSON_DOC, "json", BOM + JSON_REDACTED),  # a UTF-8 byte order mark, kept
        (b'"jane@example.com"', "json", b'"[REDACTED:EMAIL]"'),  # a lone JSON string
        (b' "jane\\u0040example.com"\n', "json", b'"[REDACTED:EMAIL]"'),
        *((JSON_DOC.decode().encode(codec), "json", JSON_REDACTED.decode().encode(codec)) for codec in WIDE),
        # near-misses: text formats under audio/video labels open with '[' but not as JSON does
        (PLAYLIST, "binary", PLAYLIST),
        (b"[Reference]\nRef1=http://example.com/a.asf\n", "binary", b"[Reference]\nRef1=http://example.com/a.asf\n"),
        (b"[truth] is out there", "binary", b"[truth] is out there"),
        (b'"jane@example.com', "binary", b'"jane@example.com'),  # a string never closed: no JSON reader takes it
        (MP4, "binary", MP4),  # opens with NULs (the UTF-32-BE pattern), does not decode so
        (GRPC, "binary", GRPC),
    ],
)
def test_a_body_labelled_binary_is_redacted_only_as_a_mislabelled_document(
    label: str, body: bytes, kind: str, expected: bytes
) -> None:
    result = PLAN.redact_body(body, label, Route("response"))
    assert (result.output, result.kind) == (expected, kind)


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("body", [
    TEXT_THEN_NUL, b'{"email": "jane@example.com"', b'  [{"email": "jane@example.com"} x',
    JSON_THEN_NUL, b'[{"email": "jane@example.com"}]\x00\x01', BOM + JSON_DOC + b"\x00", b'[ true, "jane@example.com"',
])
def test_a_body_labelled_binary_that_opens_like_json_and_is_none_is_refused(label: str, body: bytes) -> None:
    """No format veil knows to be binary opens with '{' or '[' in text: a document padded with a NUL
    past its head, or cut short, must not cross unread because its label says image/png."""
    with pytest.raises(RedactionError) as info:
        PLAN.redact_body(body, label, Route("response"))
    assert info.value.reason == "invalid_json" and "jane" not in str(info.value)


@pytest.mark.parametrize(("label", "reason"), [("application/octet-stream", "bad_encoding"),
                                               ("image/png", "invalid_json")])
def test_a_document_padded_with_a_nul_past_its_head_never_crosses(label: str, reason: str) -> None:
    """The adapters' shared path, under a vague label and under a binary one."""
    with pytest.raises(RedactionError) as info:
        redact_buffered(PLAN, Route("response"), TEXT_THEN_NUL, label, "", Options())
    assert info.value.reason == reason


def test_text_turning_binary_past_its_head_passes_under_a_binary_label() -> None:
    """Near-miss of the above: an uncompressed PDF (text head, binary stream further on) keeps its bytes,
    where the same bytes under a vague label fail as bad_encoding."""
    out, _, outcome = redact_buffered(PLAN, Route("response"), PDF_THEN_BINARY, "application/pdf", "", Options())
    assert (out, outcome) == (PDF_THEN_BINARY, "skipped")
    with pytest.raises(RedactionError):
        redact_buffered(PLAN, Route("response"), PDF_THEN_BINARY, "application/octet-stream", "", Options())


@pytest.mark.parametrize(("encoding", "body"), [("", JSON_DOC), ("gzip", gzip.compress(JSON_DOC, mtime=0))])
def test_a_json_document_labelled_image_png_is_redacted_in_its_content_encoding(encoding: str, body: bytes) -> None:
    out, _, outcome = redact_buffered(PLAN, Route("response", content_type="image/png"), body, "image/png",
                                      encoding, Options())
    assert outcome == "rewritten"
    assert (gzip.decompress(out) if encoding else out) == JSON_REDACTED


def test_a_utf16_json_document_labelled_binary_is_redacted_in_utf16() -> None:
    body = b"\xff\xfe" + JSON_DOC.decode().encode("utf-16-le")
    out, _, outcome = redact_buffered(PLAN, Route("response"), body, "application/pdf", "", Options())
    assert (outcome, out) == ("rewritten", b"\xff\xfe" + JSON_REDACTED.decode().encode("utf-16-le"))


def _stream(label: str, limit: int = 4096) -> SniffedStream:
    return SniffedStream(PLAN, Route("response", content_type=label), label, "", Options(), "test", limit)


def test_a_streamed_document_labelled_binary_is_held_and_redacted() -> None:
    stream = _stream("image/png")
    assert stream.step(JSON_DOC[:10], last=False) == b""  # text so far: held
    assert stream.step(JSON_DOC[10:], last=False) == b""
    assert stream.step(b"", last=True) == JSON_REDACTED


def test_a_streamed_binary_body_passes_from_its_first_bytes() -> None:
    """A gRPC stream's first frame (flag byte 0) is not held until 512 bytes arrived."""
    stream = _stream("application/grpc")
    frame = b"\x00\x00\x00\x00\x05hello"
    assert stream.step(frame, last=False) == frame
    assert stream.mode == "pass"


@pytest.mark.parametrize(("first", "mode"), [(b"\x00\x00\x00", "sniff"),  # 3 bytes could start a UTF-32 mark
                                             (b"\xff\xfe", "sniff"), (b"\x00\x00\x00\x00", "pass")])
def test_a_stream_is_never_decided_binary_on_a_byte_order_mark_cut_short(first: bytes, mode: str) -> None:
    stream = _stream("application/grpc")
    stream.step(first, last=False)
    assert stream.mode == mode


LIMIT = 600
SMALL = compile_policy(f"version: 1\nlimits: {{max_body_bytes: {LIMIT}}}\nrules:\n  - scan: true\n", source="small")


@pytest.mark.parametrize(("body", "sends_body"), [
    (PDF_THEN_BINARY, False),  # a text head over the limit: body_too_large, as a vague body's
    (PNG + b"\x00" * 1000, True),  # near-miss: binary over the limit streams through
])
def test_over_the_limit_a_text_head_under_a_binary_label_fails_as_a_vague_body_does(
    body: bytes, sends_body: bool
) -> None:
    exchange = Exchanges(SMALL, Options(on_error="block"), "test", logging.getLogger("veil.tests")).open(
        "GET", "example.com", "/r")
    response = exchange.response([("content-type", "image/png")], head_first=False)
    assert response.begin() == []
    sends = [*response.push(body[:300], True), *response.push(body[300:], False)]
    if sends_body:
        assert b"".join(s.data for s in sends if isinstance(s, Chunk)) == body
    else:
        assert response.failed == "body_too_large"
        assert isinstance(sends[0], Start) and sends[0].status == 502


def test_veil_apply_redacts_a_json_file_given_a_binary_type(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(JSON_DOC)
    assert main(["apply", "-t", "image/png", str(path)]) == 0
    assert capsysbinary.readouterr().out == JSON_REDACTED


@pytest.mark.parametrize(("label", "encoding", "body", "passes"), [
    ("image/png", "aes128gcm", PNG, True),  # RFC 8188: veil cannot decode it, the label stands as before sniffing
    ("image/png", "compress", PNG, True),
    ("image/png", "x-custom", PNG, True),
    ("image/png", "gzip", PNG, True),  # labelled gzip, and no gzip: its head does not decode
    ("application/pdf", "x-custom", ASCII_PDF, True),
    # near-misses: a vague type still fails closed, and a document veil can decode is still read
    ("application/octet-stream", "aes128gcm", PNG, False),
    ("application/octet-stream", "gzip", PNG, False),
    ("", "x-custom", JSON_DOC, False),
])
def test_a_binary_label_with_a_coding_veil_cannot_decode_passes_as_it_came(
    label: str, encoding: str, body: bytes, passes: bool,
) -> None:
    assert may_be_text(body[:512], encoding, label) is not passes
    if passes:
        out, _, outcome = redact_buffered(PLAN, Route("response"), body, label, encoding, Options())
        assert (out, outcome) == (body, "skipped")
    else:
        with pytest.raises(RedactionError):
            redact_buffered(PLAN, Route("response"), body, label, encoding, Options())
    stream = SniffedStream(PLAN, Route("response", content_type=label), label, encoding, Options(), "test", 4096)
    assert (stream.step(body, last=True) == body and not stream.failed) is passes
