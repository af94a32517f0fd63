"""ASGIMiddleware in process: the shared case table, failures, and raw ASGI message sequences."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import veil
from tests.middleware.cases import CASES, Case, expected
from veil.middleware.asgi import ASGIMiddleware

pytestmark = pytest.mark.anyio

PLAN = veil.default_plan()
SMALL_LIMIT_POLICY = {"version": 1, "limits": {"max_body_bytes": 64}, "rules": [{"scan": True}]}
Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- small real apps ---------------------------------------------------------------------


class EchoApp:
    """Records what it received and answers with the raw body under a binary type (sniffed since issue
    #15: a JSON body under it is a mislabelled document, redacted again; it already is)."""

    def __init__(self) -> None:
        self.calls = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.query = b""
        self.body = b""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        self.headers = list(scope["headers"])
        self.query = scope["query_string"]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.body = body
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-protobuf"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def seen(self) -> bytes:
        """Everything the app saw, for must-vanish checks."""
        return b"\n".join([self.query, self.body, *(k + b": " + v for k, v in self.headers)])


def reply_app(body: bytes, headers: list[tuple[bytes, bytes]], chunks: int = 1) -> Callable[..., Any]:
    """An app that answers every request with ``body`` (split into ``chunks`` messages) and ``headers``.

    Content-Length is the original body's unless ``headers`` name one.
    """
    if not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        size = max(1, -(-len(body) // chunks))
        parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


def case_headers(case: Case) -> list[tuple[bytes, bytes]]:
    out = [(b"content-type", case.content_type.encode())]
    if case.encoding:
        out.append((b"content-encoding", case.encoding.encode()))
    return out + [(k.encode(), v.encode()) for k, v in case.headers]


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def error_body(reason: str, direction: str) -> dict[str, str]:
    return {"error": "veil_redaction_failed", "reason": reason, "direction": direction}


NO_BODY: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]


async def drive(app: Any, scope: dict[str, Any], incoming: list[Message]) -> list[Message]:
    """Run ``app`` on raw ASGI messages (then http.disconnect); return what it sent."""
    sent: list[Message] = []
    pending = list(incoming)

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    return sent


def http_scope(path: str = "/echo", method: str = "POST", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), *(headers or [])], "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}


# -- the shared case table ----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_request_body_reaching_the_app_is_what_the_plan_produces(case: Case) -> None:
    echo = EchoApp()
    async with client(ASGIMiddleware(echo, policy=PLAN)) as c:
        r = await c.post("/echo", content=case.body, params=case.query or None, headers=dict(case_headers_str(case)))
    assert r.status_code == 200
    want = expected(PLAN, case, "request")
    assert echo.body == want
    assert dict(echo.headers)[b"content-length"] == str(len(want)).encode()
    for secret in case.must_vanish:
        assert secret not in echo.seen()


def case_headers_str(case: Case) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in case_headers(case)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_response_body_reaching_the_client_is_what_the_plan_produces(case: Case) -> None:
    app = ASGIMiddleware(reply_app(case.body, case_headers(case), chunks=3), policy=PLAN)
    async with client(app) as c:
        r = await c.post("/echo")
    assert r.status_code == 200
    want = expected(PLAN, case, "response")
    assert r.headers["content-length"] == str(len(want))
    # httpx decodes gzip itself, so compare decoded bytes for encoded cases
    assert r.content == (gzip.decompress(want) if case.encoding == "gzip" else want)
    for secret in case.must_vanish:
        assert secret not in r.content


async def test_request_headers_and_query_are_redacted_and_host_is_kept() -> None:
    echo = EchoApp()
    async with client(ASGIMiddleware(echo, policy=PLAN)) as c:
        await c.get("/echo?page=2&access_token=s3cr3t", headers={"authorization": "Bearer abc.def.ghi", "cookie": "sid=xyz"})
    headers = dict(echo.headers)
    assert headers[b"host"] == b"127.0.0.1"  # an IP here is the server's own address, not PII
    assert b"abc.def.ghi" not in headers[b"authorization"]
    assert b"xyz" not in headers[b"cookie"]
    assert echo.query.startswith(b"page=2&access_token=") and b"s3cr3t" not in echo.query


async def test_duplicate_set_cookie_headers_both_survive_redacted() -> None:
    headers = [(b"content-type", b"text/plain"), (b"set-cookie", b"sid=abc123; Path=/"), (b"set-cookie", b"pref=dark; HttpOnly")]
    async with client(ASGIMiddleware(reply_app(b"ok", headers), policy=PLAN)) as c:
        r = await c.get("/")
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("sid=") and cookies[0].endswith("; Path=/") and "abc123" not in cookies[0]
    assert cookies[1].startswith("pref=") and cookies[1].endswith("; HttpOnly") and "dark" not in cookies[1]


# -- failures: fail closed unless on_error=passthrough -------------------------------------------


@pytest.mark.parametrize(("body", "ctype", "reason"), [
    (b'{"email": "jane@example.com"', "application/json", "invalid_json"),  # truncated JSON
    (b"\x00\xff\xfe\x89PNG jane@example.com", "application/json", "invalid_json"),  # lying type: binary sent as JSON
])
async def test_malformed_request_is_refused_with_400_and_the_app_is_not_called(body: bytes, ctype: str, reason: str) -> None:
    echo = EchoApp()
    async with client(ASGIMiddleware(echo, policy=PLAN)) as c:
        r = await c.post("/echo", content=body, headers={"content-type": ctype})
    assert r.status_code == 400
    assert r.json() == error_body(reason, "request")
    assert echo.calls == 0


@pytest.mark.parametrize("body", [
    b'{"email": "jane@example.com"',  # truncated JSON
    b"\x00\xff\xfe\x89PNG jane@example.com",  # lying type: binary sent as JSON
])
async def test_malformed_response_is_replaced_with_502_and_never_leaks(body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = ASGIMiddleware(reply_app(body, [(b"content-type", b"application/json")], chunks=2), policy=PLAN)
    with caplog.at_level(logging.WARNING, logger="veil"):
        async with client(app) as c:
            r = await c.get("/customer")
    assert r.status_code == 502
    assert r.json() == error_body("invalid_json", "response")
    assert b"jane@example.com" not in r.content
    assert "invalid_json" in caplog.text and "GET, rules: default-" in caplog.text
    assert "jane" not in caplog.text and "/customer" not in caplog.text  # the route's rules, never the path


async def test_oversized_request_is_refused_with_413() -> None:
    echo = EchoApp()
    async with client(ASGIMiddleware(echo, policy=SMALL_LIMIT_POLICY)) as c:
        r = await c.post("/echo", json={"note": "x" * 100})
    assert r.status_code == 413
    assert r.json() == error_body("body_too_large", "request")
    assert echo.calls == 0


async def test_oversized_response_is_replaced_with_502() -> None:
    body = json.dumps({"note": "jane@example.com " * 10}).encode()
    app = ASGIMiddleware(reply_app(body, [(b"content-type", b"application/json")], chunks=4), policy=SMALL_LIMIT_POLICY)
    async with client(app) as c:
        r = await c.get("/")
    assert r.status_code == 502
    assert r.json() == error_body("body_too_large", "response")


BOMB = gzip.compress(b"0" * 50_000_000, compresslevel=9)


async def test_gzip_bomb_request_is_refused_with_413() -> None:
    echo = EchoApp()
    async with client(ASGIMiddleware(echo, policy=PLAN, max_decompressed_bytes=1_000_000)) as c:
        r = await c.post("/echo", content=BOMB, headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 413
    assert r.json() == error_body("decompressed_too_large", "request")
    assert echo.calls == 0


async def test_gzip_bomb_response_is_replaced_with_502() -> None:
    headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
    app = ASGIMiddleware(reply_app(BOMB, headers), policy=PLAN, max_decompressed_bytes=1_000_000)
    async with client(app) as c:
        r = await c.get("/")
    assert r.status_code == 502
    assert r.json() == error_body("decompressed_too_large", "response")


async def test_passthrough_delivers_the_original_request_body() -> None:
    echo = EchoApp()
    body = b'{"email": "jane@example.com"'
    async with client(ASGIMiddleware(echo, policy=PLAN, on_error="passthrough")) as c:
        r = await c.post("/echo", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert echo.body == body


async def test_passthrough_delivers_the_original_oversized_request_in_full() -> None:
    echo = EchoApp()
    body = json.dumps({"note": "y" * 500}).encode()
    app = ASGIMiddleware(echo, policy=SMALL_LIMIT_POLICY, on_error="passthrough")
    incoming = [{"type": "http.request", "body": body[i:i + 50], "more_body": i + 50 < len(body)} for i in range(0, len(body), 50)]
    sent = await drive(app, http_scope(headers=[(b"content-type", b"application/json")]), incoming)
    assert echo.body == body
    assert sent[0]["status"] == 200


async def test_passthrough_delivers_the_original_response_body() -> None:
    body = b'{"email": "jane@example.com"'
    app = ASGIMiddleware(reply_app(body, [(b"content-type", b"application/json")]), policy=PLAN, on_error="passthrough")
    async with client(app) as c:
        r = await c.get("/")
    assert r.status_code == 200
    assert r.content == body


async def test_empty_bodies_with_a_json_type_are_not_errors() -> None:
    """A GET with Content-Type but no body, or a 204, has nothing to redact."""
    echo = EchoApp()
    async with client(ASGIMiddleware(echo, policy=PLAN)) as c:
        r = await c.get("/echo", headers={"content-type": "application/json"})
    assert r.status_code == 200 and echo.body == b""
    async with client(ASGIMiddleware(reply_app(b"", [(b"content-type", b"application/json")]), policy=PLAN)) as c:
        r = await c.get("/")
    assert r.status_code == 200 and r.content == b""


def test_unknown_option_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"on_eror"):
        ASGIMiddleware(EchoApp(), on_eror="block")  # type: ignore[call-arg]


def test_bad_on_error_value_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^on_error must be 'block' or 'passthrough', not 'ignore'$"):
        ASGIMiddleware(EchoApp(), on_error="ignore")


async def test_requests_false_leaves_requests_alone() -> None:
    echo = EchoApp()
    body = b'{"email": "jane@example.com"}'
    async with client(ASGIMiddleware(echo, policy=PLAN, requests=False, responses=False)) as c:
        r = await c.post("/echo?access_token=s3cr3t", content=body, headers={"content-type": "application/json"})
    assert echo.body == body and echo.query == b"access_token=s3cr3t"
    assert r.content == body


# -- raw ASGI sequences ----------------------------------------------------------------------------


async def test_lifespan_scopes_pass_through_untouched() -> None:
    """(WebSocket scopes are redacted: tests/middleware/test_asgi_websocket.py.)"""
    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.extend([scope, receive, send])
        await send(await receive())

    scope = {"type": "lifespan", "headers": [(b"authorization", b"Bearer abc.def.ghi")], "query_string": b"access_token=s3cr3t"}
    sent: list[Message] = []
    message = {"type": "lifespan.startup", "text": "jane@example.com"}

    async def receive() -> Message:
        return message

    async def send(m: Message) -> None:
        sent.append(m)

    await ASGIMiddleware(inner, policy=PLAN)(scope, receive, send)
    assert seen == [scope, receive, send]  # the very same objects
    assert scope["headers"] == [(b"authorization", b"Bearer abc.def.ghi")]
    assert sent == [message]


async def test_request_body_split_over_several_messages_is_joined_then_redacted() -> None:
    echo = EchoApp()
    body = b'{"user": {"email": "jane@example.com"}, "note": "ok"}'
    incoming = [{"type": "http.request", "body": body[i:i + 7], "more_body": i + 7 < len(body)} for i in range(0, len(body), 7)]
    scope = http_scope(headers=[(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())])
    sent = await drive(ASGIMiddleware(echo, policy=PLAN), scope, incoming)
    want = expected(PLAN, CASES[0], "request")
    assert echo.body == want
    assert dict(echo.headers)[b"content-length"] == str(len(want)).encode()
    assert sent[-1]["body"] == want


async def test_client_disconnect_mid_body_never_calls_the_app() -> None:
    echo = EchoApp()
    incoming: list[Message] = [{"type": "http.request", "body": b'{"email": "ja', "more_body": True}, {"type": "http.disconnect"}]
    sent = await drive(ASGIMiddleware(echo, policy=PLAN), http_scope(headers=[(b"content-type", b"application/json")]), incoming)
    assert echo.calls == 0
    assert sent == []


async def test_after_the_body_the_app_receives_the_real_disconnect() -> None:
    got: list[Message] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got.extend([await receive(), await receive()])

    incoming = [{"type": "http.request", "body": b"hi", "more_body": False}]
    await drive(ASGIMiddleware(app, policy=PLAN), http_scope(headers=[(b"content-type", b"text/plain")]), incoming)
    assert got == [{"type": "http.request", "body": b"hi", "more_body": False}, {"type": "http.disconnect"}]


SSE_EVENTS = [
    b'id: 1\ndata: {"email": "jane@example.com", "n": 1}\n\n',
    b"data: call +44 20 7946 0958\n\n",
    b"event: done\ndata: [DONE]\n\n",
]


async def test_sse_events_are_redacted_and_sent_as_they_are_produced() -> None:
    """Each event leaves as soon as its message does: start first, one body message per event."""
    app = ASGIMiddleware(reply_app(b"".join(SSE_EVENTS), [(b"content-type", b"text/event-stream"), (b"content-length", b"999")], chunks=3), policy=PLAN)
    sent = await drive(app, http_scope(method="GET", path="/events"), NO_BODY)
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 3
    assert b"content-length" not in dict(sent[0]["headers"])
    bodies = [m["body"] for m in sent[1:]]
    assert [m["more_body"] for m in sent[1:]] == [True, True, False]
    joined = b"".join(bodies)
    assert b"jane@example.com" not in joined and b"7946 0958" not in joined
    assert b"data: [DONE]" in joined and b"event: done" in joined and b"id: 1" in joined


async def test_sse_split_mid_line_is_redacted_once_the_line_is_complete() -> None:
    body = b"".join(SSE_EVENTS)
    app = ASGIMiddleware(reply_app(body, [(b"content-type", b"text/event-stream")], chunks=17), policy=PLAN)
    async with client(app) as c:
        r = await c.get("/events")
    assert b"jane@example.com" not in r.content and b"7946 0958" not in r.content
    assert r.content.count(b"\n\n") == 3


async def test_stream_that_fails_midway_is_aborted_without_the_rest() -> None:
    """After the headers are out, a failure aborts the connection: it must not look complete."""
    body = b'{"n": 1}\n{"email": "jane@example.com"\n{"n": 3}\n'
    app = ASGIMiddleware(reply_app(body, [(b"content-type", b"application/x-ndjson")], chunks=3), policy=PLAN)
    sent: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    with pytest.raises(veil.RedactionError):
        await app(http_scope(method="GET", path="/feed"), receive, record)
    assert sent[0]["type"] == "http.response.start"
    assert not any(m.get("more_body") is False for m in sent[1:])  # never ended as if complete
    joined = b"".join(m.get("body", b"") for m in sent)
    assert b"jane@example.com" not in joined and b'{"n": 3}' not in joined


async def test_passthrough_stream_hands_over_the_unprocessed_rest_unchanged() -> None:
    body = b'{"email": "a@example.com"}\n{"email": bad\n{"x": 1}\n'
    app = ASGIMiddleware(reply_app(body, [(b"content-type", b"application/x-ndjson")], chunks=3), policy=PLAN,
                         on_error="passthrough")
    async with client(app) as c:
        r = await c.get("/feed")
    assert r.content == b'{"email": "[REDACTED:EMAIL]"}\n{"email": bad\n{"x": 1}\n'


async def test_pathsend_passes_through_for_binary_files(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00jane@example.com")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]})
        await send({"type": "http.response.pathsend", "path": str(path)})

    sent = await drive(ASGIMiddleware(app, policy=PLAN), http_scope(method="GET"), NO_BODY)
    assert sent == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]},
        {"type": "http.response.pathsend", "path": str(path)},
    ]


async def test_pathsend_of_a_json_file_is_read_and_redacted(tmp_path: Path) -> None:
    path = tmp_path / "customer.json"
    path.write_bytes(CASES[0].body)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.pathsend", "path": str(path)})

    sent = await drive(ASGIMiddleware(app, policy=PLAN), http_scope(method="GET"), NO_BODY)
    want = expected(PLAN, CASES[0], "response", method="GET")
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == want
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(want)).encode()


def _readme_asgi_snippet() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Middleware: ASGI (FastAPI/Starlette)\n", 1)[1].split("\n## ", 1)[0]
    (snippet,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return str(snippet)


async def test_readme_asgi_snippet_wires_the_middleware_into_fastapi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README snippets are tests: run the section's snippet with a real policy.yaml and call the app."""
    (tmp_path / "policy.yaml").write_text("version: 1\nrules:\n  - scan: true\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(_readme_asgi_snippet(), namespace)
    app = namespace["app"]

    @app.get("/contact")
    async def contact() -> dict[str, str]:
        return {"note": "write to jane@example.com"}

    async with client(app) as c:
        r = await c.get("/contact")
    assert r.json() == {"note": "write to [REDACTED:EMAIL]"}


async def test_add_veil_is_add_middleware() -> None:
    from fastapi import FastAPI

    from veil.integrations.fastapi import add_veil

    app = FastAPI()
    add_veil(app, policy=PLAN)

    @app.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    async with client(app) as c:
        r = await c.post("/echo", json={"email": "jane@example.com"})
    assert r.json() == {"email": "[REDACTED:EMAIL]"}


def test_metrics_observer_sees_every_body_with_the_same_names() -> None:
    """ASGI and WSGI report to the same metric names through the observer option."""
    import prometheus_client as prom
    from werkzeug.test import Client

    from veil.integrations.prometheus import Metrics
    from veil.middleware import WSGIMiddleware

    registry = prom.CollectorRegistry()
    metrics = Metrics(registry=registry)

    async def json_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"email": "jane@example.com"}'})

    def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"email": "jane@example.com"']

    asgi = ASGIMiddleware(json_app, observer=metrics)
    response = asyncio.run(_get(asgi))
    assert b"jane" not in response
    Client(WSGIMiddleware(wsgi_app, observer=metrics)).get("/")
    value = registry.get_sample_value
    assert value("veil_bodies_total", {"adapter": "asgi", "direction": "response", "outcome": "rewritten"}) == 1
    assert value("veil_findings_total", {"adapter": "asgi", "direction": "response", "type": "EMAIL",
                                         "rule": "default-field-names", "action": "redact"}) == 1
    assert value("veil_errors_total", {"adapter": "wsgi", "direction": "response", "reason": "invalid_json"}) == 1


async def _get(app: Any) -> bytes:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return (await client.get("/")).content


@pytest.mark.parametrize("content_type", [b"application/json", b"image/png"])
async def test_response_trailers_are_redacted_as_the_head_is(content_type: bytes) -> None:
    """ASGI's http.response.trailers are headers sent after the body: they went out unread."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": [(b"content-type", content_type), (b"trailer", b"x-note, x-count")]})
        await send({"type": "http.response.body", "body": b"{}", "more_body": False})
        await send({"type": "http.response.trailers", "more_trailers": False,
                    "headers": [(b"x-note", b"mail jane@example.com"), (b"x-count", b"3")]})

    request = [{"type": "http.request", "body": b"", "more_body": False}]
    sent = await drive(ASGIMiddleware(app, policy="builtin:strict"), http_scope(method="GET"), request)
    [trailers] = [m for m in sent if m["type"] == "http.response.trailers"]
    assert trailers["headers"] == [(b"x-note", b"mail [REDACTED:EMAIL]"), (b"x-count", b"3")]
    assert trailers["more_trailers"] is False
