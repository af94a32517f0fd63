"""The upstream behind Envoy in the ext_proc tests: a Starlette app served by uvicorn in a thread.

It records the last request it received (what crossed Envoy and veil, read by the test in
process, never through veil again) and answers with the reply the test queued, chunk by chunk.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


@dataclass
class Reply:
    """What the upstream answers next: ``chunks`` sent one by one (``pause`` apart) when more than one."""

    chunks: tuple[bytes, ...] = (b'{"ok": true}',)
    headers: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)
    status: int = 200
    pause: float = 0.05


@dataclass
class Upstream:
    received: list[Received] = field(default_factory=list)
    reply: Reply = field(default_factory=Reply)
    base: str = ""

    def answer(self, reply: Reply) -> None:
        self.reply = reply

    @property
    def last(self) -> Received:
        assert self.received, "nothing reached the upstream"
        return self.received[-1]

    async def handle(self, request: Request) -> Response:
        scope = request.scope
        self.received.append(Received(
            scope["method"], scope["raw_path"].decode("latin-1"), scope["query_string"].decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]], await request.body()))
        reply, self.reply = self.reply, Reply()
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        if len(reply.chunks) == 1:
            response = Response(reply.chunks[0], status_code=reply.status)
        else:

            async def chunks() -> AsyncIterator[bytes]:
                for n, chunk in enumerate(reply.chunks):
                    if n:
                        await asyncio.sleep(reply.pause)
                    yield chunk

            response = StreamingResponse(chunks(), status_code=reply.status)
        response.raw_headers = [(k, v) for k, v in response.raw_headers if k != b"content-type"] + raw
        return response

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST", "PUT", "HEAD"])])


@contextmanager
def serve_upstream(port: int) -> Iterator[Upstream]:
    """The upstream on 127.0.0.1:``port`` until the block ends."""
    upstream = Upstream(base=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(upstream.app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the upstream did not start"
        time.sleep(0.02)
    try:
        yield upstream
    finally:
        server.should_exit = True
        thread.join(timeout=5)
