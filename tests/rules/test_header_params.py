"""One Content-Type / Content-Disposition parameter parser (review of issue #15): three private
parsers disagreed with each other and with receivers, and text crossed. Each table pairs the
case that leaked with near misses that must keep working; expected values are written out."""

from __future__ import annotations

import pytest

from veil import RedactionError, Route, compile_policy, default_plan
from veil.rules.header_params import REFUSED_CHARSET, ascii_compatible, body_charset, parse
from veil.rules.media import media_type

PLAN = default_plan()
SCAN = compile_policy("version: 1\nrules:\n  - scan: true\n")


@pytest.mark.parametrize(
    ("value", "main", "params"),
    [
        ('text/plain; x="; charset=utf-16"', "text/plain", [("x", "; charset=utf-16")]),  # a quoted ';'
        ("text/plain; name*0=jane; name*1=\"@example.com\"", "text/plain", [("name", "jane@example.com")]),
        ("text/plain; name*1=\"@example.com\"; name*0=jane", "text/plain", [("name", "jane@example.com")]),
        ("a; name*0*=UTF-8''jane%40; name*1=example.com; q=1", "a", [("name", "jane@example.com"), ("q", "1")]),
        ("a; name*=UTF-8''jane%40example.com", "a", [("name", "jane@example.com")]),
        ("a; name*=ISO-8859-1'en'caf%E9", "a", [("name", "café")]),
        ('a; NAME="x\\"y"', "a", [("name", 'x"y')]),
        ("a; jane@example.com=1; bare", "a", [("jane@example.com", "1"), ("bare", None)]),
        # near misses: ordinary values read as they always were
        ("Application/JSON; charset=UTF-8", "Application/JSON", [("charset", "UTF-8")]),
        ("multipart/form-data; boundary=----x", "multipart/form-data", [("boundary", "----x")]),
        ("text/plain", "text/plain", []),
    ],
)
def test_parameters_are_read_as_receivers_read_them(value: str, main: str, params: list[tuple[str, str | None]]) -> None:
    parsed = parse(value)
    assert parsed.main == main
    assert [(p.name, p.value) for p in parsed.params] == params
    assert not any(p.broken for p in parsed.params)


@pytest.mark.parametrize(
    "value",
    ["a; name*=jane%40example.com",  # no charset'language'
     "a; name*=UTF-8''%FF%FE",  # not UTF-8
     "a; name*0=x; name*0=y",  # a piece given twice
     "a; name*=bogus-charset''x"],
)
def test_unreadable_extended_values_are_broken(value: str) -> None:
    assert [p.broken for p in parse(value).params] == [True]


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ('text/plain; x="; charset=utf-16"', "utf-8"),  # was utf-16: veil decoded as it, werkzeug as UTF-8
        ("text/plain; charset=utf-8; charset=utf-16", REFUSED_CHARSET),  # email reads the first, others the last
        ('text/plain; charset*=bogus', REFUSED_CHARSET),  # an extended value without charset'language'
        # near misses: one charset, whatever it is, is the body's (veil.rules.charsets decodes or refuses it)
        ("text/plain; charset=utf-16", "utf-16"),
        ("text/plain; charset=cp037", "cp037"),
        ("text/plain; charset=Shift_JIS", "shift_jis"),
        ("text/plain; charset=no-such-charset", "no-such-charset"),
        ("text/plain; charset=utf-8; charset=UTF-8", "utf-8"),  # repeated, the same
        ("text/plain; charset=\"ISO-8859-1\"", "iso-8859-1"),
        ("text/plain; charset=windows-1252", "windows-1252"),
        ("text/plain; charset=us-ascii", "us-ascii"),
        ("text/plain; charset=euc-kr", "euc-kr"),
        ("text/plain", "utf-8"),
    ],
)
def test_body_charset_refuses_charsets_receivers_read_differently(content_type: str, charset: str) -> None:
    assert body_charset(parse(content_type)) == charset
    assert media_type(content_type)[1] == charset


@pytest.mark.parametrize(("charset", "compatible"), [
    ("utf-8", True), ("latin-1", True), ("cp1252", True), ("koi8-r", True), ("gb2312", True),
    ("utf-16", False), ("utf-16-le", False), ("utf-32", False), ("cp037", False), ("cp500", False), ("utf-7", False),
    ("iso-2022-jp", False), ("hz", False), ("shift_jis", False), ("gbk", False), ("big5", False), ("x", False),
])
def test_ascii_compatible(charset: str, compatible: bool) -> None:
    assert ascii_compatible(charset) is compatible


TEXT = b"email jane@example.com"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ('text/plain; x="; charset=utf-16"', TEXT, b"email [REDACTED:EMAIL]"),  # crossed unchanged before
        ("text/plain; charset=utf-8; charset=utf-16", TEXT, "bad_encoding"),
        ("text/plain; charset=utf-16", TEXT, "bad_encoding"),  # an app ignoring the charset read the address
        ("text/plain; charset=cp037", TEXT, "bad_encoding"),  # veil read EBCDIC, the app ASCII
        # near misses
        ("text/plain; charset=utf-8", TEXT, b"email [REDACTED:EMAIL]"),
        ("text/plain; charset=utf-8; charset=utf-8", TEXT, b"email [REDACTED:EMAIL]"),
        # real text in those charsets is read in them (veil.rules.charsets): they were refused before
        ("text/plain; charset=utf-16", "email jane@example.com".encode("utf-16"), "email [REDACTED:EMAIL]".encode("utf-16")),
        ("text/plain; charset=cp037", "email jane@example.com".encode("cp037"), "email [REDACTED:EMAIL]".encode("cp037")),
        ("text/plain; charset=iso-8859-1", "café jane@example.com".encode("latin-1"), "café [REDACTED:EMAIL]".encode("latin-1")),
        ("application/json; charset=utf-16", b'{"email": "jane@example.com"}', b'{"email": "[REDACTED:EMAIL]"}'),
    ],
)
def test_text_bodies_are_decoded_as_receivers_decode_them(content_type: str, body: bytes, expected: bytes | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(RedactionError) as raised:
            PLAN.redact_body(body, content_type, Route("request"))
        assert raised.value.reason == expected
        assert "jane" not in str(raised.value)
    else:
        assert PLAN.redact_body(body, content_type, Route("request")).output == expected
