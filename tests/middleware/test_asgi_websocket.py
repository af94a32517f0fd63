"""WebSocket scopes in the ASGI middleware, as raw ASGI messages (issue #15): what the observer
is told, the warning line, handshake and accept headers, denial responses, close reasons, and
what the app meets after veil closed the socket. Real sockets: test_asgi_websocket_server.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from veil.errors import RedactionError
from veil.http.exchange import Exchange
from veil.http.websocket import WebSocketClosed
from veil.middleware.asgi import ASGIMiddleware

pytestmark = pytest.mark.anyio

EMAIL = "jane@example.com"
POLICY = {"version": 1, "limits": {"max_body_bytes": 64}, "rules": [{"scan": True}]}
Message = dict[str, Any]
DENIAL: dict[str, Any] = {"websocket.http.response": {}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Recorder:
    """An observer that keeps every call."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def observe(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def outcomes(self) -> list[tuple[str, str, str]]:
        return [(c["direction"], c["outcome"], c["reason"]) for c in self.calls]


@dataclass
class ScriptedApp:
    """Takes the connect, sends ``outgoing`` in order, then receives until a disconnect."""

    outgoing: list[Message]
    scope: dict[str, Any] = field(default_factory=dict)
    received: list[Message] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        self.received.append(await receive())
        for message in self.outgoing:
            await send(message)
        while (message := await receive())["type"] != "websocket.disconnect":
            self.received.append(message)
        self.received.append(message)


def ws_scope(path: str = "/ws", query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
             extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "websocket", "path": path, "raw_path": path.encode(), "query_string": query,
            "headers": headers or [(b"host", b"app.test")], "extensions": extensions or {}}


async def run(app: Any, incoming: list[Message], scope: dict[str, Any] | None = None, *,
              sent: list[Message] | None = None, **options: Any) -> list[Message]:
    """The middleware over ``app`` with the client's ``incoming`` messages; what it sent the client
    (also into ``sent`` as it goes, for a run that raises)."""
    queue = [{"type": "websocket.connect"}, *incoming]
    sent = [] if sent is None else sent

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await ASGIMiddleware(app, policy=POLICY, **options)(scope or ws_scope(), receive, send)
    return sent


def text(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


ACCEPT = {"type": "websocket.accept"}


@pytest.mark.parametrize(("incoming", "outgoing", "observed"), [
    ([text(f"mail {EMAIL}")], [], [("request", "rewritten", "")]),
    ([text("hello")], [{"type": "websocket.send", "text": "hi"}], [("response", "unchanged", ""),
                                                                    ("request", "unchanged", "")]),
    ([{"type": "websocket.receive", "bytes": b"\x00"}], [], [("request", "error", "binary_message")]),
    ([], [{"type": "websocket.send", "text": "x" * 65}], [("response", "error", "body_too_large")]),  # 1 over
    ([], [{"type": "websocket.send", "text": "x" * 64}], [("response", "unchanged", "")]),  # at the limit
], ids=["rewritten", "unchanged-both-ways", "binary", "over-the-limit", "at-the-limit"])
async def test_every_message_is_reported_to_the_observer(
    incoming: list[Message], outgoing: list[Message], observed: list[tuple[str, str, str]]
) -> None:
    recorder = Recorder()
    await run(ScriptedApp([ACCEPT, *outgoing]), incoming, observer=recorder)
    assert recorder.outcomes() == observed
    assert {c["adapter"] for c in recorder.calls} == {"asgi"}


@pytest.mark.parametrize("on_error", ["block", "passthrough"])
async def test_a_message_that_cannot_cross_closes_the_socket_with_one_warning_and_no_payload(
    on_error: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = ScriptedApp([ACCEPT])
    with caplog.at_level(logging.WARNING):
        sent = await run(app, [text(f"mail {EMAIL} " * 5)], ws_scope(path=f"/ws/{EMAIL}"), on_error=on_error)
    assert sent == [ACCEPT, {"type": "websocket.close", "code": 1008, "reason": "veil: body_too_large"}]
    assert app.received[1:] == [{"type": "websocket.disconnect", "code": 1008, "reason": "veil: body_too_large"}]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "body_too_large" in warnings[0] and "(GET, rules:" in warnings[0]
    assert EMAIL not in caplog.text and "jane" not in caplog.text


async def test_an_app_that_sends_after_veil_closed_is_told_the_socket_is_closed() -> None:
    app = ScriptedApp([ACCEPT, {"type": "websocket.send", "bytes": b"\x00"}, {"type": "websocket.send", "text": "later"}])
    sent: list[Message] = []
    with pytest.raises(WebSocketClosed) as raised:
        await run(app, [], sent=sent)
    assert isinstance(raised.value, OSError) and raised.value.reason == "binary_message"
    assert sent == [ACCEPT, {"type": "websocket.close", "code": 1008, "reason": "veil: binary_message"}]


async def test_nothing_after_veils_close_reaches_the_client() -> None:
    app = ScriptedApp([ACCEPT, {"type": "websocket.send", "bytes": b"\x00"},
                       {"type": "websocket.close", "code": 1000, "reason": f"bye {EMAIL}"}])
    sent = await run(app, [text("later")])
    assert sent == [ACCEPT, {"type": "websocket.close", "code": 1008, "reason": "veil: binary_message"}]
    assert app.received[1:] == [{"type": "websocket.disconnect", "code": 1008, "reason": "veil: binary_message"}]


@pytest.mark.parametrize(("outgoing", "want"), [
    ({"type": "websocket.close", "code": 4000, "reason": f"bye {EMAIL}"},
     {"type": "websocket.close", "code": 4000, "reason": "bye [REDACTED:EMAIL]"}),
    ({"type": "websocket.close", "code": 4000, "reason": "a@b.io " * 9},  # 63 bytes; redacted, 153
     {"type": "websocket.close", "code": 4000, "reason": ("[REDACTED:EMAIL] " * 9)[:123]}),
    ({"type": "websocket.close", "code": 1000, "reason": "bye"}, {"type": "websocket.close", "code": 1000, "reason": "bye"}),
    ({"type": "websocket.send", "text": f'{{"to": "{EMAIL}"}}'}, {"type": "websocket.send", "text": '{"to": "[REDACTED:EMAIL]"}'}),
], ids=["close-reason", "close-reason-cut-to-123-bytes", "close-reason-clean", "json-text"])
async def test_what_the_app_sends_reaches_the_client_redacted(outgoing: Message, want: Message) -> None:
    sent = await run(ScriptedApp([ACCEPT, outgoing]), [])
    assert sent == [ACCEPT, want]


async def test_the_clients_close_reason_reaches_the_app_redacted() -> None:
    app = ScriptedApp([ACCEPT])
    await run(app, [{"type": "websocket.disconnect", "code": 4001, "reason": f"gone {EMAIL}"}])
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 4001, "reason": "gone [REDACTED:EMAIL]"}


async def test_accept_headers_reach_the_client_redacted() -> None:
    accept = {"type": "websocket.accept", "subprotocol": None, "headers": [(b"x-user", EMAIL.encode()), (b"x-n", b"1")]}
    sent = await run(ScriptedApp([accept]), [])
    assert sent == [{**accept, "headers": [(b"x-user", b"[REDACTED:EMAIL]"), (b"x-n", b"1")]}]


async def test_a_denial_response_reaches_the_client_redacted() -> None:
    body = f'{{"error": "no such user {EMAIL}"}}'.encode()
    app = ScriptedApp([
        {"type": "websocket.http.response.start", "status": 403,
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]},
        {"type": "websocket.http.response.body", "body": body},
    ])
    sent = await run(app, [], ws_scope(extensions=DENIAL))
    out = b'{"error": "no such user [REDACTED:EMAIL]"}'
    assert sent == [
        {"type": "websocket.http.response.start", "status": 403,
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]},
        {"type": "websocket.http.response.body", "body": out, "more_body": False},
    ]


async def test_the_handshake_headers_reach_the_app_redacted() -> None:
    app = ScriptedApp([ACCEPT])
    await run(app, [], ws_scope(headers=[(b"host", b"app.test"), (b"x-user", EMAIL.encode())]))
    assert app.scope["headers"] == [(b"host", b"app.test"), (b"x-user", b"[REDACTED:EMAIL]")]


def failing_head(*args: object) -> Any:
    raise RedactionError("internal_error", "internal error")


@pytest.mark.parametrize(("extensions", "refusal"), [
    (DENIAL, [{"type": "websocket.http.response.start", "status": 400,
               "headers": [(b"content-type", b"application/json"), (b"content-length", b"81")]},
              {"type": "websocket.http.response.body", "more_body": False,
               "body": b'{"error":"veil_redaction_failed","reason":"internal_error","direction":"request"}'}]),
    ({}, [{"type": "websocket.close", "code": 1008, "reason": "veil: internal_error"}]),  # servers answer 403
], ids=["denial-response", "close"])
async def test_a_handshake_veil_cannot_redact_is_refused_before_the_app(
    monkeypatch: pytest.MonkeyPatch, extensions: dict[str, Any], refusal: list[Message]
) -> None:
    monkeypatch.setattr(Exchange, "redact_request_head", failing_head)
    app = ScriptedApp([ACCEPT])
    sent = await run(app, [], ws_scope(extensions=extensions))
    assert sent == refusal and app.scope == {}


async def test_a_handshake_veil_cannot_redact_goes_on_unchanged_under_passthrough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Exchange, "redact_request_head", failing_head)
    app = ScriptedApp([ACCEPT])
    scope = ws_scope(query=f"owner={EMAIL}".encode())
    sent = await run(app, [text("hi")], scope, on_error="passthrough")
    assert sent == [ACCEPT] and app.scope == scope


async def test_a_crash_inside_veil_closes_the_socket_naming_only_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import veil

    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError(f"cannot parse {EMAIL}")

    monkeypatch.setattr(veil.Plan, "redact_body", boom)
    app = ScriptedApp([ACCEPT])
    sent = await run(app, [text("hello")])
    assert sent == [ACCEPT, {"type": "websocket.close", "code": 1008, "reason": "veil: internal_error"}]


@pytest.mark.parametrize(("options", "message", "arrived"), [
    ({"requests": False}, text(f"mail {EMAIL}"), text(f"mail {EMAIL}")),  # that direction is off: unread
    ({"requests": False}, {"type": "websocket.receive", "bytes": b"\x00"}, {"type": "websocket.receive", "bytes": b"\x00"}),
    ({"websocket_binary": "pass"}, {"type": "websocket.receive", "bytes": EMAIL.encode()},
     {"type": "websocket.receive", "bytes": EMAIL.encode()}),  # told binary carries no text
    ({}, text(f"mail {EMAIL}"), text("mail [REDACTED:EMAIL]")),  # near miss of the rows above
], ids=["requests-off", "requests-off-binary", "binary-pass", "default"])
async def test_what_reaches_the_app_follows_the_options(options: dict[str, Any], message: Message, arrived: Message) -> None:
    app = ScriptedApp([ACCEPT])
    await run(app, [message], **options)
    assert app.received[1] == arrived


def test_websocket_binary_accepts_only_drop_or_pass() -> None:
    with pytest.raises(ValueError, match="websocket_binary must be 'drop' or 'pass', not 'keep'"):
        ASGIMiddleware(ScriptedApp([]), policy=POLICY, websocket_binary="keep")
