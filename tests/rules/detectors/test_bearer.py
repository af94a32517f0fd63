"""BEARER_TOKEN: only the token after 'Bearer' is the finding."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer 9f8e7d6c5b4a3210abcdef", ["9f8e7d6c5b4a3210abcdef"]),  # header
        ("authorization: bearer abc.def-123_XYZ", ["abc.def-123_XYZ"]),  # lower case word
        ("BEARER  tok3n+/value==", ["tok3n+/value=="]),  # upper case, two spaces, padding
        ("Bearer 0123456789abcdef.", ["0123456789abcdef"]),  # sentence dot excluded
        ("Bearer AbCdEfGhIjKlMnOpQrStUv", ["AbCdEfGhIjKlMnOpQrStUv"]),  # long mixed-case, no digit
        ('{"auth":"Bearer a1b2c3d4e5"}', ["a1b2c3d4e5"]),  # JSON
    ],
)
def test_bearer_token_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("BEARER_TOKEN", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the bearer of this letter",  # prose
        "Bearer <token>",  # placeholder
        "Bearer token",  # word, too short
        "Bearer ${ACCESS_TOKEN}",  # template
        "bearerabc1234567890",  # no space after the word
        "Bearer abcdefghijklmnopqrstuvwxyz",  # long, but lower case only and no digit
        "Bearer\n0123456789abcdef",  # newline is not a header separator
        "cupbearer 0123456789abcdef",  # 'bearer' inside a word
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",  # a JWT: JWT's
    ],
)
def test_bearer_token_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("BEARER_TOKEN", text) == []
