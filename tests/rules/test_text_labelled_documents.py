"""A JSON, NDJSON or form document under a text label (review of issue #15): ``text/html``, XML,
JavaScript, CSV, ``text/plain`` in Latin-1... Only UTF-8 ``text/plain`` was sniffed, so under any other
text label a JSON body was scanned as free text and its field-name rules (``$.password``) were lost.
Such a body is now redacted as the document it is, by the sniffer bodies labelled binary go through,
in its charset, every byte outside a covered value kept; text that is not a whole document stays text."""

from __future__ import annotations

import pytest

from veil import RedactionError, default_plan

PLAN = default_plan()
DOC = b'{"password": "hunter2", "first_name": "Jane", "city": "Leeds"}'
DOC_REDACTED = b'{"password": "[REDACTED:SECRET]", "first_name": "[REDACTED:PERSON_NAME]", "city": "Leeds"}'

TEXT_LABELS = [
    "text/plain; charset=iso-8859-1", "text/plain; charset=windows-1252", "text/html", "text/html; charset=utf-8",
    "application/xml", "text/xml", "text/javascript", "application/javascript", "text/markdown", "text/csv",
    "application/problem+xml", "text/plain; charset=us-ascii", "text/html; charset=shift_jis",
]


@pytest.mark.parametrize("ctype", TEXT_LABELS)
def test_a_json_document_under_a_text_label_gets_its_field_rules(ctype: str) -> None:
    result = PLAN.redact_body(DOC, ctype)
    assert (result.output, result.kind) == (DOC_REDACTED, "json")


@pytest.mark.parametrize(
    ("body", "ctype", "expected"),
    [
        # Latin-1 bytes outside the covered values come back as they were, in Latin-1.
        ('{"password": "p\xe2t\xe9", "note": "Jos\xe9 \xe0 Leeds"}'.encode("latin-1"), "text/html; charset=iso-8859-1",
         '{"password": "[REDACTED:SECRET]", "note": "Jos\xe9 \xe0 Leeds"}'.encode("latin-1")),
        # UTF-16 with its mark: decoded, redacted, written back with the mark.
        (b"\xff\xfe" + DOC.decode().encode("utf-16-le"), "text/html; charset=utf-16",
         b"\xff\xfe" + DOC_REDACTED.decode().encode("utf-16-le")),
        # A UTF-8 byte order mark is kept apart and written back.
        (b"\xef\xbb\xbf" + DOC, "text/html", b"\xef\xbb\xbf" + DOC_REDACTED),
        (b'{"email": "jane@example.com"}\n{"password": "x1"}\n', "text/plain; charset=iso-8859-1",
         b'{"email": "[REDACTED:EMAIL]"}\n{"password": "[REDACTED:SECRET]"}\n'),  # NDJSON
        (b"password=hunter2&q=shoes", "text/html", b"password=[REDACTED:SECRET]&q=shoes"),  # a form
        (b'{ "status" : "ok",\n  "n": [1, 2.50] }', "application/xml", b'{ "status" : "ok",\n  "n": [1, 2.50] }'),
        # near-misses: not a whole document, so text, scanned as text (a field name means nothing there)
        (b'<p>{"password": "hunter2"}</p> mail jane@example.com', "text/html",
         b'<p>{"password": "hunter2"}</p> mail [REDACTED:EMAIL]'),
        (b'{"password": "hunter2", mail jane@example.com', "text/javascript",
         b'{"password": "hunter2", mail [REDACTED:EMAIL]'),
        (b"password: hunter2", "text/markdown", b"password: hunter2"),
    ],
)
def test_documents_under_text_labels_keep_their_charset_and_bytes(body: bytes, ctype: str, expected: bytes) -> None:
    assert PLAN.redact_body(body, ctype).output == expected


def test_an_event_stream_is_still_read_as_events() -> None:  # near-miss: text/event-stream is no document label
    body = b'data: {"password": "hunter2"}\n\n'
    assert PLAN.redact_body(body, "text/event-stream").output == b'data: {"password": "[REDACTED:SECRET]"}\n\n'


def test_a_document_in_a_charset_read_otherwise_as_ascii_is_refused() -> None:
    # UTF-16 bytes whose ASCII reading holds an address: the text path's check, kept for documents.
    hidden = b"jane@example.com".decode("utf-16-le")  # eight CJK characters, whose bytes spell the address
    body = b"\xff\xfe" + ('{"a": "' + hidden + '"}').encode("utf-16-le")
    with pytest.raises(RedactionError) as info:
        PLAN.redact_body(body, "text/html; charset=utf-16")
    assert info.value.reason == "bad_encoding"
