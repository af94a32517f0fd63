"""Issue 15 in the ASGI and WSGI middleware: bodies whose type says nothing, and the URL path.

A vague type (octet-stream, none, binary/octet-stream, application/unknown) is sniffed by its
head: binary streams through unread and unbuffered, anything else is read whole (bounded) and
redacted. The app is handed the redacted path, while veil's own rules match the original one.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.test import Client

from tests.middleware.test_asgi import NO_BODY, drive, http_scope
from veil import compile_policy
from veil.middleware import ASGIMiddleware, WSGIMiddleware

pytestmark = pytest.mark.anyio

LIMIT = 1024
SMALL = compile_policy(f"version: 1\nlimits: {{max_body_bytes: {LIMIT}}}\nrules:\n  - scan: true\n", source="small.yaml")
# The request and response rules apply only on the original path (an e-mail in its second segment):
# were they matched on the redacted path, the reply's e-mail would cross.
BY_PATH = compile_policy(
    "version: 1\nrules:\n"
    "  - match: {paths: ['/users/*@example.com/**']}\n    scan: true\n",
    source="by-path.yaml",
)
JSON = b'{"email": "jane@example.com"}'
JSON_REDACTED = b'{"email": "[REDACTED:EMAIL]"}'
BINARY_CHUNKS = [b"\x00\x01PK" + b"jane@example.com" * 40] + [bytes(range(256)) * 4] * 8  # ~9 KiB: over LIMIT
TEXT_OVER = b"jane@example.com " * 100  # text over LIMIT: cannot be redacted, so refused
PATH = "/users/jane@example.com/orders"
APP_PATH = "/users/[REDACTED:EMAIL]/orders"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def asgi_reply(chunks: list[bytes], ctype: bytes) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


class AsgiRecorder:
    """Records the scope and body the app received; answers with JSON holding an e-mail."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        while True:
            message = await receive()
            self.messages.append(message)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": JSON})

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages)


def messages(chunks: list[bytes]) -> list[dict[str, Any]]:
    return [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]


# -- ASGI: vague bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("ctype", [b"application/octet-stream", b"binary/octet-stream", b"application/unknown", b"",
                                   b"application/x-amz-json-1.1", b"application/yaml"])  # types veil has no rule for
async def test_asgi_vague_request_holding_json_is_redacted(ctype: bytes) -> None:
    app = AsgiRecorder()
    headers = [(b"content-type", ctype)] if ctype else []
    await drive(ASGIMiddleware(app, policy=SMALL), http_scope(headers=headers), messages([JSON[:7], JSON[7:]]))
    assert app.body == JSON_REDACTED


async def test_asgi_large_binary_upload_streams_to_the_app_unread() -> None:
    app = AsgiRecorder()
    scope = http_scope(headers=[(b"content-type", b"application/octet-stream")])
    await drive(ASGIMiddleware(app, policy=SMALL), scope, messages(BINARY_CHUNKS))
    assert app.body == b"".join(BINARY_CHUNKS)
    assert len(app.messages) == len(BINARY_CHUNKS)  # the head as one message, then the rest as they came


async def test_asgi_vague_text_upload_over_the_limit_is_refused() -> None:
    app = AsgiRecorder()
    scope = http_scope(headers=[(b"content-type", b"application/octet-stream")])
    sent = await drive(ASGIMiddleware(app, policy=SMALL), scope, messages([TEXT_OVER[:600], TEXT_OVER[600:]]))
    assert sent[0]["status"] == 413 and app.messages == []


async def test_asgi_large_binary_download_streams_chunk_by_chunk() -> None:
    app = ASGIMiddleware(asgi_reply(BINARY_CHUNKS, b"application/octet-stream"), policy=SMALL)
    sent = await drive(app, http_scope(method="GET"), NO_BODY)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["status"] == 200 and bodies == BINARY_CHUNKS  # nothing held past the head


@pytest.mark.parametrize(("chunks", "want"), [
    ([JSON[:4], JSON[4:]], JSON_REDACTED),
    ([b"\x00\x01jane@example.com"], b"\x00\x01jane@example.com"),  # near miss: binary, unread
])
async def test_asgi_vague_response_is_sniffed(chunks: list[bytes], want: bytes) -> None:
    sent = await drive(ASGIMiddleware(asgi_reply(chunks, b"application/octet-stream"), policy=SMALL),
                       http_scope(method="GET"), NO_BODY)
    assert b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body") == want


async def test_asgi_vague_text_download_over_the_limit_is_502() -> None:
    sent = await drive(ASGIMiddleware(asgi_reply([TEXT_OVER[:600], TEXT_OVER[600:]], b""), policy=SMALL),
                       http_scope(method="GET"), NO_BODY)
    assert sent[0]["status"] == 502 and b"jane" not in b"".join(m.get("body", b"") for m in sent[1:])


# -- ASGI: the path -----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "raw", "want_path", "want_raw"), [
    (PATH, PATH.encode(), APP_PATH, b"/users/%5BREDACTED%3AEMAIL%5D/orders"),
    (PATH, b"/users/jane%40example.com/orders", APP_PATH, b"/users/%5BREDACTED%3AEMAIL%5D/orders"),
    ("/users/A-17/orders/v1.2", b"/users/A-17/orders/v1.2", "/users/A-17/orders/v1.2", b"/users/A-17/orders/v1.2"),
])
async def test_asgi_app_sees_the_redacted_path_and_rules_match_the_original(
    path: str, raw: bytes, want_path: str, want_raw: bytes,
) -> None:
    app = AsgiRecorder()
    scope = {**http_scope(path=path, method="GET"), "raw_path": raw}
    sent = await drive(ASGIMiddleware(app, policy=BY_PATH), scope, NO_BODY)
    assert app.scope["path"] == want_path and app.scope["raw_path"] == want_raw
    reply = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert reply == (JSON_REDACTED if "@" in path else JSON)  # the response rule matched the original path


async def test_asgi_builtin_app_profile_keeps_the_path() -> None:
    app = AsgiRecorder()
    await drive(ASGIMiddleware(app, policy="builtin:app"), http_scope(path=PATH, method="GET"), NO_BODY)
    assert app.scope["path"] == PATH


# -- WSGI -------------------------------------------------------------------------------------


class WsgiRecorder:
    def __init__(self) -> None:
        self.environ: dict[str, Any] = {}
        self.body = b""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environ = dict(environ)
        self.body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(JSON)))])
        return [JSON]


@pytest.mark.parametrize("ctype", ["application/octet-stream", "binary/octet-stream", "application/unknown", "",
                                   "application/x-amz-json-1.1", "application/yaml"])  # types veil has no rule for
def test_wsgi_vague_request_holding_json_is_redacted(ctype: str) -> None:
    app = WsgiRecorder()
    Client(WSGIMiddleware(app, SMALL)).post("/echo", data=JSON, content_type=ctype or None)
    assert app.body == JSON_REDACTED


def test_wsgi_large_binary_upload_reaches_the_app_whole_and_unread() -> None:
    app = WsgiRecorder()
    body = b"".join(BINARY_CHUNKS)
    resp = Client(WSGIMiddleware(app, SMALL)).post("/echo", data=body, content_type="application/octet-stream")
    assert resp.status_code == 200 and app.body == body


def test_wsgi_vague_text_upload_over_the_limit_is_413() -> None:
    app = WsgiRecorder()
    resp = Client(WSGIMiddleware(app, SMALL)).post("/echo", data=TEXT_OVER, content_type="application/octet-stream")
    assert resp.status_code == 413 and app.environ == {}


def wsgi_reply(chunks: list[bytes], ctype: str, events: list[str]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", ctype)])
        for n, chunk in enumerate(chunks):
            events.append(f"produced {n}")
            yield chunk

    return app


def test_wsgi_large_binary_download_streams_chunk_by_chunk() -> None:
    events: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/f", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http"}
    body = WSGIMiddleware(wsgi_reply(BINARY_CHUNKS, "application/octet-stream", events), SMALL)(environ, lambda *a: None)
    first = next(iter(body))
    assert first == BINARY_CHUNKS[0] and events == ["produced 0"]  # released before the rest is produced
    assert [first, *body] == BINARY_CHUNKS


@pytest.mark.parametrize(("chunks", "want"), [
    ([JSON[:4], JSON[4:]], JSON_REDACTED),
    ([b"\x00\x01jane@example.com"], b"\x00\x01jane@example.com"),  # near miss: binary, unread
])
def test_wsgi_vague_response_is_sniffed(chunks: list[bytes], want: bytes) -> None:
    resp = Client(WSGIMiddleware(wsgi_reply(chunks, "application/octet-stream", []), SMALL)).get("/f")
    assert resp.get_data() == want


def test_wsgi_vague_text_download_over_the_limit_is_502() -> None:
    resp = Client(WSGIMiddleware(wsgi_reply([TEXT_OVER], "", []), SMALL)).get("/f")
    assert resp.status_code == 502 and b"jane" not in resp.get_data()


@pytest.mark.parametrize(("path", "want"), [
    (PATH, APP_PATH),
    ("/users/jane%40example.com/orders", APP_PATH),
    ("/users/A-17/orders/v1.2", "/users/A-17/orders/v1.2"),  # near miss: ids and dots stay
])
def test_wsgi_app_sees_the_redacted_path_and_rules_match_the_original(path: str, want: str) -> None:
    app = WsgiRecorder()
    resp = Client(WSGIMiddleware(app, BY_PATH)).get(path, environ_overrides={"RAW_URI": path + "?page=2"})
    assert app.environ["PATH_INFO"] == want
    assert app.environ["RAW_URI"].partition("?")[0] == (want if want == path else "/users/%5BREDACTED%3AEMAIL%5D/orders")
    assert app.environ["RAW_URI"].endswith("?page=2")
    assert resp.get_data() == (JSON_REDACTED if want != path else JSON)  # the response rule matched the original path
