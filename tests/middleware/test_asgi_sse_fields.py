"""A real uvicorn process (issue #15): SSE fields other than one-line data reach the client redacted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import free_port, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    args = ["uvicorn", "tests.middleware.sse_fields_app:app", "--host", "127.0.0.1", "--port", str(port)]
    with serve(args, port=port, ready="/", log=tmp_path_factory.mktemp("uvicorn") / "log") as url:
        yield url


def test_ids_events_comments_and_multi_line_json_are_redacted_over_a_real_socket(server: str) -> None:
    with httpx.stream("GET", f"{server}/events", timeout=10) as r:
        raw = b"".join(r.iter_bytes())
    events = raw.split(b"\n\n")
    assert events[0].splitlines()[:2] == [b"id: [REDACTED:EMAIL]", b"event: signup [REDACTED:EMAIL]"]
    assert events[1] == b": trace for [REDACTED:EMAIL]"
    data = b"\n".join(line[len(b"data:"):].removeprefix(b" ") for line in events[2].splitlines())
    assert json.loads(data) == {"password": "[REDACTED:SECRET]", "plan": "pro"}
    for secret in (b"jane@", b"bob@", b"carol@", b"hunter2"):
        assert secret not in raw
