"""EMAIL: exact spans for real addresses, nothing for near misses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane@example.com now", ["jane@example.com"]),  # plain
        ("jane.doe+news@example.co.uk.", ["jane.doe+news@example.co.uk"]),  # plus tag, 2-level TLD, sentence dot
        ("<first_last-1@mail-server.example.org>", ["first_last-1@mail-server.example.org"]),  # in angle brackets
        ('{"email":"a@b.io"}', ["a@b.io"]),  # JSON, short
        ("José: jose@exemplo.com.br", ["jose@exemplo.com.br"]),  # non-ASCII before
        ("josé@exemplo.com", ["josé@exemplo.com"]),  # accented local part (RFC 6531)
        ("josé.luis@exemplo.com", ["josé.luis@exemplo.com"]),  # whole local part, not a tail
        ("иван@почта.example.ru", ["иван@почта.example.ru"]),  # IDN label
        ("mail jane@bücher.de.", ["jane@bücher.de"]),  # IDN label, ASCII TLD, sentence dot
        ("иван@пример.рф, ok", ["иван@пример.рф"]),  # IDN top-level label
        ("user@例え.jp まで", ["user@例え.jp"]),  # CJK label
        ("user@例え.日本。次", ["user@例え.日本"]),  # CJK TLD, CJK full stop after it
        ("x@xn--bcher-kva.xn--p1ai", ["x@xn--bcher-kva.xn--p1ai"]),  # punycode TLD
        ("иван@example.ru", ["иван@example.ru"]),  # Cyrillic local part
        ("連絡先はjane@example.comです", ["jane@example.com"]),  # unspaced CJK around it
        ("邮箱：li.wei@example.cn。", ["li.wei@example.cn"]),  # CJK punctuation
        ("x@y.com,z@w.com", ["x@y.com", "z@w.com"]),  # two, comma-separated
        ("USER@EXAMPLE.COM", ["USER@EXAMPLE.COM"]),  # upper case
        # Not a valid local part as a whole, but the address after the dots reaches a mailbox:
        # it must not cross (a dot is a boundary).
        (".abcalice@example.com", ["abcalice@example.com"]),  # leading dot
        ("see .alice@example.com", ["alice@example.com"]),
        ("a..b@example.com", ["b@example.com"]),  # consecutive dots
    ],
)
def test_email_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("EMAIL", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "root@localhost",  # no TLD
        "x@y.c0m",  # digit in TLD
        "@example.com",  # no local part
        "jane@",  # no domain
        "a..b@example",  # consecutive dots and no TLD
        "jane@-example.com",  # label starts with '-'
        "see example.com",  # bare domain
        "jane@bücher",  # IDN without a dot
        "jane@例え。jp",  # CJK full stop is not a label dot
    ],
)
def test_email_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("EMAIL", text) == []
