"""Part headers of multipart bodies are scanned (review, issue #15): an e-mail address or a
token in a part's ``filename``, ``name`` or another part header crossed unread. Findings are
replaced by placeholders the header still parses with; expected bodies are written out."""

from __future__ import annotations

import io

import pytest
from werkzeug.formparser import parse_form_data

from veil import RedactionError, compile_policy, default_plan

SCAN = compile_policy("version: 1\nrules:\n  - scan: true\n")
BOUNDARY = "b0undary"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"
GITHUB_TOKEN = "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"


def body(head: str, content: bytes = b"x") -> bytes:
    return f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def redact(data: bytes, plan: object = SCAN) -> tuple[bytes, list[tuple[str, str, str]]]:
    result = plan.redact_body(data, CTYPE)  # type: ignore[attr-defined]
    return result.output, [(f.type, f.location, f.path) for f in result.report.findings]


DISPOSITION = 'Content-Disposition: form-data; name="f"'


@pytest.mark.parametrize(
    ("head", "expected", "found"),
    [
        (f'{DISPOSITION}; filename="jane@example.com"', f'{DISPOSITION}; filename="[REDACTED:EMAIL]"',
         [("EMAIL", "header", "content-disposition.filename")]),
        (f'{DISPOSITION}; filename="cv of jane@example.com (2).pdf"',
         f'{DISPOSITION}; filename="cv of [REDACTED:EMAIL] (2).pdf"',
         [("EMAIL", "header", "content-disposition.filename")]),
        (f"{DISPOSITION}; filename={GITHUB_TOKEN}.txt", f'{DISPOSITION}; filename="[REDACTED:API_KEY].txt"',
         [("API_KEY", "header", "content-disposition.filename")]),  # a bare token value becomes a quoted-string
        ('Content-Disposition: form-data; name="jane@example.com"', 'Content-Disposition: form-data; name="[REDACTED:EMAIL]"',
         [("EMAIL", "header", "content-disposition.name")]),
        (f"{DISPOSITION}; filename*=UTF-8'en'jane%40example.com", f"{DISPOSITION}; filename*=UTF-8'en'%5BREDACTED%3AEMAIL%5D",
         [("EMAIL", "header", "content-disposition.filename")]),  # RFC 8187 stays RFC 8187
        (f'{DISPOSITION}; filename="a\\"jane@example.com\\"b"', f'{DISPOSITION}; filename="a\\"[REDACTED:EMAIL]\\"b"',
         [("EMAIL", "header", "content-disposition.filename")]),  # escapes in a quoted-string
        (f"{DISPOSITION}\r\nContent-ID: <jane@example.com>", f"{DISPOSITION}\r\nContent-ID: <[REDACTED:EMAIL]>",
         [("EMAIL", "header", "content-id")]),
        (f'{DISPOSITION}\r\nContent-Type: text/plain; name="jane@example.com"',
         f'{DISPOSITION}\r\nContent-Type: text/plain; name="[REDACTED:EMAIL]"', [("EMAIL", "header", "content-type.name")]),
        # near misses: nothing found, every byte kept
        (f'{DISPOSITION}; filename="report-2024.pdf"', f'{DISPOSITION}; filename="report-2024.pdf"', []),
        (f"{DISPOSITION}; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", f"{DISPOSITION}; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", []),
        (f"{DISPOSITION}\r\nContent-Type: text/plain; charset=utf-8", f"{DISPOSITION}\r\nContent-Type: text/plain; charset=utf-8", []),
        (f"{DISPOSITION}\r\nContent-ID: <part1.abc123@>", f"{DISPOSITION}\r\nContent-ID: <part1.abc123@>", []),
    ],
)
def test_part_header_values_are_scanned(head: str, expected: str, found: list[tuple[str, str, str]]) -> None:
    assert redact(body(head)) == (body(expected), found)


def test_a_server_still_reads_the_file_under_its_redacted_name() -> None:
    data = body(f'{DISPOSITION}; filename="jane@example.com.txt"\r\nContent-Type: text/plain', b"hello")
    out, _ = redact(data)
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": CTYPE, "CONTENT_LENGTH": str(len(out)),
               "wsgi.input": io.BytesIO(out)}
    _, _, files = parse_form_data(environ)
    upload = files["f"]
    assert (upload.filename, upload.read()) == ("[REDACTED:EMAIL]", b"hello")
    upload.close()


def test_the_rules_by_name_read_the_original_field_name() -> None:
    """A field named by an address is still a field: its value scanned, its name redacted."""
    out, found = redact(body('Content-Disposition: form-data; name="jane@example.com"', b"+1 415 555 0100"))
    assert out == body('Content-Disposition: form-data; name="[REDACTED:EMAIL]"', b"[REDACTED:PHONE]")
    assert found == [("EMAIL", "header", "content-disposition.name"), ("PHONE", "form", "<name>")]


def test_a_nested_multiparts_headers_are_scanned_and_its_boundary_kept() -> None:
    inner = b'--c\r\nContent-Disposition: attachment; filename="jane@example.com"\r\n\r\nx\r\n--c--'
    data = body(f"{DISPOSITION}\r\nContent-Type: multipart/mixed; boundary=c", inner)
    out = default_plan().redact_body(data, CTYPE).output
    assert out == body(f"{DISPOSITION}\r\nContent-Type: multipart/mixed; boundary=c",
                       inner.replace(b"jane@example.com", b"[REDACTED:EMAIL]"))


def test_a_filename_in_a_charset_it_does_not_decode_in_is_refused() -> None:
    with pytest.raises(RedactionError) as info:
        redact(body(f"{DISPOSITION}; filename*=UTF-8''%FF%FE.txt"))
    assert info.value.reason == "invalid_multipart"


def test_detect_mode_reports_and_keeps_the_header() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: true\n")
    data = body(f'{DISPOSITION}; filename="jane@example.com"')
    assert redact(data, plan) == (data, [("EMAIL", "header", "content-disposition.filename")])


TEXT_THEN_NUL = b"mail jane@example.com " + b"y" * 600 + b"\x00"


@pytest.mark.parametrize(
    "head",
    [f'{DISPOSITION}; filename="a.txt"', f'{DISPOSITION}; filename="a.bin"\r\nContent-Type: application/octet-stream'],
)
def test_a_part_that_is_text_by_its_head_and_binary_further_on_fails_closed(head: str) -> None:
    """As a vague body does (veil.http.sniff): it passed unread as binary."""
    with pytest.raises(RedactionError) as info:
        redact(body(head, TEXT_THEN_NUL))
    assert info.value.reason == "bad_encoding"


@pytest.mark.parametrize(
    "head",
    [f'{DISPOSITION}; filename="a.png"\r\nContent-Type: image/png',  # a declared binary type: never read
     f'{DISPOSITION}; filename="a.bin"'],  # binary by its head
)
def test_binary_parts_still_pass_untouched(head: str) -> None:
    content = b"\x00\x01" + TEXT_THEN_NUL if "a.bin" in head else TEXT_THEN_NUL
    assert redact(body(head, content)) == (body(head, content), [])


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # RFC 2231 continuations: werkzeug and Django join the pieces into jane@example.com.txt
        (f'{DISPOSITION}; filename*0="jane"; filename*1="@example.com.txt"', f'{DISPOSITION}; filename="[REDACTED:EMAIL]"'),
        (f"{DISPOSITION}; filename*0*=UTF-8''jane%40; filename*1*=example.com.txt",
         f"{DISPOSITION}; filename*=UTF-8''%5BREDACTED%3AEMAIL%5D"),
        # parameter names are payload too
        (f"{DISPOSITION}\r\nContent-Type: text/plain; 4111111111111111=x", f"{DISPOSITION}\r\nContent-Type: text/plain"),
        (f"{DISPOSITION}; jane@example.com=1", DISPOSITION),
        # near misses: continuations and names with nothing in them keep every byte
        (f'{DISPOSITION}; filename*0="report"; filename*1="-2024.pdf"',
         f'{DISPOSITION}; filename*0="report"; filename*1="-2024.pdf"'),
        (f"{DISPOSITION}\r\nContent-Type: text/plain; format=flowed", f"{DISPOSITION}\r\nContent-Type: text/plain; format=flowed"),
    ],
)
def test_part_parameters_are_scanned_as_receivers_read_them(head: str, expected: str) -> None:
    assert redact(body(head))[0] == body(expected)


def test_a_continued_filename_reaches_the_server_redacted() -> None:
    data = body(f'{DISPOSITION}; filename*0="jane"; filename*1="@example.com.txt"\r\nContent-Type: text/plain', b"hi")
    out, _ = redact(data)
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": CTYPE, "CONTENT_LENGTH": str(len(out)),
               "wsgi.input": io.BytesIO(out)}
    _, _, files = parse_form_data(environ)
    assert files["f"].filename == "[REDACTED:EMAIL]"
    files["f"].close()


@pytest.mark.parametrize(
    "head",
    [
        f"{DISPOSITION}\r\njane@example.com: a\r\njane@example.com: b",  # two headers that disagree
        f"{DISPOSITION}; 4111111111111111*=UTF-8''%FF",  # an extended value that cannot be read
        f"{DISPOSITION}; filename*=4111111111111111''x",  # its charset is the sender's text
        f"{DISPOSITION}\r\nContent-Type: text/plain; charset=4111111111111111",
        f"{DISPOSITION}\r\nContent-Type: text/plain; charset=utf-8; charset=utf-16",
    ],
)
def test_error_messages_carry_no_part_header_text(head: str) -> None:
    with pytest.raises(RedactionError) as info:
        redact(body(head))
    message = str(info.value)
    assert "jane" not in message and "4111" not in message and "utf-16" not in message


def test_a_boundary_inside_another_parameter_is_not_the_boundary() -> None:
    """The regex found ``boundary=`` inside a quoted value and split at a delimiter no server uses."""
    data = body(DISPOSITION, b"jane@example.com")
    out = SCAN.redact_body(data, f'multipart/form-data; x="boundary=zz"; boundary={BOUNDARY}').output
    assert out == body(DISPOSITION, b"[REDACTED:EMAIL]")


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (f"{DISPOSITION}; filename=a.png\r\nContent-Type: image/png; charset=jane@example.com", "unredactable_header"),
        (f"{DISPOSITION}\r\nContent-Type: multipart/mixed; boundary=jane@example.com", "unredactable_header"),
        ("Content-Disposition: jane@example.com; name=f", "unredactable_header"),
    ],
)
def test_a_finding_in_what_says_how_to_read_a_part_is_refused(head: str, reason: str) -> None:
    """A binary part's charset was never read, so an address in it crossed with the part."""
    with pytest.raises(RedactionError) as info:
        redact(body(head, b"\x89PNG\r\n\x1a\n\x00"))
    assert info.value.reason == reason and "jane" not in str(info.value)
