"""examples/django_app under a real gunicorn on loopback, called over HTTP with httpx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import free_port, serve

PII = ("jane@example.com", "7946 0958", "4111 1111 1111 1111", "Jane Doe")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    args = ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "examples.django_app.wsgi:application"]
    log = tmp_path_factory.mktemp("gunicorn") / "log"
    # The built-in default policy, and the example's own settings module.
    with serve(args, port=port, ready="/customer", log=log, drop_env=("VEIL_POLICY", "DJANGO_SETTINGS_MODULE")) as url:
        yield url


def test_customer_response_carries_no_pii(base_url: str) -> None:
    resp = httpx.get(f"{base_url}/customer")
    assert resp.status_code == 200
    assert resp.headers["content-length"] == str(len(resp.content))
    for value in PII:
        assert value not in resp.text
    assert resp.json()["plan"] == "pro" and resp.json()["customer"]["email"] == "[REDACTED:EMAIL]"


def test_echo_round_trip_the_view_only_sees_redacted_values(base_url: str) -> None:
    resp = httpx.post(f"{base_url}/echo?email=jane%40example.com", json={"email": "jane@example.com", "note": "hi"})
    assert resp.status_code == 200 and resp.json() == {"email": "[REDACTED:EMAIL]", "note": "hi"}


def test_bad_json_request_is_refused_with_the_documented_400(base_url: str) -> None:
    resp = httpx.post(f"{base_url}/echo", content=b'{"email": "jane@example.com",',
                      headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.headers["content-type"] == "application/json"
    assert resp.content == b'{"error":"veil_redaction_failed","reason":"invalid_json","direction":"request"}'


def test_ndjson_events_stream_redacted_line_by_line(base_url: str) -> None:
    with httpx.stream("GET", f"{base_url}/events") as resp:
        assert "content-length" not in resp.headers
        lines = [json.loads(line) for line in resp.iter_lines() if line]
    assert [line["email"] for line in lines] == ["[REDACTED:EMAIL]"] * 3
