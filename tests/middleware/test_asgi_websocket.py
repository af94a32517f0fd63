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


CLOSED = {"type": "websocket.close", "code": 1008, "reason": "veil: invalid_json"}


@pytest.mark.parametrize(("message", "arrived"), [
    # Python's json takes each of these (NaN, a lone surrogate) and gives the app the address.
    (r'{"email":"jane\u0040example.com","x":NaN}', None),
    (r'["\ud800", "jane\u0040example.com", Infinity]', None),
    (r'  {"e": "jane\u0040example.com", "n": -Infinity}', None),  # leading whitespace
    (r'"jane\u0040example.com"', '"[REDACTED:EMAIL]"'),  # a top-level JSON string: read as JSON
    (r'{"e":"jane\u0040example.com"}', '{"e":"[REDACTED:EMAIL]"}'),
    # Near misses: nothing behind the escapes, or no escapes to hide behind.
    (r'{"note":"line\nbreak","x":NaN}', r'{"note":"line\nbreak","x":NaN}'),
    (r'{"e":"jane\\u0040example.com","x":NaN}', r'{"e":"jane\\u0040example.com","x":NaN}'),  # an escaped backslash
    ('{"e":"jane@example.com","x":NaN}', '{"e":"[REDACTED:EMAIL]","x":NaN}'),  # read as text
    ('{"x":NaN}', '{"x":NaN}'),
    ('"hello"', '"hello"'),
    ('[1, 2, 3]', '[1, 2, 3]'),
    (r'say \u0040 to jane', r'say \u0040 to jane'),  # does not open like JSON
], ids=["nan", "lone-surrogate", "infinity-after-space", "top-level-string", "valid-json",
        "escape-hides-nothing", "escaped-backslash", "no-escape", "clean-nan", "clean-string", "clean-array",
        "plain-text"])
async def test_text_that_only_looks_like_json_cannot_hide_a_value_behind_escapes(message: str, arrived: str | None) -> None:
    for direction in ("request", "response"):
        app = ScriptedApp([ACCEPT] + ([{"type": "websocket.send", "text": message}] if direction == "response" else []))
        sent = await run(app, [text(message)] if direction == "request" else [])
        if arrived is None:
            assert sent == [ACCEPT, CLOSED], direction
            assert app.received[1:] == [{"type": "websocket.disconnect", **{k: CLOSED[k] for k in ("code", "reason")}}]
        elif direction == "request":
            assert app.received[1:] == [text(arrived), {"type": "websocket.disconnect", "code": 1000}]
        else:
            assert sent == [ACCEPT, {"type": "websocket.send", "text": arrived}]


SUBPROTOCOLS = b"sec-websocket-protocol"


@pytest.mark.parametrize(("offer", "seen"), [
    (b"jane@example.com, chat", ["[REDACTED:EMAIL]", "chat"]),
    (b"chat, json.v2", ["chat", "json.v2"]),  # near miss: a clean offer stays as the server read it
], ids=["finding", "clean"])
async def test_the_offered_subprotocols_reach_the_app_redacted(offer: bytes, seen: list[str]) -> None:
    scope = ws_scope(headers=[(b"host", b"app.test"), (SUBPROTOCOLS, offer)])
    scope["subprotocols"] = [name.strip() for name in offer.decode().split(",")]  # as servers read the header
    app = ScriptedApp([ACCEPT])
    await run(app, [], scope)
    assert app.scope["subprotocols"] == seen
    assert dict(app.scope["headers"])[SUBPROTOCOLS] == ", ".join(seen).encode()


@pytest.mark.parametrize(("subprotocol", "chosen"), [
    (EMAIL, "[REDACTED:EMAIL]"),
    ("chat", "chat"),  # near miss
    (None, None),
], ids=["finding", "clean", "none"])
async def test_the_subprotocol_the_app_accepts_reaches_the_client_redacted(subprotocol: str | None, chosen: str | None) -> None:
    sent = await run(ScriptedApp([{"type": "websocket.accept", "subprotocol": subprotocol}]), [])
    assert sent == [{"type": "websocket.accept", "subprotocol": chosen}]


@pytest.mark.parametrize(("outgoing", "sent_after_accept", "observed"), [
    ({"type": "websocket.send", "text": "hi", "bytes": EMAIL.encode()},
     [{"type": "websocket.close", "code": 1008, "reason": "veil: ambiguous_message"}],
     [("response", "error", "ambiguous_message")]),
    ({"type": "websocket.send", "text": "hi", "bytes": b""},  # empty bytes are still bytes to uvicorn
     [{"type": "websocket.close", "code": 1008, "reason": "veil: ambiguous_message"}],
     [("response", "error", "ambiguous_message")]),
    ({"type": "websocket.send", "text": f"hi {EMAIL}", "bytes": None},  # near miss: text only
     [{"type": "websocket.send", "text": "hi [REDACTED:EMAIL]", "bytes": None}], [("response", "rewritten", "")]),
    ({"type": "websocket.send", "text": "hi"}, [{"type": "websocket.send", "text": "hi"}], [("response", "unchanged", "")]),
], ids=["both", "both-empty-bytes", "text-and-none", "text-only"])
async def test_an_app_message_with_both_text_and_bytes_is_refused(
    outgoing: Message, sent_after_accept: list[Message], observed: list[tuple[str, str, str]]
) -> None:
    recorder = Recorder()
    sent = await run(ScriptedApp([ACCEPT, outgoing]), [], observer=recorder)
    assert sent == [ACCEPT, *sent_after_accept]
    assert recorder.outcomes() == observed
