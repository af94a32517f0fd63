"""examples/fastapi_app.py under a real uvicorn process: redaction over real sockets, and SSE that streams."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import PII, assert_profile_redacted, free_port, serve



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a uvicorn serving the example app; the process is always terminated."""
    port = free_port()
    args = ["uvicorn", "examples.fastapi_app:app", "--host", "127.0.0.1", "--port", str(port)]
    with serve(args, port=port, ready="/openapi.json", log=tmp_path_factory.mktemp("uvicorn") / "log") as url:
        yield url


def test_customer_response_reaches_the_client_without_pii(server: str) -> None:
    assert_profile_redacted(httpx.get(f"{server}/customer", timeout=10))


def test_echo_round_trip_app_sees_only_redacted_json(server: str) -> None:
    sent = {"order": 7, "customer": {"email": "jane@example.com", "name": "Jane Doe"}, "note": "card 4111 1111 1111 1111"}
    r = httpx.post(f"{server}/echo", json=sent, timeout=10)
    assert r.status_code == 200
    got = r.json()
    assert got["order"] == 7
    assert got["customer"]["email"] == "[REDACTED:EMAIL]"
    for value in PII:
        assert value not in r.text


def test_malformed_json_is_refused_before_the_app(server: str) -> None:
    r = httpx.post(f"{server}/echo", content=b'{"email": "jane@example.com"', headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 400
    assert r.json() == {"error": "veil_redaction_failed", "reason": "invalid_json", "direction": "request"}


def test_events_stream_redacted_and_arrive_before_the_last_is_produced(server: str) -> None:
    """Arrival times are compared with the app's own time.monotonic() stamps (one clock on one machine)."""
    arrivals: list[tuple[float, dict[str, object]]] = []
    with httpx.stream("GET", f"{server}/events", timeout=10) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-length" not in r.headers
        for line in r.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.monotonic(), json.loads(line[5:])))
    events = [event for _, event in arrivals]
    assert [e["n"] for e in events] == [0, 1, 2, 3]
    for event in events:
        assert event["email"] == "[REDACTED:EMAIL]"
        assert "example.com" not in json.dumps(event)
    first_arrival = arrivals[0][0]
    last_produced = events[-1]["produced_at"]
    assert isinstance(last_produced, float)
    assert first_arrival < last_produced  # streamed, not buffered until the end
    for arrived, event in arrivals:
        produced = event["produced_at"]
        assert isinstance(produced, float) and produced <= arrived
