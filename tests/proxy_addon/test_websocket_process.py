"""WebSocket traffic through ``veil proxy`` as real processes on loopback (issue #15).

``uvicorn tests.proxy_addon.ws_upstream:app`` is a WebSocket echo server that records every
message it receives (``$UPSTREAM_LOG``); ``veil proxy --upstream`` sits in front of it; the
client is :class:`tests.proxy_addon.ws_client.WebSocketClient` (wsproto over a socket). Each
test seeds ``jane@example.com`` and checks it reaches neither the server nor the client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.proxy_addon.test_proxy_process import Proxy, run_proxy
from tests.proxy_addon.ws_client import Closed, WebSocketClient
from tests.servers import free_port, serve

EMAIL = "jane@example.com"


@dataclass(frozen=True)
class EchoServer:
    url: str
    log: Path

    def received(self, test: str) -> list[dict[str, Any]]:
        """What arrived at the server on connections opened with ``?test=<test>``."""
        if not self.log.exists():
            return []
        records = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [r for r in records if r["test"] == test]


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoServer]:
    directory = tmp_path_factory.mktemp("ws-upstream")
    port, record = free_port(), directory / "received.jsonl"
    args = ["uvicorn", "tests.proxy_addon.ws_upstream:app", "--host", "127.0.0.1", "--port", str(port),
            "--ws", "wsproto"]
    with serve(args, port=port, ready="/health", log=directory / "uvicorn.log",
               env={"UPSTREAM_LOG": str(record)}) as url:
        yield EchoServer(url, record)


@pytest.fixture(scope="module")
def ws_proxy(echo_server: EchoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """``veil proxy`` with the built-in policy; messages over 512 bytes are over its limit."""
    with run_proxy(tmp_path_factory.mktemp("ws-proxy"), "--upstream", echo_server.url,
                   "--set", "veil_max_body_bytes=512") as proxy:
        yield proxy


def ws_url(proxy: Proxy, test: str) -> str:
    return proxy.url.replace("http://", "ws://") + f"/ws?test={test}"


def test_text_messages_are_redacted_on_the_way_to_the_server_and_back(
    ws_proxy: Proxy, echo_server: EchoServer
) -> None:
    event = {"type": "conversation.item.create", "item": {"content": [{"type": "input_text",
                                                                         "text": f"mail {EMAIL}"}]}}
    with WebSocketClient(ws_url(ws_proxy, "text")) as ws:
        ws.send(json.dumps(event))
        echoed_json = ws.receive()
        ws.send(f"please write to {EMAIL}")
        echoed_text = ws.receive()
    arrived = echo_server.received("text")
    assert [set(r) for r in arrived] == [{"test", "text"}] * 2
    for record in arrived:
        assert EMAIL not in record["text"]
    assert json.loads(arrived[0]["text"])["item"]["content"][0]["text"] == "mail [REDACTED:EMAIL]"
    assert arrived[1]["text"] == "please write to [REDACTED:EMAIL]"
    assert isinstance(echoed_json, str) and json.loads(echoed_json) == json.loads(arrived[0]["text"])
    assert echoed_text == arrived[1]["text"]


def test_a_message_the_server_sends_reaches_the_client_redacted(ws_proxy: Proxy, echo_server: EchoServer) -> None:
    with WebSocketClient(ws_url(ws_proxy, "server-event")) as ws:
        ws.send("profile")
        reply = ws.receive()
    assert isinstance(reply, str) and EMAIL not in reply
    assert json.loads(reply) == {"type": "profile", "customer": {"email": "[REDACTED:EMAIL]", "plan": "gold"}}


@pytest.mark.parametrize(("test", "message"), [
    ("binary", EMAIL.encode()),
    ("too-large", f"mail {EMAIL} " * 40),
], ids=["binary", "over-the-limit"])
def test_a_message_veil_cannot_redact_is_dropped_and_the_connection_closed(
    ws_proxy: Proxy, echo_server: EchoServer, test: str, message: str | bytes
) -> None:
    with WebSocketClient(ws_url(ws_proxy, test)) as ws:
        ws.send("hello")
        assert ws.receive() == "hello"
        ws.send(message)
        with pytest.raises(Closed):
            ws.receive()
    assert echo_server.received(test) == [{"test": test, "text": "hello"}]
    assert httpx.get(f"{ws_proxy.admin}/readyz", timeout=5).status_code == 200  # the proxy itself carries on
