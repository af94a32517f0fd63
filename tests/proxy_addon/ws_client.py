"""A blocking WebSocket client for tests, on wsproto (a dependency of mitmproxy) over a plain socket."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection, BytesMessage, CloseConnection, Event, Message, Ping, RejectConnection, Request, TextMessage,
)


class Closed(Exception):
    """The connection ended (a close frame or the socket closed) before a message arrived."""


class WebSocketClient:
    """``with WebSocketClient("ws://127.0.0.1:8080/ws") as ws: ws.send("hi"); ws.receive()``."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: list[Event] = []
        self.ended = False
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.sock.sendall(self.ws.send(Request(host=parts.netloc, target=target)))
        event = self._next()
        if not isinstance(event, AcceptConnection):
            raise Closed(f"handshake refused: {event!r}")

    def __enter__(self) -> WebSocketClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, message: str | bytes) -> None:
        event = TextMessage(data=message) if isinstance(message, str) else BytesMessage(data=message)
        self.sock.sendall(self.ws.send(event))

    def receive(self) -> str | bytes:
        """The next whole message; raises :class:`Closed` when the connection ends first."""
        parts: list[str | bytes] = []
        while True:
            event = self._next()
            if isinstance(event, Message):
                parts.append(event.data)
                if event.message_finished:
                    return "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)  # type: ignore[arg-type]
            elif isinstance(event, (CloseConnection, RejectConnection)):
                raise Closed(repr(event))

    def _next(self) -> Event:
        while not self.pending:
            if self.ended:
                raise Closed("the socket closed")
            data = self.sock.recv(65536)
            self.ended = not data
            self.ws.receive_data(data or None)
            for event in self.ws.events():
                if isinstance(event, Ping):
                    self.sock.sendall(self.ws.send(event.response()))
                else:
                    self.pending.append(event)
        return self.pending.pop(0)
