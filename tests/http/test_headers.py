"""header_value on repeated header lines (issue 16): list fields are one list, singletons that disagree
are no value veil may trust, and every adapter's body decision follows."""

from __future__ import annotations

import pytest

from veil.http import body_mode, header_value
from veil.http import headers as http_headers

Pairs = list[tuple[str, str]]


@pytest.mark.parametrize(
    ("headers", "name", "value"),
    [
        ([], "content-type", ""),
        ([("Content-Type", "application/json")], "content-type", "application/json"),
        # list fields: every line, in order (codings applied in that order)
        ([("Content-Encoding", "gzip"), ("content-encoding", "br")], "content-encoding", "gzip, br"),
        ([("Content-Encoding", "identity"), ("Content-Encoding", " gzip ")], "Content-Encoding", "identity, gzip"),
        ([("Content-Encoding", "gzip"), ("Content-Encoding", "")], "content-encoding", "gzip"),
        ([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")], "transfer-encoding", "gzip, chunked"),
        # singletons: lines that agree give the value, lines that disagree give none
        ([("Content-Type", "application/json"), ("content-type", "Application/JSON")], "content-type",
         "application/json"),
        ([("Content-Type", "image/png"), ("Content-Type", "application/json")], "content-type", ""),
        ([("Content-Type", "application/json"), ("Content-Type", "application/json; charset=utf-8")],
         "content-type", ""),
        ([("Content-Length", "10"), ("Content-Length", "10")], "content-length", "10"),
        ([("Content-Length", "10"), ("Content-Length", "12")], "content-length", ""),
        # any other field: the first line (Host: the one servers route on), as before
        ([("Host", "a.example"), ("Host", "b.example")], "host", "a.example"),
        ([("X-Other", "1"), ("Content-Type", "text/plain")], "content-type", "text/plain"),
    ],
)
def test_header_value_of_repeated_lines(headers: Pairs, name: str, value: str) -> None:
    assert header_value(headers, name) == value


def test_header_values_keeps_every_line_in_order() -> None:
    headers = [("Set-Cookie", "a=1"), ("X", "y"), ("set-cookie", "b=2")]
    assert http_headers.header_values(headers, "SET-COOKIE") == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("headers", "mode"),
    [
        ([("Content-Type", "image/png")], "pass"),  # near-miss: one binary label (its head still decides)
        ([("Content-Type", "image/png"), ("Content-Type", "application/json")], "buffer"),
        ([("Content-Type", "application/json"), ("Content-Type", "image/png")], "buffer"),
        ([("Content-Type", "image/png"), ("Content-Type", "image/png")], "pass"),
    ],
)
def test_conflicting_content_types_never_let_a_body_pass_unread(headers: Pairs, mode: str) -> None:
    ctype = header_value(headers, "content-type")
    assert body_mode(ctype, "", sniffs=True)[0] == "sniff"
    assert body_mode(ctype, "")[0] == mode  # an adapter that does not sniff reads conflicting types whole
