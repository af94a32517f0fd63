"""A stream veil must abort after its headers went out, under real servers (issue #15): the
client sees a broken stream holding only redacted lines, and the server log holds ONE warning
line naming the reason: no traceback, no path, no payload."""

from __future__ import annotations

import time
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, serve

SERVERS = {
    "uvicorn": ["uvicorn", "tests.middleware.abort_app:app", "--no-access-log", "--host", "127.0.0.1", "--port"],
    "gunicorn-uvicorn-worker": ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "tests.middleware.abort_app:app",
                                "-b"],
    "gunicorn-sync": ["gunicorn", "tests.middleware.abort_app:wsgi", "-b"],
    "hypercorn": ["hypercorn", "tests.middleware.abort_app:app", "--bind"],  # a test-only dependency (issue 15)
}
NOT_INSTALLED = {name for name in SERVERS if find_spec(SERVERS[name][0]) is None}


def read_feed(base: str) -> tuple[bytes, bool]:
    """(bytes received, whether the stream broke rather than ended cleanly)."""
    received = b""
    try:
        with httpx.stream("GET", f"{base}/feed", timeout=10) as r:
            assert r.status_code == 200  # the head was out before the failure
            for chunk in r.iter_raw():
                received += chunk
    except httpx.RemoteProtocolError:
        return received, True
    return received, False


@pytest.mark.parametrize("server", [
    pytest.param(name, marks=pytest.mark.skipif(name in NOT_INSTALLED, reason=f"{name} is not installed"))
    for name in SERVERS
])
def test_an_aborted_stream_is_one_warning_line_in_the_server_log(server: str, tmp_path: Path) -> None:
    port = free_port()
    args = SERVERS[server] + [str(port) if server == "uvicorn" else f"127.0.0.1:{port}"]
    log = tmp_path / "log"
    with serve(args, port=port, ready="/", log=log) as base:
        received, broken = read_feed(base)
        time.sleep(0.3)  # let the server write what it logs about the request
    assert broken, "the cut stream must not look complete"
    assert received == b'{"n": 1, "email": "[REDACTED:EMAIL]"}\n'
    text = log.read_text()
    warnings = [line for line in text.splitlines() if "veil:" in line]
    assert len(warnings) == 1, text
    assert "response redaction failed: invalid_json" in warnings[0] and "stream aborted" in warnings[0], text
    assert "Traceback" not in text and "Exception in ASGI" not in text and "Error handling request" not in text, text
    assert "jane" not in text and "/feed" not in text, text
