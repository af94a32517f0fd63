"""A real uvicorn process: an e-mail and a card split across streamed SSE deltas reach the client redacted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.middleware.split_delta_app import REPLY
from tests.servers import free_port, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    args = ["uvicorn", "tests.middleware.split_delta_app:app", "--host", "127.0.0.1", "--port", str(port)]
    with serve(args, port=port, ready="/", log=tmp_path_factory.mktemp("uvicorn") / "log") as url:
        yield url


def test_values_split_across_deltas_are_redacted_over_a_real_socket(server: str) -> None:
    with httpx.stream("GET", f"{server}/chat", timeout=10) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(r.iter_bytes())
    events = [line[len(b"data: "):] for line in raw.splitlines() if line.startswith(b"data: {")]
    text = "".join(json.loads(event)["choices"][0]["delta"]["content"] for event in events)
    assert len(events) == len(REPLY)  # every event arrives, none is added
    assert text == "Sure, write to [REDACTED:EMAIL] or pay with [REDACTED:CREDIT_CARD] today."
    assert raw.endswith(b"data: [DONE]\n\n")
    for piece in ("jane.doe", "example.com", "4111"):
        assert piece.encode() not in raw
