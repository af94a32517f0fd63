"""An ASGI app under a real uvicorn on loopback, on a thread of this process (so a test can hand the
app objects no child process could share, such as a vault backend the test controls)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.servers import free_port


@contextmanager
def uvicorn_thread(app: Any, *, thread_name: str = "uvicorn") -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL. Start-up and shut-down are bounded."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=thread_name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
