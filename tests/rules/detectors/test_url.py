"""URL and URL_CREDENTIALS."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/path?q=1.", ["https://example.com/path?q=1"]),  # sentence dot excluded
        ("(http://example.org/a_(b))", ["http://example.org/a_(b"]),  # closing paren excluded
        ("ws://10.0.0.1:8080/socket", ["ws://10.0.0.1:8080/socket"]),  # websocket, IP host
        ("wss://chat.example.com", ["wss://chat.example.com"]),  # secure websocket
        ("ftp://files.example.net/pub/x.tar.gz", ["ftp://files.example.net/pub/x.tar.gz"]),  # ftp
        ("HTTPS://EXAMPLE.COM/", ["HTTPS://EXAMPLE.COM/"]),  # upper-case scheme
        ("链接 https://例子.example.com/x", []),  # IDN host: not ASCII, not taken
        ('href="https://a.io/x?y=1&z=2#f"', ["https://a.io/x?y=1&z=2#f"]),  # quoted attribute
        ("https://a.b", ["https://a.b"]),  # minimal
    ],
)
def test_url_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("URL", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "example.com/path",  # no scheme
        "https://",  # no host
        "mailto:jane@example.com",  # not a web scheme
        "javascript:alert(1)",  # not a web scheme
        "https//example.com",  # malformed scheme separator
        "xhttps://example.com",  # scheme glued to a word
        "file:///etc/passwd",  # file scheme not covered
    ],
)
def test_url_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("URL", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://admin:s3cr3t@example.com/", ["admin:s3cr3t"]),  # https
        ("postgres://app:hunter2@db.internal:5432/app", ["app:hunter2"]),  # DSN
        ("redis://:p4ss@cache:6379/0", [":p4ss"]),  # empty user
        ("ftp://anon:guest%40x@ftp.example.org", ["anon:guest%40x"]),  # percent-encoded '@'
        ("mongodb+srv://u:p@cluster0.example.net", ["u:p"]),  # scheme with '+'
        ("go to HTTP://Bob:Pa:ss@[::1]/", ["Bob:Pa:ss"]),  # ':' in password, IPv6 host
        # the scheme glued to '_' or veil-shaped text (issue #15 re-review N5)
        ("tok_A_k1_postgres://admin:Xk9vQ2mZ7pL4@localhost/db", ["admin:Xk9vQ2mZ7pL4"]),
        ("dsn_https://bob:s3cr3t@db.example.com", ["bob:s3cr3t"]),
        ("x.https://a:b@c.com", ["a:b"]),  # a dotted scheme is read whole: its value is the same
    ],
)
def test_url_credentials_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("URL_CREDENTIALS", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://user@example.com/",  # user name without password
        "https://example.com:8080/",  # port, no userinfo
        "user:pass@example.com",  # no scheme
        "https://example.com/path?u=a:b@c",  # '@' in the query, not userinfo
        "https://a:b@",  # no host after '@'
        "mailto:a:b@example.com",  # no '//'
    ],
)
def test_url_credentials_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("URL_CREDENTIALS", text) == []
