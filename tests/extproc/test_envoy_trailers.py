"""Bodies that end in trailers, through a real Envoy with ``veil extproc`` as its ext_proc filter (issue 17).

Envoy sends a body that ends in trailers without ``end_of_stream`` (its trailers come next), the very
shape of a ``BUFFERED_PARTIAL`` body cut at Envoy's buffer: veil refused every such body whose head is
text (``body_too_large``), a small chunked reply under ``application/octet-stream`` included. Envoy cuts
only above its buffer limit, which the example declares to veil (``veil-buffer-limit-bytes``): a body
within it and within veil's limit is whole, and redacted; one over either is still refused.

Envoy's HTTP/1 codec drops trailers unless ``enable_trailers`` is set, for the upstream (its cluster)
and for the client (the listener's connection manager): both are set here. The upstream speaks HTTP/1.1
through h11, which sends and reads trailers (uvicorn and httpx do neither); the client speaks HTTP/1.1
through h11 and HTTP/2 (h2c, prior knowledge) through h2, as a gRPC client sends trailers: every client
test runs both ways, Envoy translating between the two.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h11
import pytest

from tests.extproc.gateway import (
    example_config,
    has_envoy_extra,
    run_envoy,
    run_extproc,
)
from tests.servers import free_port

pytestmark = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")

LIMIT = 8192
BUFFER = LIMIT + 64 * 1024
POLICY = f"""\
version: 1
limits: {{max_body_bytes: {LIMIT}}}
rules:
  - id: detectors
    scan:
      detectors: [EMAIL]
      action: redact
"""
ERROR = '{{"error":"veil_redaction_failed","reason":"{reason}","direction":"{direction}"}}'
TEXT = (b"write to jane@exa", b"mple.com today\n")  # the address split across two chunks
REDACTED = b"write to [REDACTED:EMAIL] today\n"
TRAILERS = [("x-digest", "abc123"), ("x-owner", "jane@example.com")]
TRAILERS_REDACTED = {"x-digest": "abc123", "x-owner": "[REDACTED:EMAIL]"}
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@dataclass
class Message:
    """One HTTP/1.1 message as h11 read it (``status`` 0 for a request)."""

    status: int = 0
    body: bytes = b""
    trailers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    chunks: tuple[bytes, ...] = TEXT
    content_type: str | None = "application/octet-stream"
    trailers: list[tuple[str, str]] = field(default_factory=lambda: list(TRAILERS))


def _read(conn: h11.Connection, sock: socket.socket) -> Message | None:
    """The next message ``conn`` reads from ``sock``; None if the connection closes or is cut first."""
    message = Message()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError:
            return None
        if event is h11.NEED_DATA:
            try:
                conn.receive_data(sock.recv(65536))  # b"": the peer closed
            except OSError:
                return None
        elif isinstance(event, h11.Response):
            message.status = event.status_code
        elif isinstance(event, h11.Data):
            message.body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            message.trailers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
            return message
        elif isinstance(event, h11.ConnectionClosed):
            return None


def _send(conn: h11.Connection, sock: socket.socket, head: h11.Request | h11.Response, chunks: tuple[bytes, ...],
          trailers: list[tuple[str, str]]) -> None:
    sock.sendall(conn.send(head) or b"")
    for chunk in chunks:
        sock.sendall(conn.send(h11.Data(data=chunk)) or b"")
    sock.sendall(conn.send(h11.EndOfMessage(headers=trailers)) or b"")


def _chunked(content_type: str | None, trailers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    head = [("transfer-encoding", "chunked")]
    if content_type is not None:
        head.append(("content-type", content_type))
    if trailers:
        head.append(("trailer", ", ".join(name for name, _ in trailers)))
    return head


@dataclass
class Upstream:
    """An HTTP/1.1 upstream that answers ``reply`` chunked, its trailers after the body, and records what it got."""

    port: int
    reply: Reply = field(default_factory=Reply)
    received: list[Message] = field(default_factory=list)

    def serve(self, listener: socket.socket, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.connection, args=(sock,), daemon=True).start()

    def connection(self, sock: socket.socket) -> None:
        conn = h11.Connection(h11.SERVER)
        with sock:
            while True:
                got = _read(conn, sock)
                if got is None:
                    return
                self.received.append(got)
                reply, self.reply = self.reply, Reply()
                _send(conn, sock, h11.Response(status_code=200, headers=_chunked(reply.content_type, reply.trailers)),
                      reply.chunks, reply.trailers)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()


@dataclass
class Gateway:
    base_port: int
    upstream: Upstream

    def request(self, method: str = "GET", chunks: tuple[bytes, ...] = (), content_type: str | None = None,
                trailers: list[tuple[str, str]] | None = None, *, http2: bool = False) -> Message:
        """One exchange on a new connection; a body is sent chunked (HTTP/2: in DATA frames), ``trailers``
        after it. Status 0: the connection or the stream was cut before the reply was whole."""
        if http2:
            return self._request_h2(method, chunks, content_type, trailers or [])
        conn = h11.Connection(h11.CLIENT)
        head = [("host", "127.0.0.1")]
        if chunks:
            head += _chunked(content_type, trailers or [])
        with socket.create_connection(("127.0.0.1", self.base_port), timeout=10) as sock:
            if chunks:
                _send(conn, sock, h11.Request(method=method, target="/v1/export", headers=head), chunks, trailers or [])
            else:
                sock.sendall(conn.send(h11.Request(method=method, target="/v1/export", headers=head)) or b"")
                sock.sendall(conn.send(h11.EndOfMessage()) or b"")
            return _read(conn, sock) or Message()

    def _request_h2(self, method: str, chunks: tuple[bytes, ...], content_type: str | None,
                    trailers: list[tuple[str, str]]) -> Message:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        head = [(":method", method), (":path", "/v1/export"), (":scheme", "http"), (":authority", "127.0.0.1")]
        if content_type is not None:
            head.append(("content-type", content_type))
        with socket.create_connection(("127.0.0.1", self.base_port), timeout=10) as sock:
            conn.initiate_connection()
            stream = conn.get_next_available_stream_id()
            conn.send_headers(stream, head, end_stream=not chunks)
            for n, chunk in enumerate(chunks):  # small bodies only: within the initial flow-control window
                conn.send_data(stream, chunk, end_stream=n == len(chunks) - 1 and not trailers)
            if chunks and trailers:
                conn.send_headers(stream, trailers, end_stream=True)
            sock.sendall(conn.data_to_send())
            message = Message()
            while True:
                data = sock.recv(65536)
                if not data:
                    return Message()
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        message.status = int(dict(event.headers)[":status"])
                    elif isinstance(event, h2.events.DataReceived):
                        message.body += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.TrailersReceived):
                        message.trailers = dict(event.headers)
                    elif isinstance(event, h2.events.StreamEnded):
                        return message
                    elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                        return Message()
                sock.sendall(conn.data_to_send())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("envoy-trailers")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    upstream, stopping = Upstream(listener.getsockname()[1]), threading.Event()
    thread = threading.Thread(target=upstream.serve, args=(listener, stopping), daemon=True)
    thread.start()
    try:
        with run_extproc(policy, directory) as (ports, _):
            config = example_config(free_port(), upstream.port, ports, BUFFER)
            resources = config["static_resources"]
            [cluster] = [c for c in resources["clusters"] if c["name"] == "upstream"]
            cluster["typed_extension_protocol_options"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http_protocol_options": {"enable_trailers": True}}}}
            manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
            manager["http_protocol_options"] = {"enable_trailers": True}
            with run_envoy(config, directory) as base:
                yield Gateway(int(base.rpartition(":")[2]), upstream)
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


# -- responses --------------------------------------------------------------------------------------

BOTH_PROTOCOLS = pytest.mark.parametrize("http2", [False, True], ids=["http1", "h2"])


@BOTH_PROTOCOLS
@pytest.mark.parametrize(("content_type", "chunks", "redacted"), [
    ("application/octet-stream", TEXT, REDACTED),  # a binary label, a text head: the case
    (None, TEXT, REDACTED),  # no Content-Type
    ("application/json", (b'{"email": "jane@exa', b'mple.com", "n": 1}'), b'{"email": "[REDACTED:EMAIL]", "n": 1}'),
])
def test_chunked_reply_ending_in_trailers_is_redacted_whole_with_its_trailers(
    gateway: Gateway, content_type: str | None, chunks: tuple[bytes, ...], redacted: bytes, http2: bool,
) -> None:
    gateway.upstream.reply = Reply(chunks, content_type)
    got = gateway.request(http2=http2)
    assert (got.status, got.body) == (200, redacted)
    assert got.trailers == TRAILERS_REDACTED


@BOTH_PROTOCOLS
def test_binary_reply_over_the_buffer_ending_in_trailers_passes_byte_for_byte(gateway: Gateway, http2: bool) -> None:
    body = PNG_HEAD + bytes(range(256)) * (BUFFER // 128)  # twice Envoy's buffer: cut there, then unread
    gateway.upstream.reply = Reply((body[:1000], body[1000:]), "image/png")
    got = gateway.request(http2=http2)
    assert (got.status, got.body == body, got.trailers) == (200, True, TRAILERS_REDACTED)


@BOTH_PROTOCOLS
@pytest.mark.parametrize("size", [
    LIMIT + 1,  # whole (within Envoy's buffer), over veil's limit
    BUFFER * 3,  # over Envoy's buffer too: cut there
])
def test_text_reply_over_the_limit_ending_in_trailers_is_still_refused(gateway: Gateway, size: int, http2: bool) -> None:
    text = (b"jane@example.com " * (size // 17 + 1))[:size]
    gateway.upstream.reply = Reply((text[:1000], text[1000:]))
    got = gateway.request(http2=http2)
    assert (got.status, got.body) == (502, ERROR.format(reason="body_too_large", direction="response").encode())
    assert b"jane" not in got.body


# -- requests ---------------------------------------------------------------------------------------


@BOTH_PROTOCOLS
def test_chunked_request_ending_in_trailers_reaches_the_upstream_redacted(gateway: Gateway, http2: bool) -> None:
    before = len(gateway.upstream.received)
    got = gateway.request("POST", TEXT, "application/octet-stream", TRAILERS, http2=http2)
    assert got.status == 200
    [sent] = gateway.upstream.received[before:]
    assert (sent.body, sent.trailers) == (REDACTED, TRAILERS_REDACTED)


@BOTH_PROTOCOLS
def test_request_over_the_limit_ending_in_trailers_is_refused_before_the_upstream(gateway: Gateway, http2: bool) -> None:
    before = len(gateway.upstream.received)
    text = (b"jane@example.com " * (LIMIT // 17 + 2))[:LIMIT + 1]
    got = gateway.request("POST", (text[:1000], text[1000:]), "application/octet-stream", TRAILERS, http2=http2)
    assert (got.status, got.body) == (413, ERROR.format(reason="body_too_large", direction="request").encode())
    assert len(gateway.upstream.received) == before
