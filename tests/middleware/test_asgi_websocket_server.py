"""WebSocket redaction in the ASGI middleware, over real sockets (issue #15): uvicorn serving
:mod:`tests.middleware.ws_app` (Starlette behind ``ASGIMiddleware``), a wsproto client.

What the app received is read from its log; what the client received, from the socket. Before
the middleware read WebSocket scopes, every e-mail address below crossed in both directions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Self

import pytest
from wsproto.events import CloseConnection

from tests.middleware.ws_app import CLOSE_CODE, EMAIL
from tests.proxy_addon.test_websocket_process import EchoServer
from tests.proxy_addon.ws_client import WebSocketClient
from tests.servers import free_port, serve


class App(EchoServer):
    """The app's URL (``ws://``) and its log of what reached it."""

    def received(self, test: str) -> list[dict[str, Any]]:
        """What reached the app on connections opened with ``?test=<test>``, without that key."""
        return [{k: v for k, v in r.items() if k != "test"} for r in super().received(test)]

    def received_at_least(self, test: str, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        """:meth:`received`, once it holds ``count`` records (the app writes its last one after the
        client saw the close) or ``timeout`` s have passed."""
        deadline = time.monotonic() + timeout
        while len(records := self.received(test)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return records


class Client(WebSocketClient):
    def __enter__(self) -> Self:
        return self

    def close_frame(self) -> tuple[int, str]:
        """The code and reason of the close frame, which must be the next thing to arrive."""
        event = self._next()
        assert isinstance(event, CloseConnection), event
        return event.code, event.reason or ""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    directory = tmp_path_factory.mktemp("ws-app")
    port, log = free_port(), directory / "received.jsonl"
    args = ["uvicorn", "tests.middleware.ws_app:app", "--host", "127.0.0.1", "--port", str(port), "--ws", "wsproto"]
    with serve(args, port=port, ready="/health", log=directory / "uvicorn.log", env={"WS_APP_LOG": str(log)}) as url:
        yield App(url.replace("http://", "ws://"), log)


def connect(app: App, test: str, mount: str = "block", path: str = "/ws") -> Client:
    return Client(f"{app.url}/{mount}{path}?test={test}")


HANDSHAKE = {"path": "/block/ws", "query": "test={}"}


@pytest.mark.parametrize(("sent", "arrived"), [
    ('{"item": {"text": "mail jane@example.com"}}', '{"item": {"text": "mail [REDACTED:EMAIL]"}}'),
    ("please write to jane@example.com", "please write to [REDACTED:EMAIL]"),
    ('{"note": jane@example.com', '{"note": [REDACTED:EMAIL]'),  # looks like JSON, is not: read as text
    ("[1, 2, 3]", "[1, 2, 3]"),  # nothing personal: byte for byte
    ("jane at example dot com", "jane at example dot com"),  # near miss: not an address
    (r'"jane\u0040example.com"', '"[REDACTED:EMAIL]"'),  # a top-level JSON string, its escape decoded
    (r'{"note": "a\nb", "x": NaN}', r'{"note": "a\nb", "x": NaN}'),  # only looks like JSON; no value behind \n
], ids=["json", "text", "broken-json", "clean-json", "near-miss", "top-level-string", "escape-hides-nothing"])
def test_a_text_message_from_the_client_reaches_the_app_redacted(
    app: App, sent: str, arrived: str, request: pytest.FixtureRequest
) -> None:
    test = f"in-{request.node.callspec.id}"
    with connect(app, test) as ws:
        ws.send(sent)
        assert ws.receive() == "ok"
    handshake = {k: v.format(test) for k, v in HANDSHAKE.items()}
    assert app.received(test)[:2] == [handshake, {"text": arrived}]


@pytest.mark.parametrize(("command", "reply"), [
    ("say:json", '{"type": "profile", "customer": {"email": "[REDACTED:EMAIL]", "plan": "gold"}}'),
    ("say:text", "write to [REDACTED:EMAIL] today"),
    ("say:plain", "nothing personal"),
], ids=["json", "text", "clean"])
def test_a_text_message_from_the_app_reaches_the_client_redacted(app: App, command: str, reply: str) -> None:
    with connect(app, "out") as ws:
        ws.send(command)
        assert ws.receive() == reply


def test_the_handshake_path_and_query_reach_the_app_redacted(app: App) -> None:
    with Client(f"{app.url}/block/ws/{EMAIL}?test=handshake&owner={EMAIL}") as ws:
        ws.send("hi")
        assert ws.receive() == "ok"
    first = app.received("handshake")[0]
    assert first == {"path": "/block/ws/[REDACTED:EMAIL]", "query": "test=handshake&owner=[REDACTED:EMAIL]"}


def test_the_apps_close_reason_reaches_the_client_redacted(app: App) -> None:
    with connect(app, "close") as ws:
        ws.send("close")
        assert ws.close_frame() == (CLOSE_CODE, "bye [REDACTED:EMAIL]")


@pytest.mark.parametrize(("mount", "message", "reason"), [
    ("block", EMAIL.encode(), "binary_message"),
    ("block", f"mail {EMAIL} " * 40, "body_too_large"),
    ("pass", f"mail {EMAIL} " * 40, "body_too_large"),  # on_error: passthrough does not apply to messages
    ("block", r'{"email": "jane\u0040example.com", "x": NaN}', "invalid_json"),  # Python's json reads the address
], ids=["binary", "over-the-limit", "over-the-limit-passthrough", "escape-in-broken-json"])
def test_a_client_message_veil_cannot_redact_never_reaches_the_app_and_closes_the_socket(
    app: App, mount: str, message: str | bytes, reason: str
) -> None:
    test = f"refused-{mount}-{reason}"
    with connect(app, test, mount) as ws:
        ws.send("hello")
        assert ws.receive() == "ok"
        ws.send(message)
        assert ws.close_frame() == (1008, f"veil: {reason}")
    assert app.received_at_least(test, 3)[1:] == [{"text": "hello"}, {"disconnect": 1008}]


@pytest.mark.parametrize(("mount", "command", "reason"), [
    ("block", "say:bytes", "binary_message"),
    ("block", "say:big", "body_too_large"),
    ("pass", "say:big", "body_too_large"),
], ids=["binary", "over-the-limit", "over-the-limit-passthrough"])
def test_an_app_message_veil_cannot_redact_never_reaches_the_client_and_closes_the_socket(
    app: App, mount: str, command: str, reason: str
) -> None:
    with connect(app, f"refused-out-{mount}", mount) as ws:
        ws.send("say:plain")
        assert ws.receive() == "nothing personal"
        ws.send(command)
        assert ws.close_frame() == (1008, f"veil: {reason}")


def test_binary_messages_cross_unread_when_the_middleware_is_told_they_carry_no_text(app: App) -> None:
    with connect(app, "binary-pass", "binary") as ws:
        ws.send(b"\x00\x01audio")
        assert ws.receive() == "ok"
        ws.send("say:bytes")
        assert ws.receive() == f"binary {EMAIL}".encode()  # unread, as the option says
        ws.send(f"mail {EMAIL}")
        assert ws.receive() == "ok"
    assert app.received("binary-pass")[1:4] == [
        {"hex": b"\x00\x01audio".hex()}, {"text": "say:bytes"}, {"text": "mail [REDACTED:EMAIL]"},
    ]
