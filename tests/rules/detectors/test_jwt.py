"""JWT: three base64url segments whose header decodes to a JSON object."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]

HS256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}
ES256 = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0"  # {"alg":"ES256","kid":"k1"}
PAYLOAD = "eyJzdWIiOiI0MiJ9"  # {"sub":"42"}
SIG = "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
TOKEN = f"{HS256}.{PAYLOAD}.{SIG}"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


TYP_FIRST = b64('{"typ":"JWT","alg":"HS256"}')  # eyJ0eXAi...
KID_FIRST = b64('{"kid":"2024-05-key","alg":"RS256","typ":"JWT"}')  # eyJraWQi...
SPACED = b64('{ "alg": "HS256", "typ": "JWT" }')  # eyAi...
PRETTY = b64('{\n  "alg": "RS256",\n  "typ": "JWT"\n}')  # ewog...
PADDED = base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode()  # keeps its '='
NO_ALG = b64('{ "typ": "JWT" }')
JWE_HEADER = b64('{"alg":"dir","enc":"A256GCM"}')
CEK = "OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe"
IV = "48V1_ALb6US04U3b"
CIPHER = "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji"
TAG = "XFBoMYUZodetZdvTiFvSkQ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token={TOKEN}", [TOKEN]),  # query parameter
        (f"Authorization: Bearer {TOKEN}", [TOKEN]),  # header
        (f'{{"id_token":"{TOKEN}"}}', [TOKEN]),  # JSON
        (f"{ES256}.{PAYLOAD}.a-b_c", [f"{ES256}.{PAYLOAD}.a-b_c"]),  # short signature with - and _
        (f"jwt {TOKEN}. done", [TOKEN]),  # sentence dot not included
        (f"a {TOKEN} b {TOKEN}", [TOKEN, TOKEN]),  # two
        (f"{TYP_FIRST}.{PAYLOAD}.{SIG}", [f"{TYP_FIRST}.{PAYLOAD}.{SIG}"]),  # {"typ":"JWT","alg":"HS256"}
        (f"{KID_FIRST}.{PAYLOAD}.{SIG}", [f"{KID_FIRST}.{PAYLOAD}.{SIG}"]),  # kid first
        (f"{SPACED}.{PAYLOAD}.{SIG}", [f"{SPACED}.{PAYLOAD}.{SIG}"]),  # '{ "alg"': eyAi
        (f"{PRETTY}.{PAYLOAD}.{SIG}", [f"{PRETTY}.{PAYLOAD}.{SIG}"]),  # pretty-printed header: ewog
        (f"{PADDED}.{PAYLOAD}==.{SIG}=", [f"{PADDED}.{PAYLOAD}==.{SIG}="]),  # '=' padding left in
        (f"{JWE_HEADER}..{IV}.{CIPHER}.{TAG}", [f"{JWE_HEADER}..{IV}.{CIPHER}.{TAG}"]),  # JWE, dir: empty key
        (f"{JWE_HEADER}.{CEK}.{IV}.{CIPHER}.{TAG}", [f"{JWE_HEADER}.{CEK}.{IV}.{CIPHER}.{TAG}"]),  # JWE, 5 parts
        (f'{{"auth":"Bearer {TOKEN}"}}', [TOKEN]),  # inside a Bearer string in JSON
        # Glued to a word or '_' (issue #15: they crossed): 'eyJ' starts the header wherever it stands.
        (f"tok_A_k1_{TOKEN}", [TOKEN]),
        (f"abc{TOKEN}", [TOKEN]),  # was a near miss
        (f"hash_JWT_0123456789abcdef{TOKEN}", [TOKEN]),
        (f"x_{SPACED}.{PAYLOAD}.{SIG}", [f"{SPACED}.{PAYLOAD}.{SIG}"]),  # eyAi after '_'
        (f"{TOKEN}_k1", [f"{TOKEN}_k1"]),  # '_' is a signature character: taken with it
        (f"{TOKEN}!x", [TOKEN]),
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
        f"abc{SPACED}.{PAYLOAD}.{SIG}",  # the rarer headers (eyAi, ew0K, ewo) glued to a word
        f"framework.{PAYLOAD}.{SIG}",  # 'ewo' inside a word
        f"x_{TOKEN[1:]}",  # no 'eyJ' left: base64url letters glued to '_'
        f"eyJhbGciOiJIUzI1NiJ9Zm9v.{PAYLOAD}.{SIG}",  # header has trailing garbage
        "eyJhbGci.OiJIUz.I1NiJ9",  # truncated header
        f"{NO_ALG}.{PAYLOAD}.{SIG}",  # eyAi header without 'alg'
        "ewoks.are.small",  # prose starting like a pretty-printed header
        f"{JWE_HEADER}..{IV}..{TAG}",  # JWE with an empty ciphertext
    ],
)
def test_jwt_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("JWT", text) == []
