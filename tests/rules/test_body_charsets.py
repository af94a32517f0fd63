"""How bodies are decoded: a UTF-8 byte order mark on declared JSON, and text in any charset Python knows.

Expected outputs are written from the input text, encoded here by Python's codecs, never by veil.
"""

from __future__ import annotations

import pytest

import veil
from veil.errors import RedactionError
from veil.rules.plan_types import Route
from veil.rules.stream_redact import StreamRedactor
from veil.rules.streaming import LineRedactor

PLAN = veil.default_plan()
BOM = b"\xef\xbb\xbf"
DOC = b'{"email":"jane@example.com"}'
DOC_REDACTED = b'{"email":"[REDACTED:EMAIL]"}'


def _redact(body: bytes, content_type: str) -> bytes | str:
    """The output, or the reason and message of the refusal."""
    try:
        return PLAN.redact_body(body, content_type, Route("request")).output
    except RedactionError as exc:
        return f"{exc.reason}: {exc}"


# -- a UTF-8 byte order mark on a body declared JSON (.NET, PowerShell, Windows tools write one) ------------

@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", BOM + DOC, BOM + DOC_REDACTED),  # was invalid_json: "BOM is not supported"
        ("application/json; charset=utf-8", BOM + DOC, BOM + DOC_REDACTED),
        ("application/vnd.api+json", BOM + DOC, BOM + DOC_REDACTED),
        ("text/json", BOM + b' \r\n' + DOC, BOM + b" \r\n" + DOC_REDACTED),
        ("application/x-ndjson", BOM + DOC + b"\n" + DOC + b"\n", BOM + DOC_REDACTED + b"\n" + DOC_REDACTED + b"\n"),
        ("application/json-seq", BOM + b"\x1e" + DOC + b"\n", BOM + b"\x1e" + DOC_REDACTED + b"\n"),
        ("application/json", "\ufeff".encode("utf-16-le") + DOC.decode().encode("utf-16-le"),  # UTF-16 with its mark
         "\ufeff".encode("utf-16-le") + DOC_REDACTED.decode().encode("utf-16-le")),
        # near misses
        ("application/json", BOM + b'{"n":1}', BOM + b'{"n":1}'),  # nothing to redact: the same bytes
        ("application/json", DOC, DOC_REDACTED),  # no mark
        ("application/json", BOM + BOM + DOC, "invalid_json"),  # json.loads refuses a second mark too
        ("application/json", BOM + b'{"email":', "invalid_json"),  # a mark, then no JSON
        ("application/json", BOM + b'{"n":"\xff"}', "invalid_json"),  # a mark, then no UTF-8
        ("application/json", b' ' + BOM + DOC, "invalid_json"),  # a mark elsewhere is no mark
    ],
)
def test_declared_json_with_a_byte_order_mark_is_redacted_and_keeps_it(content_type: str, body: bytes,
                                                                       expected: bytes | str) -> None:
    out = _redact(body, content_type)
    if isinstance(expected, str):
        assert isinstance(out, str) and out.startswith(expected + ":"), out
        assert "jane" not in out
    else:
        assert out == expected


@pytest.mark.parametrize("redactor", [LineRedactor, StreamRedactor])
def test_a_streamed_ndjson_body_with_a_byte_order_mark_is_redacted_and_keeps_it(redactor: type[LineRedactor]) -> None:
    stream = redactor(PLAN, Route("response"), "ndjson")
    out = stream.feed(BOM + DOC + b"\n" + DOC[:9]) + stream.feed(DOC[9:] + b"\n") + stream.close()
    assert out == BOM + DOC_REDACTED + b"\n" + DOC_REDACTED + b"\n"


SSE_EVENT = b'data: {"password":"hunter2","n":1}\n\n'
SSE_REDACTED = b'data: {"password":"[REDACTED:SECRET]","n":1}\n\n'


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        # the first event's field rules did not apply: '\ufeffdata' was no data field (EventSource skips the mark)
        ((BOM + SSE_EVENT,), BOM + SSE_REDACTED),
        ((BOM[:1], BOM[1:2], BOM[2:] + SSE_EVENT[:7], SSE_EVENT[7:]), BOM + SSE_REDACTED),  # the mark cut by chunks
        ((BOM + SSE_EVENT + SSE_EVENT,), BOM + SSE_REDACTED + SSE_REDACTED),
        # near misses: no mark, and a mark that does not open the stream (passed on as the line's text)
        ((SSE_EVENT,), SSE_REDACTED),
        ((SSE_EVENT, BOM + b": note\n\n"), SSE_REDACTED + BOM + b": note\n\n"),
    ],
)
@pytest.mark.parametrize("redactor", [LineRedactor, StreamRedactor])
def test_an_sse_stream_opening_with_a_byte_order_mark_is_read_as_eventsource_reads_it(
        redactor: type[LineRedactor], chunks: tuple[bytes, ...], expected: bytes) -> None:
    stream = redactor(PLAN, Route("response"), "sse")
    assert b"".join(stream.feed(chunk) for chunk in chunks) + stream.close() == expected


def test_a_value_split_over_a_marked_first_ndjson_delta_and_the_next_is_redacted() -> None:
    stream = StreamRedactor(PLAN, Route("response"), "ndjson")
    lines = (BOM + b'{"delta":{"text":"mail jane@exa"}}\n', b'{"delta":{"text":"mple.com now"}}\n')
    out = b"".join(stream.feed(line) for line in lines) + stream.close()
    assert out.startswith(BOM) and b"jane" not in out and b"mple.com" not in out
    assert b"[REDACTED:EMAIL]" in out


def test_a_whole_sse_body_opening_with_a_byte_order_mark_is_redacted() -> None:
    assert _redact(BOM + SSE_EVENT, "text/event-stream") == BOM + SSE_REDACTED


# -- text in a charset Python knows: decoded by it, redacted, written back in it -----------------------------

CJK = {  # charset: a word in it (mail), so that its multibyte characters sit next to the address
    "gbk": "邮件", "gb18030": "邮件", "gb2312": "邮件", "big5": "郵件", "shift_jis": "メール", "cp932": "メール",
    "euc-jp": "メール", "euc-kr": "메일", "iso-2022-jp": "メール", "utf-16": "メール", "cp037": "mail",
}


@pytest.mark.parametrize("charset", sorted(CJK))
def test_text_in_a_multibyte_charset_is_redacted_in_it(charset: str) -> None:
    body = f"{CJK[charset]} jane@example.com\n{CJK[charset]}".encode(charset)
    expected = f"{CJK[charset]} [REDACTED:EMAIL]\n{CJK[charset]}".encode(charset)
    assert _redact(body, f"text/plain; charset={charset.upper()}") == expected


@pytest.mark.parametrize("charset", ["shift_jis", "gbk", "big5", "iso-2022-jp", "utf-16"])
def test_text_in_a_multibyte_charset_with_nothing_to_redact_keeps_its_bytes(charset: str) -> None:
    body = f"{CJK[charset]} 123 {CJK[charset]}".encode(charset)
    assert _redact(body, f"text/html; charset={charset}") == body


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain; charset=x-foo", b"mail jane@example.com", "bad_encoding: unknown charset 'x-foo'"),
        ("text/plain; charset=X-Foo", b"hello", "bad_encoding: unknown charset 'x-foo'"),
        ("text/plain; charset=base64", b"aGVsbG8=", "bad_encoding: unknown charset base64"),  # a codec, no charset
        # a name not shaped like one is not quoted: the sender wrote it
        ("text/plain; charset=jane@example.com", b"hello", "bad_encoding: unknown charset (name not shown)"),
        ("text/plain; charset=x-123-45-6789-4111", b"hello", "bad_encoding: unknown charset (name not shown)"),
        ("text/plain; charset=gbk", b"mail \x81 jane@example.com", "bad_encoding: body is not valid gbk at byte 5"),
        ("text/plain; charset=Shift_JIS", "メール".encode("shift_jis") + b"\xa0\xff",
         "bad_encoding: body is not valid shift_jis at byte 6"),
        ("text/plain; charset=utf-8", b"mail \xff", "bad_encoding: body is not valid utf-8 at byte 5"),
        # ASCII bytes under a charset that reads them as other text: the app ignoring it reads the address
        ("text/plain; charset=utf-16", b"mail jane@example.com", "bad_encoding: body in utf-16 has no byte order mark"),
        ("text/plain; charset=utf-16", b"\xff\xfe" + b"mail jane@example.com!",
         "bad_encoding: body in utf-16 holds, read byte by byte as ASCII, text veil redacts"),
        ("text/plain; charset=cp037", b"mail jane@example.com", "bad_encoding: body in cp037 holds"),
        ("text/plain; charset=utf-8; charset=gbk", b"hello", "bad_encoding: body's charset is given twice"),
        # near misses
        ("text/plain; charset=utf-16-le", "mail jane@example.com".encode("utf-16-le"),
         "mail [REDACTED:EMAIL]".encode("utf-16-le")),  # an explicit byte order needs no mark
        ("text/plain; charset=utf-16", "mail jane@example.com".encode("utf-16-be") and
         b"\xfe\xff" + "mail jane@example.com".encode("utf-16-be"),
         b"\xfe\xff" + "mail [REDACTED:EMAIL]".encode("utf-16-be")),  # the mark's order is written back
        ("text/plain; charset=iso-8859-1", "café jane@example.com".encode("latin-1"),
         "café [REDACTED:EMAIL]".encode("latin-1")),
        ("text/plain; charset=shift_jis", "表 jane@example.com".encode("shift_jis"),  # 表 ends in 0x5c ('\\')
         "表 [REDACTED:EMAIL]".encode("shift_jis")),
    ],
)
def test_charset_errors_name_the_charset_and_where(content_type: str, body: bytes, expected: bytes | str) -> None:
    out = _redact(body, content_type)
    if isinstance(expected, str):
        assert isinstance(out, str) and out.startswith(expected), out
        assert "jane" not in out and "6789" not in out
    else:
        assert out == expected


# -- forms and JSON with such a charset ---------------------------------------------------------------------

GBK_NAME = "%D5%C5%C8%FD"  # 张三 in GBK, percent-encoded


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        # a value with GBK text and an address: rewritten in GBK (was: its GBK bytes became U+FFFD, in UTF-8)
        ("application/x-www-form-urlencoded; charset=GBK", f"name={GBK_NAME}+jane%40example.com&n=1".encode(),
         f"name={GBK_NAME}+[REDACTED:EMAIL]&n=1".encode()),
        ("application/x-www-form-urlencoded; charset=shift_jis", b"q=%95%5C+jane%40example.com",
         b"q=%95%5C+[REDACTED:EMAIL]"),
        ("application/x-www-form-urlencoded; charset=x-foo", b"n=1", "bad_encoding: unknown charset 'x-foo'"),
        ("application/x-www-form-urlencoded; charset=utf-16", b"n=%6A%61%6E%65%40example.com",
         "bad_encoding: form in utf-16 holds"),  # read as UTF-16 it is CJK; a framework reading UTF-8 sees the address
        # near misses
        ("application/x-www-form-urlencoded; charset=GBK", f"name={GBK_NAME}&n=1".encode(), f"name={GBK_NAME}&n=1".encode()),
        ("application/x-www-form-urlencoded", b"name=%E5%BC%A0+jane%40example.com",
         b"name=%E5%BC%A0+[REDACTED:EMAIL]"),
        # JSON is UTF-8 whatever its charset parameter says (RFC 8259 8.1, 11): as its readers read it
        ("application/json; charset=gbk", b'{"n":"jane@example.com"}', b'{"n":"[REDACTED:EMAIL]"}'),
        ("application/json; charset=gbk", '{"n":"邮件 jane@example.com"}'.encode("gbk"), "invalid_json"),
        ("application/json; charset=x-foo", b'{"n":"jane@example.com"}', b'{"n":"[REDACTED:EMAIL]"}'),
    ],
)
def test_forms_and_json_with_a_charset(content_type: str, body: bytes, expected: bytes | str) -> None:
    out = _redact(body, content_type)
    if isinstance(expected, str):
        assert isinstance(out, str) and out.startswith(expected), out
    else:
        assert out == expected


def _multipart(part_type: str, content: bytes) -> bytes:
    return (b'--B\r\nContent-Disposition: form-data; name="note"\r\nContent-Type: ' + part_type.encode()
            + b"\r\n\r\n" + content + b"\r\n--B--\r\n")


@pytest.mark.parametrize(
    ("part_type", "content", "expected"),
    [
        ("text/plain; charset=shift_jis", "メール jane@example.com".encode("shift_jis"),
         "メール [REDACTED:EMAIL]".encode("shift_jis")),
        ("text/plain; charset=gbk", "邮件 jane@example.com".encode("gbk"), "邮件 [REDACTED:EMAIL]".encode("gbk")),
        ("text/plain; charset=utf-16", "mail jane@example.com".encode("utf-16"), "mail [REDACTED:EMAIL]".encode("utf-16")),
        ("text/plain; charset=cp037", b"jane@example.com", None),  # EBCDIC to veil, an address to a parser
        ("text/plain; charset=x-foo", b"hello", None),
        # near miss
        ("text/plain; charset=utf-8", b"mail jane@example.com", b"mail [REDACTED:EMAIL]"),
    ],
)
def test_multipart_field_parts_in_a_charset(part_type: str, content: bytes, expected: bytes | None) -> None:
    out = _redact(_multipart(part_type, content), "multipart/form-data; boundary=B")
    if expected is None:
        assert isinstance(out, str) and out.startswith("bad_encoding"), out
        assert "jane" not in out
    else:
        assert out == _multipart(part_type, expected)
