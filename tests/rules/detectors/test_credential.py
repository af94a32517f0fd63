"""SECRET: values assigned to secret-named keys, in env files, YAML, JSON text, queries and logs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import veil
from veil.rules.detectors.credential import is_secret_value

Detect = Callable[..., list[str]]

PW = "q7Rt2xLm9Vz4"
HEX = "9f8e7d6c5b4a32109f8e7d6c5b4a3210"
B64 = "Zt4kQ9wL2mXr8vBn+/3hYc=="


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"DB_PASSWORD={PW}", [PW]),  # env file
        (f'export GITHUB_TOKEN="{HEX}"', [HEX]),  # shell export, quoted
        (f"export API_KEY='{PW}'\n", [PW]),  # single quotes
        (f"api_key: {PW}\nregion: us-east-1", [PW]),  # YAML
        (f"  client_secret:   {B64}", [B64]),  # YAML, indented, padding kept
        (f'log line {{"client_secret": "{PW}", "region": "us-east-1"}} end', [PW]),  # JSON inside free text
        (f"GET /login?user=ann&password={PW}&next=/home", [PW]),  # query string
        (f"2024-05-01 INFO auth ok token={HEX} user=42", [HEX]),  # log line
        (f"clientSecret={PW}", [PW]),  # camelCase key
        (f"MYSQLPASSWORD={PW}", [PW]),  # glued upper-case key
        (f"secret => '{PW}'", [PW]),  # Ruby/PHP arrow
        (f"webhook_secret := {HEX}", [HEX]),  # Go-style
        (f'{{\\"password\\": \\"{PW}\\"}}', [PW]),  # escaped JSON inside a log string
        (f"db.password={PW}.", [PW]),  # sentence dot is not part of the value
        (f"API_TOKEN={HEX}\nSESSION_SECRET={PW}", [HEX, PW]),  # two lines
        (f"key={PW}", [PW]),  # 'key' alone
        ("SMTP_PASSWORD=Xk9$mP2q#Lw7", ["Xk9$mP2q#Lw7"]),  # '$' inside the value
        (f"gpg_passphrase: {PW}", [PW]),  # passphrase
        (f"signingKey: {PW}", [PW]),  # qualified camelCase key
        (f"STRIPE_SECRET_KEY={PW}", [PW]),  # qualified upper-case key
    ],
)
def test_secret_assignment_value_is_found(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("SECRET", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "TOKEN_TTL=3600",  # a number
        "PASSWORD_MIN_LENGTH=12",  # a setting
        "API_KEY_HEADER=x-api-key",  # a header name
        "region=us-east-1",  # not a secret key name
        "password=${DB_PASSWORD}",  # template
        "secret=changeme",  # placeholder
        "api_key: <your-api-key>",  # placeholder
        "password: '****************'",  # masked
        "token: {{ vault_token }}",  # Jinja template
        "auth_bucket=acme-prod-uploads-2024",  # a bucket name
        "secret_arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:db",  # ARN
        "token_url=https://auth.example.com/oauth/token",  # URL
        "key_path=/etc/ssl/private/server.key",  # path
        "token_type: Bearer",  # a word
        "auth_mode=production",  # a word
        "tokenExpiresAt=2024-05-01T12:00:00Z",  # timestamp
        "key_version=v2.14.0-beta.1",  # version
        "request_key=3f2b8c1e-9a4d-4e7b-8c2a-1f5e6d7c8b9a",  # UUID: an id
        f"monkey={PW}",  # 'key' inside another word
        f"keynote {PW}",  # no assignment
        "password=hunter2",  # too short to tell from a setting
        "secret_name=prod/MyApp/DbPassword",  # a path of words
        "authorizationHeader: Authorization",  # a word
        "password_reset_email=jane@example.com",  # an address (EMAIL's job)
        "idempotency_key: 8f14e45fceea167a5a36dedd4bea2543",  # 'key' naming an identifier
        "cache_key=user42Profile9x",  # 'key' naming an identifier
        "public_key: AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0",  # public, not secret
    ],
)
def test_non_secret_assignments_are_not_found(detect: Detect, text: str) -> None:
    assert detect("SECRET", text) == []


def test_vendor_tokens_and_jwts_keep_their_own_type(detect: Detect) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    assert detect("SECRET", f"ACCESS_TOKEN={jwt}") == []
    assert detect("SECRET", "GITHUB_TOKEN=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") == []
    assert veil.default_plan().redact_text(f"ACCESS_TOKEN={jwt}").text == "ACCESS_TOKEN=[REDACTED:JWT]"


@pytest.mark.parametrize(
    "text",
    [
        f"DB_PASSWORD={PW}",
        f'config: {{"api_key": "{PW}", "region": "us-east-1"}}',
        f"curl 'https://x.example/cb?client_id=app&client_secret={PW}'",
    ],
)
def test_default_plan_removes_assigned_secrets_from_text(text: str) -> None:
    result = veil.default_plan().redact_text(text)
    assert PW not in result.text
    assert "[REDACTED:SECRET]" in result.text
    assert "us-east-1" in result.text or "us-east-1" not in text


@pytest.mark.parametrize(
    "log",
    [
        f'DB_PASSWORD="{PW}"\nREGION=us-east-1\n',  # env dump in a JSON string: newlines and quotes escaped
        f'{{"client_secret": "{PW}"}}',  # JSON text inside a JSON string
        f"password={PW}&user=ann",  # form text
    ],
)
def test_default_plan_removes_assigned_secrets_from_json_strings(log: str) -> None:
    body = json.dumps({"message": log, "region": "us-east-1", "bucket": "acme-prod-uploads-2024"}).encode()
    result = veil.default_plan().redact_body(body, "application/json")
    decoded = json.loads(result.output)
    assert PW not in decoded["message"]
    assert decoded["region"] == "us-east-1"
    assert decoded["bucket"] == "acme-prod-uploads-2024"


def test_is_secret_value_never_raises_on_junk() -> None:
    for junk in ("", " ", "\x00" * 9, "é" * 12, "\ud800" * 9, "=" * 40):
        assert is_secret_value(junk) is False


# Re-review (issue 15): _is_identifier's camelCase segment, ``(?:[A-Z]?[a-z]+)+``, backtracked
# exponentially in Python's re on a long lower-case run that then failed: 38 bytes of
# ``password=a-qwerty...+`` took 5 s, 104 bytes of a secret-named assignment 39 s.
_OLD_SEGMENT = re.compile(r"[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+|(?:[A-Z]?[a-z]+)+[0-9]*")


@given(st.text(alphabet="aZq9Xb0", max_size=12))
def test_the_identifier_segment_accepts_what_it_did(segment: str) -> None:
    from veil.rules.detectors.credential import _SEGMENT

    assert bool(_SEGMENT.fullmatch(segment)) == bool(_OLD_SEGMENT.fullmatch(segment))


@pytest.mark.parametrize("value", ["a-" + "qwertyuiopasdfghjklzxcvbnm" * 3 + "+",
                                   "tok_PHONE_k1_" + "qmwusgisyihcmnwxvmgvfvlaihkftpgjx" * 2 + "6nczz+wJalrXUtnFEMI"])
def test_a_long_lower_case_run_in_an_assigned_value_is_judged_at_once(value: str) -> None:
    """Bounded: the alarm turns the old code's exponential backtracking (years, at this length) into a failure."""
    import signal

    def too_slow(*_: object) -> None:
        raise TimeoutError("is_secret_value backtracked")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        is_secret_value(value)
        assert "[REDACTED:SECRET]" in veil.default_plan().redact_text(f"password={value}").text
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
