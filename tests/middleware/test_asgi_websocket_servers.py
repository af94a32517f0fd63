"""WebSocket subprotocols, messages and close reasons through veil's ASGI middleware under
real servers (issue #15): uvicorn (its wsproto protocol, which ``--ws auto`` picks without the
``websockets`` package) and hypercorn, each serving :mod:`tests.middleware.ws_servers_app`
once for the module, and a wsproto client on a real socket.

Servers differ where the in-process tests cannot see it: uvicorn's wsproto protocol leaves
``Sec-WebSocket-Protocol`` out of the scope's headers (only ``scope["subprotocols"]`` holds the
offer), and both servers refuse to accept a subprotocol the client did not offer byte for byte.
What the app received is read from its log; what the client received, from the socket.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, RejectConnection, RejectData, Request

from tests.middleware.ws_servers_app import API_KEY, CLOSE_CODE, EMAIL, KEY_SUBPROTOCOL
from tests.proxy_addon.ws_client import WebSocketClient
from tests.servers import free_port, serve

SERVERS = {
    "uvicorn": ["uvicorn", "tests.middleware.ws_servers_app:app", "--no-access-log", "--ws", "wsproto",
                "--host", "127.0.0.1", "--port", "{port}"],
    "hypercorn": ["hypercorn", "tests.middleware.ws_servers_app:app", "--bind", "127.0.0.1:{port}"],
}
REDACTED_KEY_SUBPROTOCOL = "openai-insecure-api-key.[REDACTED:API_KEY]"


@dataclass
class Server:
    """One server process: its ``ws://`` base URL, its app's log and its own log."""

    name: str
    url: str
    app_log: Path
    log: Path

    def received(self, test: str, count: int = 0, timeout: float = 5) -> list[dict[str, Any]]:
        """What reached the app on connections opened with ``?test=<test>`` (without that key),
        once it holds ``count`` records (the app writes its last after the client saw the
        close) or ``timeout`` s have passed."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.app_log.read_text().splitlines() if self.app_log.exists() else []
            records = [{k: v for k, v in r.items() if k != "test"} for r in map(json.loads, lines) if r["test"] == test]
            if len(records) >= count or time.monotonic() > deadline:
                return records
            time.sleep(0.02)


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=pytest.mark.skipif(find_spec(name) is None, reason=f"{name} is not installed"))
    for name in SERVERS
])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    name: str = request.param
    directory = tmp_path_factory.mktemp(f"ws-{name}")
    port, app_log, log = free_port(), directory / "received.jsonl", directory / "server.log"
    args = [arg.format(port=port) for arg in SERVERS[name]]
    with serve(args, port=port, ready="/health", log=log, env={"WS_APP_LOG": str(app_log)}) as url:
        yield Server(name, url.replace("http://", "ws://"), app_log, log)


class Client(WebSocketClient):
    """A wsproto client that may offer subprotocols; a refused handshake is kept, not raised:
    ``accepted`` is the server's accept (its ``subprotocol``) or None, ``refusal`` then holds
    the HTTP status and body the server answered."""

    def __init__(self, url: str, subprotocols: tuple[str, ...] = (), timeout: float = 5) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending = []
        self.ended = False
        self.accepted: AcceptConnection | None = None
        self.refusal: tuple[int, bytes] | None = None
        target = f"{parts.path}?{parts.query}"
        self.sock.sendall(self.ws.send(Request(host=parts.netloc, target=target, subprotocols=list(subprotocols))))
        event = self._next()
        if isinstance(event, AcceptConnection):
            self.accepted = event
        else:
            assert isinstance(event, RejectConnection), event
            body = b""
            while not isinstance(part := self._next(), RejectData) or not part.body_finished:
                body += part.data if isinstance(part, RejectData) else b""
            self.refusal = (event.status_code, body + part.data)

    def __enter__(self) -> Self:
        return self

    def close_frame(self) -> tuple[int, str]:
        """The code and reason of the close frame, which must be the next thing to arrive."""
        event = self._next()
        assert isinstance(event, CloseConnection), event
        return event.code, event.reason or ""

    def close(self, code: int, reason: str) -> None:
        """Close from the client's side, with a reason."""
        self.sock.sendall(self.ws.send(CloseConnection(code=code, reason=reason)))
        self.close_frame()  # the server's answer


def connect(server: Server, test: str, query: str = "", subprotocols: tuple[str, ...] = (), mount: str = "block") -> Client:
    return Client(f"{server.url}/{mount}/ws?test={test}{query}", subprotocols)


# -- (a) subprotocols -------------------------------------------------------------------------

OFFER = ("realtime", KEY_SUBPROTOCOL)


@pytest.mark.parametrize(("offer", "accept", "seen", "chosen"), [
    (OFFER, "realtime", ["realtime", REDACTED_KEY_SUBPROTOCOL], "realtime"),
    (OFFER, None, ["realtime", REDACTED_KEY_SUBPROTOCOL], None),
    ((API_KEY, "chat", EMAIL), None, ["[REDACTED:API_KEY]", "chat", "[REDACTED:EMAIL]"], None),
    (("chat", "json.v2"), "offer:1", ["chat", "json.v2"], "json.v2"),  # near miss: nothing to redact
    (("openai-insecure-api-key.sk-proj-short", "realtime"), "offer:0",  # near miss: too short for a key
     ["openai-insecure-api-key.sk-proj-short", "realtime"], "openai-insecure-api-key.sk-proj-short"),
], ids=["key-beside-a-clean-one", "none-accepted", "bare-key-and-email", "clean", "key-near-miss"])
def test_offered_subprotocols_reach_the_app_redacted_and_the_accepted_one_reaches_the_client(
    server: Server, offer: tuple[str, ...], accept: str | None, seen: list[str], chosen: str | None,
    request: pytest.FixtureRequest,
) -> None:
    test = f"offer-{request.node.callspec.id}"
    query = f"&accept={accept}" if accept else ""
    with connect(server, test, query, offer) as ws:
        assert ws.accepted is not None, ws.refusal
        assert ws.accepted.subprotocol == chosen
        ws.send("hi")
        assert ws.receive() == "ok"
    assert server.received(test)[:2] == [{"subprotocols": seen}, {"text": "hi"}]


REFUSED_SUBPROTOCOL = (502, b'{"error":"veil_redaction_failed","reason":"subprotocol_redacted","direction":"response"}')


@pytest.mark.parametrize(("mount", "accept"), [
    ("block", "offer:1"),
    ("block", "own"),
    ("pass", "offer:1"),  # on_error: passthrough has no raw value to fall back on that the client may get
    ("requests", "offer:1"),  # responses not redacted, but the app saw the offer redacted
], ids=["the-redacted-offer", "a-secret-of-its-own", "the-redacted-offer-passthrough", "the-redacted-offer-requests-only"])
def test_an_accepted_subprotocol_veil_redacted_refuses_the_handshake_not_the_server(
    server: Server, mount: str, accept: str, request: pytest.FixtureRequest
) -> None:
    """The server may only accept what the client offered byte for byte, and the client must
    not get the secret back: veil answers its own error, the server logs no traceback."""
    test = f"refuse-{request.node.callspec.id}"
    with connect(server, test, f"&accept={accept}", OFFER, mount) as ws:
        assert ws.accepted is None
        assert ws.refusal == REFUSED_SUBPROTOCOL
    assert server.received(test, 2) == [  # the app's accept went nowhere; it learns on its next receive
        {"subprotocols": ["realtime", REDACTED_KEY_SUBPROTOCOL]}, {"disconnect": 1008, "reason": "veil: subprotocol_redacted"},
    ]
    time.sleep(0.1)  # let the server write what it logs about the connection
    log = server.log.read_text()
    assert "Traceback" not in log and "Exception" not in log, log
    assert API_KEY not in log, log


def test_a_secret_subprotocol_of_the_apps_own_crosses_where_responses_are_not_redacted(server: Server) -> None:
    """Near miss of the refusal: with ``responses=False`` the app's accept is its own to send."""
    with connect(server, "own-requests-only", "&accept=own", OFFER, "requests") as ws:
        assert ws.accepted is not None, ws.refusal
        assert ws.accepted.subprotocol == KEY_SUBPROTOCOL


# -- (b) text and binary messages, both ways ---------------------------------------------------

@pytest.mark.parametrize(("sent", "arrived"), [
    ('{"item": {"text": "mail jane@example.com"}}', '{"item": {"text": "mail [REDACTED:EMAIL]"}}'),
    (f"key {API_KEY} for jane@example.com", "key [REDACTED:API_KEY] for [REDACTED:EMAIL]"),
    ("jane at example dot com", "jane at example dot com"),  # near miss
], ids=["json", "text", "near-miss"])
def test_a_text_message_from_the_client_reaches_the_app_redacted(
    server: Server, sent: str, arrived: str, request: pytest.FixtureRequest
) -> None:
    test = f"in-{request.node.callspec.id}"
    with connect(server, test) as ws:
        ws.send(sent)
        assert ws.receive() == "ok"
    assert server.received(test)[1:2] == [{"text": arrived}]


@pytest.mark.parametrize(("command", "reply"), [
    ("say:json", '{"type": "profile", "customer": {"email": "[REDACTED:EMAIL]", "plan": "gold"}}'),
    ("say:text", "write to [REDACTED:EMAIL] today"),
    ("say:plain", "nothing personal"),
], ids=["json", "text", "clean"])
def test_a_text_message_from_the_app_reaches_the_client_redacted(server: Server, command: str, reply: str) -> None:
    with connect(server, "out") as ws:
        ws.send(command)
        assert ws.receive() == reply


# -- (c) what veil cannot redact closes the socket ------------------------------------------------

@pytest.mark.parametrize(("message", "reason"), [
    (f"binary {EMAIL}".encode(), "binary_message"),  # binary is not read: it must not cross
    (f"mail {EMAIL} " * 40, "body_too_large"),
    (r'{"email": "jane\u0040example.com", "x": NaN}', "invalid_json"),  # Python's json reads the address
], ids=["binary", "over-the-limit", "escape-in-broken-json"])
def test_a_client_message_veil_cannot_redact_closes_the_socket_and_never_reaches_the_app(
    server: Server, message: str | bytes, reason: str, request: pytest.FixtureRequest
) -> None:
    test = f"refused-in-{request.node.callspec.id}"
    with connect(server, test) as ws:
        ws.send("hello")
        assert ws.receive() == "ok"
        ws.send(message)
        assert ws.close_frame() == (1008, f"veil: {reason}")
    assert server.received(test, 3)[1:] == [{"text": "hello"}, {"disconnect": 1008, "reason": f"veil: {reason}"}]


def test_a_binary_message_from_the_app_closes_the_socket_and_never_reaches_the_client(server: Server) -> None:
    with connect(server, "refused-out") as ws:
        ws.send("say:plain")
        assert ws.receive() == "nothing personal"
        ws.send("say:bytes")
        assert ws.close_frame() == (1008, "veil: binary_message")


# -- (d) close reasons ----------------------------------------------------------------------------

def test_the_apps_close_reason_reaches_the_client_redacted(server: Server) -> None:
    with connect(server, "close-out") as ws:
        ws.send("close")
        assert ws.close_frame() == (CLOSE_CODE, "bye [REDACTED:EMAIL]")


DISCONNECT = {
    "uvicorn": {"disconnect": 4001, "reason": "bye [REDACTED:EMAIL]"},
    "hypercorn": {"disconnect": 1006, "reason": None},  # hypercorn 0.17 tells the app neither code nor reason
}


def test_the_clients_close_reason_reaches_the_app_redacted(server: Server) -> None:
    with connect(server, "close-in") as ws:
        ws.send("hi")
        assert ws.receive() == "ok"
        ws.close(4001, f"bye {EMAIL}")
    assert server.received("close-in", 3)[2:] == [DISCONNECT[server.name]]
