"""Issue 15 in the Django middleware: bodies whose type says nothing, and the URL path.

This module is its own ROOT_URLCONF. A vague type (octet-stream, none) is sniffed by its head:
binary streams through unread (a FileResponse keeps its file for sendfile), anything else is read
whole (bounded) and redacted. The view gets the redacted path; veil's rules match the original.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import django  # type: ignore[import-untyped]
import pytest
from django.conf import settings  # type: ignore[import-untyped]
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]
from django.test import AsyncClient, Client, RequestFactory, override_settings  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from veil import compile_policy
from veil.integrations.django import VeilMiddleware

MIDDLEWARE = ["veil.integrations.django.VeilMiddleware"]
MODES = ["sync", "async"]
LIMIT = 1024
SMALL = compile_policy(f"version: 1\nlimits: {{max_body_bytes: {LIMIT}}}\nrules:\n  - scan: true\n", source="small.yaml")
BY_PATH = compile_policy(  # rules only on the original path: matched on the redacted one, the reply would leak
    "version: 1\nrules:\n  - match: {paths: ['/users/*@example.com/**']}\n    scan: true\n", source="by-path.yaml")
JSON = b'{"email": "jane@example.com"}'
JSON_REDACTED = b'{"email": "[REDACTED:EMAIL]"}'
BINARY_CHUNKS = [b"\x00\x01PK" + b"jane@example.com" * 40] + [bytes(range(256)) * 4] * 8  # ~9 KiB: over LIMIT
TEXT_OVER = b"jane@example.com " * 100
SEEN: list[dict[str, Any]] = []
EVENTS: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def django_settings() -> Iterator[None]:
    if not settings.configured:
        settings.configure(SECRET_KEY="veil-tests", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
                           MIDDLEWARE=MIDDLEWARE, INSTALLED_APPS=[], DATABASES={}, USE_TZ=True)
    django.setup()
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE, ALLOWED_HOSTS=["*"]):
        yield


@pytest.fixture(autouse=True)
def _reset() -> None:
    SEEN.clear()
    EVENTS.clear()


def echo(request: HttpRequest) -> HttpResponse:
    SEEN.append({"body": request.body, "path": request.path, "path_info": request.path_info})
    return HttpResponse(b"ok", content_type="text/plain")


def user_orders(request: HttpRequest, who: str) -> HttpResponse:
    SEEN.append({"who": who, "path": request.path, "path_info": request.path_info,
                 "meta": request.META.get("PATH_INFO"), "raw_uri": request.META.get("RAW_URI")})
    return HttpResponse(JSON, content_type="application/json")


def _produce(chunks: list[bytes]) -> Iterator[bytes]:
    for n, chunk in enumerate(chunks):
        EVENTS.append(f"produced {n}")
        yield chunk


def streamed(request: HttpRequest, name: str) -> StreamingHttpResponse:
    chunks = {"json": [JSON[:4], JSON[4:]], "binary": BINARY_CHUNKS, "text-over": [TEXT_OVER[:600], TEXT_OVER[600:]]}
    return StreamingHttpResponse(_produce(chunks[name]), content_type="application/octet-stream")


def file(request: HttpRequest, name: str) -> FileResponse:
    data = {"json": JSON, "binary": b"".join(BINARY_CHUNKS)}[name]
    return FileResponse(io.BytesIO(data), content_type="application/octet-stream")


urlpatterns = [
    path("echo", echo),
    path("users/<str:who>/orders", user_orders),
    path("stream/<str:name>", streamed),
    path("file/<str:name>", file),
]


def call(mode: str, method: str, url: str, policy: Any = SMALL, **kwargs: Any) -> tuple[Any, bytes]:
    with override_settings(VEIL={"POLICY": policy}):
        if mode == "sync":
            resp = getattr(Client(), method)(url, **kwargs)
            return resp, b"".join(resp.streaming_content) if resp.streaming else resp.content

        async def run() -> tuple[Any, bytes]:
            resp = await getattr(AsyncClient(), method)(url, **kwargs)
            if not resp.streaming:
                return resp, resp.content
            if resp.is_async:
                return resp, b"".join([c async for c in resp.streaming_content])
            return resp, b"".join(resp.streaming_content)

        return asyncio.run(run())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ctype", ["application/octet-stream", "binary/octet-stream", "application/unknown"])
def test_vague_request_holding_json_reaches_the_view_redacted(mode: str, ctype: str) -> None:
    resp, _ = call(mode, "post", "/echo", data=JSON, content_type=ctype)
    assert resp.status_code == 200 and SEEN[0]["body"] == JSON_REDACTED


@pytest.mark.parametrize("mode", MODES)
def test_large_binary_upload_reaches_the_view_unread(mode: str) -> None:
    body = b"".join(BINARY_CHUNKS)
    resp, _ = call(mode, "post", "/echo", data=body, content_type="application/octet-stream")
    assert resp.status_code == 200 and SEEN[0]["body"] == body


@pytest.mark.parametrize("mode", MODES)
def test_vague_text_upload_over_the_limit_is_413(mode: str) -> None:
    resp, _ = call(mode, "post", "/echo", data=TEXT_OVER, content_type="application/octet-stream")
    assert resp.status_code == 413 and SEEN == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "want"), [("json", JSON_REDACTED), ("binary", b"".join(BINARY_CHUNKS))])
def test_vague_streaming_response_is_sniffed(mode: str, name: str, want: bytes) -> None:
    resp, body = call(mode, "get", f"/stream/{name}")
    assert resp.status_code == 200 and body == want


def test_large_binary_stream_is_not_buffered() -> None:
    with override_settings(VEIL={"POLICY": SMALL}):
        resp = Client().get("/stream/binary")
        chunks = iter(resp.streaming_content)
        assert next(chunks) == BINARY_CHUNKS[0] and EVENTS == ["produced 0"]  # released before the rest exists
        assert [BINARY_CHUNKS[0], *chunks] == BINARY_CHUNKS


@pytest.mark.parametrize("mode", MODES)
def test_vague_text_stream_over_the_limit_is_502(mode: str) -> None:
    resp, body = call(mode, "get", "/stream/text-over")
    assert resp.status_code == 502 and b"jane" not in body


def test_binary_file_keeps_its_file_for_sendfile_and_a_json_one_is_redacted() -> None:
    request = RequestFactory().get("/file/binary")
    with override_settings(VEIL={"POLICY": SMALL}):  # called directly: the test client unwraps the file itself
        response = VeilMiddleware(lambda r: file(r, "binary"))(request)
    assert response.file_to_stream is not None  # wsgi.file_wrapper / sendfile still apply
    assert b"".join(response.streaming_content) == b"".join(BINARY_CHUNKS)  # read from its start
    _, body = call("sync", "get", "/file/json")
    assert body == JSON_REDACTED


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("url", "who", "reply"), [
    ("/users/jane@example.com/orders", "[REDACTED:EMAIL]", JSON_REDACTED),
    ("/users/jane%40example.com/orders", "[REDACTED:EMAIL]", JSON_REDACTED),
    ("/users/A-17/orders", "A-17", JSON),  # near miss: nothing to redact, no rule on this path
])
def test_view_sees_the_redacted_path_and_rules_match_the_original(mode: str, url: str, who: str, reply: bytes) -> None:
    _, body = call(mode, "get", url, policy=BY_PATH)
    seen = SEEN[0]
    assert seen["who"] == who and seen["path"] == seen["path_info"] == f"/users/{who}/orders"
    assert seen["meta"] == seen["path_info"]
    assert body == reply  # the response rule matched the original path


@pytest.mark.parametrize(("url", "want"), [
    ("/users/jane@example.com/orders", "/users/%5BREDACTED%3AEMAIL%5D/orders"),
    ("/users/jane%40example.com/orders", "/users/%5BREDACTED%3AEMAIL%5D/orders"),
    ("/users/A-17/orders", "/users/A-17/orders"),  # near miss: the target stays as it came
])
def test_gunicorns_raw_uri_gets_the_redacted_path_and_keeps_its_query(url: str, want: str) -> None:
    """As the WSGI middleware: the view's ``META["RAW_URI"]`` (gunicorn's original target) is redacted too."""
    with override_settings(VEIL={"POLICY": BY_PATH}):
        Client().get(url, RAW_URI=url + "?page=2")
    assert SEEN[0]["raw_uri"] == want + "?page=2"


def test_builtin_app_profile_keeps_the_path() -> None:
    call("sync", "get", "/users/jane@example.com/orders", policy="builtin:app")
    assert SEEN[0]["who"] == "jane@example.com"
