"""A vendor on a real loopback socket for the httpx transport tests.

In-process ``WSGITransport``/``ASGITransport`` hand httpx a body that is already whole,
so they cannot show whether the transport streams, reads unread bodies, or changes the
request target on the wire. This is ``http.server`` on 127.0.0.1 in a thread: each test
gives the function that answers, and reads what arrived (raw target, headers, body).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as it arrived on the socket."""

    target: str  # the request line's target, byte for byte (latin-1)
    headers: dict[str, str]
    body: bytes


@dataclass
class Vendor:
    base: str
    seen: list[Received] = field(default_factory=list)


Answer = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return None  # quiet test output

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else self._read_chunked()
        self.server.vendor.seen.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.server.answer(self)

    do_GET = do_POST = do_PUT = do_HEAD = _handle

    def _read_chunked(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() != "chunked":
            return b""
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if not size:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    def reply(self, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        """A whole response with a Content-Length."""
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self, content_type: str, **headers: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        """One chunk, flushed at once (an empty ``data`` ends the body)."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    vendor: Vendor
    answer: Answer


@contextmanager
def serve(answer: Answer) -> Iterator[Vendor]:
    """A loopback vendor answering with ``answer``; stopped (and its threads left to die) on exit."""
    server = _Server(("127.0.0.1", 0), Handler)
    server.vendor = Vendor(f"http://127.0.0.1:{server.server_address[1]}")
    server.answer = answer
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.vendor
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
