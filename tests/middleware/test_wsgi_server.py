"""examples/flask_app.py under a real gunicorn on loopback, called over HTTP with httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import free_port, serve

PII = ("jane@example.com", "7946 0958", "4111 1111 1111 1111", "Jane Doe")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    args = ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "examples.flask_app:app"]
    with serve(args, port=port, ready="/customer", log=tmp_path_factory.mktemp("gunicorn") / "log") as url:
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
    assert resp.json() == {"email": "[REDACTED:EMAIL]", "note": "hi"}


def test_chunked_request_body_is_redacted(base_url: str) -> None:
    def parts() -> Iterator[bytes]:
        yield b'{"note": "mail jane@'
        yield b'example.com"}'

    resp = httpx.post(f"{base_url}/echo", content=parts(), headers={"content-type": "application/json"})
    assert resp.json() == {"note": "mail [REDACTED:EMAIL]"}


def test_malformed_json_is_refused_before_the_view(base_url: str) -> None:
    resp = httpx.post(f"{base_url}/echo", content=b'{"email": "jane@example.com"', headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["reason"] == "invalid_json"


def test_events_arrive_line_by_line_redacted(base_url: str) -> None:
    arrivals: list[tuple[float, str]] = []
    with httpx.stream("GET", f"{base_url}/events") as resp:
        assert "content-length" not in resp.headers
        for line in resp.iter_lines():
            if line:
                arrivals.append((time.monotonic(), line))
    assert [json.loads(line)["seq"] for _, line in arrivals] == [0, 1, 2]
    assert all(json.loads(line)["email"] == "[REDACTED:EMAIL]" for _, line in arrivals)
    # The app sleeps 0.2 s after each line: buffering would deliver all three at once.
    assert arrivals[-1][0] - arrivals[0][0] > 0.3
