"""``veil apply`` gives the bytes the plan (and the adapters) give for a body of the same type.

Line by line only where that is the same: NDJSON and text in UTF-8 or an ASCII-compatible charset. An
RFC 7464 JSON text sequence (RS-led records), and text in UTF-16 or ISO-2022-JP, are read whole. An event
stream (SSE) is fed line by line to one stream redactor, as the adapters redact a streamed reply.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import veil

RS = b"\x1e"
BOM = b"\xef\xbb\xbf"
DOC = b'{"email":"jane@example.com"}'
DOC_REDACTED = b'{"email":"[REDACTED:EMAIL]"}'


@pytest.mark.parametrize(
    ("content_type", "stdin", "expected"),
    [
        # was: -:1: body is not valid JSON (unexpected character ... column 1): each line was read as JSON
        ("application/json-seq", RS + DOC + b"\n", RS + DOC_REDACTED + b"\n"),
        ("application/json-seq", RS + DOC + b"\n" + RS + b'{"n":1}\n', RS + DOC_REDACTED + b"\n" + RS + b'{"n":1}\n'),
        ("application/geo+json-seq", RS + DOC + b"\n", RS + DOC_REDACTED + b"\n"),
        # a UTF-8 byte order mark on JSON (was: BOM is not supported), kept
        ("application/x-ndjson", BOM + DOC + b"\n" + DOC + b"\n", BOM + DOC_REDACTED + b"\n" + DOC_REDACTED + b"\n"),
        ("application/json", BOM + DOC, BOM + DOC_REDACTED),
        # text in a charset that is not ASCII-compatible (was: body is not valid <unknown charset>)
        ("text/plain; charset=gbk", "邮件 jane@example.com\n邮件\n".encode("gbk"), "邮件 [REDACTED:EMAIL]\n邮件\n".encode("gbk")),
        ("text/plain; charset=utf-16", "mail jane@example.com\nmail\n".encode("utf-16"),  # one mark for the body
         "mail [REDACTED:EMAIL]\nmail\n".encode("utf-16")),
        # an event stream through one stream redactor (each line was its own stream, issue 15): a JSON
        # document spread over data lines (its field names classify) and an address split over text deltas
        ("text/event-stream", b'data: {"password":\ndata: "hunter2", "n": 1}\n\n',
         b'data: {"password":\ndata: "[REDACTED:SECRET]", "n": 1}\n\n'),
        ("text/event-stream", (b'data: {"delta": {"content": "write to ja"}}\n\n'
                               b'data: {"delta": {"content": "ne@example.com today"}}\n\ndata: [DONE]\n\n'),
         (b'data: {"delta":{"content":"write to [REDACTED:EMAIL]"}}\n\n'
          b'data: {"delta":{"content":" today"}}\n\ndata: [DONE]\n\n')),
        ("text/event-stream", b'id: jane@example.com\ndata: {"n": 1}\n\n',  # near-miss: one line each, as before
         b'id: [REDACTED:EMAIL]\ndata: {"n": 1}\n\n'),
        # near misses: the line-by-line paths as they were
        ("application/x-ndjson", DOC + b"\n" + b'{"n":1}\n', DOC_REDACTED + b"\n" + b'{"n":1}\n'),
        ("text/plain", b"mail jane@example.com\nmail\n", b"mail [REDACTED:EMAIL]\nmail\n"),
        ("text/plain; charset=iso-8859-1", "café jane@example.com\n".encode("latin-1"),
         "café [REDACTED:EMAIL]\n".encode("latin-1")),
    ],
)
def test_apply_gives_what_the_plan_gives_for_the_type(content_type: str, stdin: bytes, expected: bytes) -> None:
    proc = veil("apply", "-t", content_type, "-", stdin=stdin)
    assert (proc.returncode, proc.stdout) == (0, expected), proc.stderr.decode()


@pytest.mark.parametrize(
    ("content_type", "stdin", "message"),
    [
        ("application/json-seq", RS + DOC + b"\n" + RS + b'{"email":"jane@example.com"\n', "line 2: body is not valid JSON"),
        ("text/plain; charset=x-foo", b"mail jane@example.com\n", "unknown charset 'x-foo'"),
        ("text/plain; charset=utf-16", b"mail jane@example.com\n", "no byte order mark"),
    ],
)
def test_apply_refuses_naming_where_never_the_payload(content_type: str, stdin: bytes, message: str) -> None:
    proc = veil("apply", "-t", content_type, "-", stdin=stdin)
    assert proc.returncode == 1 and proc.stdout == b""
    assert message in proc.stderr.decode() and b"jane" not in proc.stderr and b"Traceback" not in proc.stderr


SPREAD_EVENT = b'event: m\ndata: {"password":\ndata: "hunter2x", "n": 1}\n\n'


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        # No -t and no extension: an input opening as an event stream is one (was: plain text, so the
        # JSON spread over data lines lost its field name and "hunter2x" crossed).
        (SPREAD_EVENT, b'event: m\ndata: {"password":\ndata: "[REDACTED:SECRET]", "n": 1}\n\n'),
        (b"\n" + SPREAD_EVENT, b'\nevent: m\ndata: {"password":\ndata: "[REDACTED:SECRET]", "n": 1}\n\n'),
        (BOM + b'data: {"password":\ndata: "hunter2x"}\n\n', BOM + b'data: {"password":\ndata: "[REDACTED:SECRET]"}\n\n'),
        # near misses: text whose first word only starts like a field name stays text
        (b'database: {"password":\ndata: "hunter2x"}\n', b'database: {"password":\ndata: "hunter2x"}\n'),
        (b"identity: jane@example.com\n", b"identity: [REDACTED:EMAIL]\n"),
    ],
)
def test_apply_without_a_type_reads_an_event_stream_as_one(stdin: bytes, expected: bytes) -> None:
    proc = veil("apply", "-", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected


def test_apply_reads_an_sse_file_as_an_event_stream(tmp_path: Path) -> None:
    path = tmp_path / "events.sse"
    path.write_bytes(SPREAD_EVENT)
    proc = veil("apply", str(path))
    assert proc.returncode == 0 and b"hunter2x" not in proc.stdout, proc.stdout
