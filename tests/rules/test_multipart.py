"""multipart/form-data (issue #15): fields and text files are read and redacted, each by its
own type; binary parts and everything unchanged keep their bytes; a body the strict parser
cannot read the way a server would is refused, never passed."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.formparser import parse_form_data

from veil import RedactionError, Route, compile_policy, default_plan
from veil.rules.multipart import boundary_of, split_parts

PLAN = default_plan()
ROUTE = Route("request", "POST", "api.test", "/upload")
BOUNDARY = "----veilTestBoundary7MA4YWxk"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR jane@example.com \x00\xff"


def part(name: str, content: bytes, *, filename: str | None = None, ctype: str | None = None) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"'
    if ctype is not None:
        head += f"\r\nContent-Type: {ctype}"
    return f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + content + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def redact(data: bytes, plan: object = PLAN, ctype: str = CTYPE) -> bytes:
    return PLAN.redact_body(data, ctype, ROUTE).output if plan is PLAN else plan.redact_body(data, ctype, ROUTE).output  # type: ignore[attr-defined]


def fields_of(data: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """What a real server (werkzeug) reads from the body: its fields and files."""
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": CTYPE, "CONTENT_LENGTH": str(len(data)),
               "wsgi.input": io.BytesIO(data)}
    _, form, files = parse_form_data(environ)
    contents = {}
    for key, file in files.items():
        contents[key] = file.read()
        file.close()
    return dict(form.items()), contents


@pytest.mark.parametrize(
    ("given_part", "field", "expected"),
    [
        (part("email", b"jane@example.com"), "email", "[REDACTED:EMAIL]"),
        (part("password", b"hunter2"), "password", "[REDACTED:SECRET]"),  # the form rule, by name
        (part("note", b"call +1 415 555 0100 today"), "note", "call [REDACTED:PHONE] today"),
        (part("note", b"call +1 415 555 0100", ctype="text/plain; charset=utf-8"), "note", "call [REDACTED:PHONE]"),
        (part("meta", b'{"password": "hunter2"}'), "meta", '{"password": "[REDACTED:SECRET]"}'),  # JSON field
        (part("q", b"running shoes"), "q", "running shoes"),  # near-miss: nothing to find
        (part("pass", b"x"), "pass", "x"),  # near-miss: not a secret's name
    ],
)
def test_fields_are_redacted_like_form_values(given_part: bytes, field: str, expected: str) -> None:
    assert fields_of(redact(body(part("keep", b"1"), given_part)))[0] == {"keep": "1", field: expected}


@pytest.mark.parametrize(
    ("given_part", "expected"),
    [
        (part("f", b"mail jane@example.com\n", filename="a.txt", ctype="text/plain"), b"mail [REDACTED:EMAIL]\n"),
        (part("f", b'{"ssn": "078-05-1120"}', filename="a.json", ctype="application/json"),
         b'{"ssn": "[REDACTED:US_SSN]"}'),
        (part("f", b"mail jane@example.com", filename="a.txt"), b"mail [REDACTED:EMAIL]"),  # no type: sniffed
        (part("f", b'{"password": "x1"}', filename="a.bin", ctype="application/octet-stream"),
         b'{"password": "[REDACTED:SECRET]"}'),  # a lying type: sniffed
        (part("f", PNG, filename="a.png", ctype="image/png"), PNG),  # binary: untouched
        (part("f", PNG, filename="a.bin", ctype="application/octet-stream"), PNG),
        (part("f", b"plain words", filename="a.txt", ctype="text/plain"), b"plain words"),
    ],
)
def test_files_are_redacted_by_their_own_type(given_part: bytes, expected: bytes) -> None:
    assert fields_of(redact(body(given_part)))[1] == {"f": expected}


def test_a_body_with_nothing_to_redact_is_byte_identical() -> None:
    data = b"preamble\r\n" + body(part("q", b"shoes"), part("f", PNG, filename="a.png", ctype="image/png")) + b"epilogue"
    result = PLAN.redact_body(data, CTYPE, ROUTE)
    assert (result.kind, result.output, result.report.changed) == ("multipart", data, False)


def test_unchanged_parts_keep_every_byte() -> None:
    binary = part("f", PNG, filename="a.png", ctype="image/png")
    out = redact(body(binary, part("email", b"jane@example.com"), binary))
    assert out.startswith(binary) and out.endswith(binary + f"--{BOUNDARY}--\r\n".encode())


def test_a_dropped_field_removes_its_part() -> None:
    plan = compile_policy("version: 1\nrules:\n  - form: [{name: token, action: drop}]\n")
    out = plan.redact_body(body(part("a", b"1"), part("token", b"s3cr3t"), part("b", b"2")), CTYPE, ROUTE).output
    assert b"s3cr3t" not in out and fields_of(out)[0] == {"a": "1", "b": "2"}


def test_findings_are_reported() -> None:
    report = PLAN.redact_body(body(part("email", b"jane@example.com"), part("f", b"x@y.io", filename="n.txt")),
                              CTYPE, ROUTE).report
    assert report.changed and sorted(f.type for f in report.findings) == ["EMAIL", "EMAIL"]


@pytest.mark.parametrize(
    ("data", "ctype", "message"),
    [
        (body(part("a", b"1")), "multipart/form-data", "boundary"),  # no boundary parameter
        (body(part("a", b"1"))[:-10], CTYPE, "closing delimiter"),  # cut short
        (body(part("a", b"1")).replace(b"\r\n", b"\n"), CTYPE, "CRLF"),  # LF line breaks
        (body(part("a", b"x\n--" + BOUNDARY.encode() + b"\nhidden")), CTYPE, "inside a part"),  # a bare-LF delimiter
        (body(part("a", b"1")) + b"--" + BOUNDARY.encode(), CTYPE, "after the closing"),
        (body(part("a", b"amFuZUBleGFtcGxlLmNvbQ==", ctype="text/plain\r\nContent-Transfer-Encoding: base64")),
         CTYPE, "Content-Transfer-Encoding"),
        (f"--{BOUNDARY}\r\nno colon here\r\n\r\nx\r\n--{BOUNDARY}--".encode(), CTYPE, "without a colon"),
        (b"no delimiter at all", CTYPE, "without its boundary"),
        # werkzeug takes the first Content-Type line (text), veil took the last (binary): passed unread.
        (body(part("f", b"mail jane@example.com", filename="a.txt", ctype="text/plain\r\nContent-Type: image/png")),
         CTYPE, "two content-type headers that disagree"),
    ],
)
def test_bodies_a_server_might_read_differently_are_refused(data: bytes, ctype: str, message: str) -> None:
    with pytest.raises(RedactionError, match=message) as info:
        PLAN.redact_body(data, ctype, ROUTE)
    assert info.value.reason == "invalid_multipart"


def test_a_repeated_part_header_that_agrees_is_read() -> None:  # near-miss of the row above
    data = body(part("note", b"mail jane@example.com", ctype="text/plain\r\nContent-Type: text/plain"))
    assert b"jane@example.com" not in PLAN.redact_body(data, CTYPE, ROUTE).output


def test_a_multipart_body_over_the_limit_fails_closed() -> None:
    plan = compile_policy("version: 1\nlimits: {max_body_bytes: 100}\nrules:\n  - scan: {detectors: [EMAIL]}\n")
    with pytest.raises(RedactionError) as info:
        plan.redact_body(body(part("f", PNG * 10, filename="a.png", ctype="image/png")), CTYPE, ROUTE)
    assert info.value.reason == "body_too_large"


@pytest.mark.parametrize(
    ("ctype", "boundary"),
    [
        ('multipart/form-data; boundary="a b:c"', b"a b:c"),
        ("multipart/form-data; charset=utf-8; BOUNDARY=xyz", b"xyz"),
        ("multipart/form-data;boundary=xyz;foo=bar", b"xyz"),
    ],
)
def test_boundary_of(ctype: str, boundary: bytes) -> None:
    assert boundary_of(ctype) == boundary


def test_a_part_without_headers_is_a_field_without_a_name() -> None:
    data = f"--{BOUNDARY}\r\n\r\nmail jane@example.com\r\n--{BOUNDARY}--\r\n".encode()
    assert len(split_parts(data, BOUNDARY.encode())) == 1
    assert redact(data) == f"--{BOUNDARY}\r\n\r\nmail [REDACTED:EMAIL]\r\n--{BOUNDARY}--\r\n".encode()


VALUES = st.sampled_from(["jane@example.com", "hunter2", "shoes", "078-05-1120", "", "a\r\nb", "+1 415 555 0100"])
NAMES = st.sampled_from(["email", "password", "q", "note", "ssn"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(NAMES, VALUES, st.booleans()), min_size=1, max_size=5))
def test_the_output_is_multipart_a_server_reads_with_no_seeded_value_left(
    items: list[tuple[str, str, bool]],
) -> None:
    parts = [part(f"{name}{i}", value.encode(), filename=f"{i}.txt" if as_file else None)
             for i, (name, value, as_file) in enumerate(items)]
    out = redact(body(*parts))
    fields, files = fields_of(out)
    assert len(fields) + len(files) == len(items)
    for secret in (b"jane@example.com", b"078-05-1120", b"555 0100"):
        assert secret not in out
    assert redact(out) == out  # idempotent


RELATED = (
    b'--xyz\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{"name":"report.pdf","owner":"jane@example.com"}\r\n'
    b"--xyz\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 \x00\x01 jane@example.com\r\n--xyz--\r\n"
)


@pytest.mark.parametrize(
    ("body", "ctype", "expected"),
    [
        # Drive and Gmail uploads: JSON metadata, then the file (binary parts are never read).
        (RELATED, "multipart/related; boundary=xyz", RELATED.replace(b'"jane@example.com"', b'"[REDACTED:EMAIL]"')),
        (b"--a\r\nContent-Type: text/plain\r\n\r\ncall me at jane@example.com\r\n--a--\r\n", "multipart/mixed; boundary=a",
         b"--a\r\nContent-Type: text/plain\r\n\r\ncall me at [REDACTED:EMAIL]\r\n--a--\r\n"),
        (b'--o\r\nContent-Disposition: form-data; name="x"\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n'
         b"--c\r\nContent-Type: text/plain\r\n\r\njane@example.com\r\n--c--\r\n--o--\r\n", "multipart/form-data; boundary=o",
         b'--o\r\nContent-Disposition: form-data; name="x"\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n'
         b"--c\r\nContent-Type: text/plain\r\n\r\n[REDACTED:EMAIL]\r\n--c--\r\n--o--\r\n"),  # nested
    ],
)
def test_every_multipart_type_is_read_part_by_part(body: bytes, ctype: str, expected: bytes) -> None:
    # Review of issue #15: only form-data was parsed; related, mixed and nested parts crossed unread.
    assert default_plan().redact_body(body, ctype).output == expected


RANGES = (b"--b\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-15/40\r\n\r\njane@example.com\r\n"
          b"--b\r\nContent-Type: image/png\r\nContent-Range: bytes 16-39/40\r\n\r\n" + PNG + b"\r\n--b--\r\n")


def test_byteranges_parts_are_read_as_mixed_parts_are() -> None:
    # Review of issue #15: multipart/byteranges (a 206 reply) was binary, so a text range crossed unread.
    out = default_plan().redact_body(RANGES, "multipart/byteranges; boundary=b").output
    assert out == RANGES.replace(b"jane@example.com", b"[REDACTED:EMAIL]", 1)  # the PNG range keeps its bytes


def test_an_endless_multipart_stream_is_refused_not_passed_unread() -> None:
    # x-mixed-replace (MJPEG, server push) never ends and veil reads multipart bodies whole: refused.
    with pytest.raises(RedactionError, match="endless stream") as info:
        default_plan().redact_body(RANGES, "multipart/x-mixed-replace; boundary=b")
    assert info.value.reason == "unsupported_multipart"


MARKED = body(part("a", b"x"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [  # Review of issue #15: the preamble and the epilogue were kept byte for byte, whatever they held.
        (b"mail jane@example.com\r\n" + MARKED, b"mail [REDACTED:EMAIL]\r\n" + MARKED),
        (MARKED + b"mail jane@example.com\r\n", MARKED + b"mail [REDACTED:EMAIL]\r\n"),
        (b"call +1 415 555 0100\r\n" + body(part("password", b"hunter2")) + b"jane@example.com",
         b"call [REDACTED:PHONE]\r\n" + body(part("password", b"[REDACTED:SECRET]")) + b"[REDACTED:EMAIL]"),
        (b"This is a multi-part message in MIME format.\r\n" + MARKED + b"bye",
         b"This is a multi-part message in MIME format.\r\n" + MARKED + b"bye"),  # near-miss: nothing to find
    ],
)
def test_the_preamble_and_epilogue_are_scanned_as_text(data: bytes, expected: bytes) -> None:
    assert redact(data) == expected


def test_a_preamble_that_is_not_text_is_refused() -> None:
    with pytest.raises(RedactionError) as info:
        redact(b"\xff\xfe jane\r\n" + MARKED)
    assert info.value.reason == "bad_encoding"


@pytest.mark.parametrize(
    ("given_part", "expected"),
    [  # Review of issue #15: a typed part went to its type's reader and never met its name's rules.
        (part("password", b"hunter2", ctype="application/octet-stream"), b"[REDACTED:SECRET]"),
        (part("password", b"hunter2", ctype="text/html"), b"[REDACTED:SECRET]"),
        (part("password", b"hunter2", ctype="image/png"), b"[REDACTED:SECRET]"),  # text under a binary label
        (part("password", b"hunter2", ctype="text/plain; charset=iso-8859-1"), b"[REDACTED:SECRET]"),
        (part("email", b"jane-at-example", ctype="application/octet-stream"), b"[REDACTED:EMAIL]"),  # by class
        (part("password", b"hunter2", filename="p.txt", ctype="text/plain"), b"[REDACTED:SECRET]"),  # a file too
        # A JSON part is the value of a JSON field of its name: every value under it, still JSON.
        (part("password", b'"hunter2"', ctype="application/json"), b'"[REDACTED:SECRET]"'),
        (part("password", b'{"old": "hunter2", "n": 7}', ctype="application/json"),
         b'{"old": "[REDACTED:SECRET]", "n": "[REDACTED:SECRET]"}'),
        (part("password", b'["a1", "b2"]', ctype="text/plain"), b'["[REDACTED:SECRET]", "[REDACTED:SECRET]"]'),
        (part("password", b'\xef\xbb\xbf"hunter2"', ctype="application/json"), b'\xef\xbb\xbf"[REDACTED:SECRET]"'),
        # near-misses: a name no rule covers keeps its typed reading; a binary head is never read
        (part("pass", b"hunter2", ctype="application/octet-stream"), b"hunter2"),
        (part("pass", b'{"x": "hunter2"}', ctype="application/json"), b'{"x": "hunter2"}'),
        (part("password", PNG, ctype="image/png"), PNG),
        (part("password", PNG, ctype="application/octet-stream"), PNG),
    ],
)
def test_a_named_part_gets_its_names_rules_whatever_its_type(given_part: bytes, expected: bytes) -> None:
    out = redact(body(given_part))
    assert out == body(given_part.rsplit(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + expected + b"\r\n")


def test_a_form_target_takes_a_json_part_whole_as_a_json_string() -> None:
    plan = compile_policy("version: 1\nrules:\n  - form: [{name: blob, action: {type: redact, template: gone}}]\n")
    data = body(part("blob", b'{"a": 1}', ctype="application/json"))
    assert plan.redact_body(data, CTYPE, ROUTE).output == body(part("blob", b'"gone"', ctype="application/json"))
