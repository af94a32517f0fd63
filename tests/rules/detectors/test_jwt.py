"""JWT: three base64url segments whose header decodes to a JSON object."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]

HS256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
ES256 = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0"  # {"alg":"ES256","kid":"k1"}
PAYLOAD = "eyJzdWIiOiI0MiJ9"  # {"sub":"42"}
SIG = "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
TOKEN = f"{HS256}.{PAYLOAD}.{SIG}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token={TOKEN}", [TOKEN]),  # query parameter
        (f"Authorization: Bearer {TOKEN}", [TOKEN]),  # header
        (f'{{"id_token":"{TOKEN}"}}', [TOKEN]),  # JSON
        (f"{ES256}.{PAYLOAD}.a-b_c", [f"{ES256}.{PAYLOAD}.a-b_c"]),  # short signature with - and _
        (f"jwt {TOKEN}. done", [TOKEN]),  # sentence dot not included
        (f"a {TOKEN} b {TOKEN}", [TOKEN, TOKEN]),  # two
    ],
)
def test_jwt_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("JWT", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"eyJub3QganNvbg.{PAYLOAD}.{SIG}",  # header decodes to '{"not json'
        f"eyJ!!!.{PAYLOAD}.{SIG}",  # header not base64url
        f"{HS256}.{PAYLOAD}",  # two segments
        f"{HS256}.{PAYLOAD}.",  # empty signature (alg none)
        f"abc{TOKEN}",  # glued to a word
        f"eyJhbGciOiJIUzI1NiJ9Zm9v.{PAYLOAD}.{SIG}",  # header has trailing garbage
        "eyJhbGci.OiJIUz.I1NiJ9",  # truncated header
    ],
)
def test_jwt_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("JWT", text) == []
