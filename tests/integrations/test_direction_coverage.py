"""A direction no rule of the policy covers passes untouched and unread, in every in-app adapter
(issue #16): before, a response-only policy still parsed requests, so invalid request JSON got
veil's 400 instead of the app's own handling, and a large upload got 413.

One table, run through ASGI, WSGI, Django, the proxy (its hooks in process: the proxy read
every direction, so a response-only policy such as ``builtin:app``, the one its start-up line
recommends in front of an app, refused the app's invalid JSON and large uploads) and the Envoy
ext_proc processor (driven as Envoy drives it, in process: it read every direction too). ``seen`` is
what the app received as its body.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import django  # type: ignore[import-untyped]
import httpx
import pytest
from django.conf import settings  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.test import Client as DjangoClient  # type: ignore[import-untyped]
from django.test import override_settings
from django.urls import re_path  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]
from werkzeug.test import Client as WerkzeugClient

from veil import Route
from veil.middleware import VeilASGIMiddleware, VeilWSGIMiddleware
from veil.settings import resolve_plan


def policy(*rules: dict[str, Any]) -> Any:
    return resolve_plan({"version": 1, "limits": {"max_body_bytes": 64}, "rules": list(rules)})


RESPONSE_ONLY = policy({"id": "out", "match": {"direction": "response"}, "scan": True})
REQUEST_ONLY = policy({"id": "in", "match": {"direction": "request"}, "scan": True})
REQUESTS_UNDER_API = policy({"id": "api", "match": {"direction": "request", "paths": ["/api/**"]}, "scan": True})
JSON_REQUESTS_ONLY = policy({"id": "json", "match": {"direction": "request", "content_types": ["application/json"]},
                             "scan": True})
APP = resolve_plan("builtin:app")

BAD_JSON = b'{"email": "jane@example.com",'
BIG_JSON = b'{"note": "' + b"x" * 200 + b'"}'  # over the policies' 64-byte limit
GOOD_JSON = b'{"email": "jane@example.com"}'
REDACTED = b"<GOOD_JSON as the row's plan redacts it>"  # a marker, resolved by redacted()


@dataclass(frozen=True)
class Row:
    name: str
    plan: Any
    path: str
    ctype: str
    body: bytes
    reply: bytes  # what the app answers, as application/json
    status: int
    seen: bytes | None  # the body the app received; None: the app was not called
    received: bytes | None = None  # the client's body, when it matters


ROWS = [
    # requests no rule covers reach the app as sent: its own 4xx handling decides
    Row("response-only/invalid-request-json", RESPONSE_ONLY, "/echo", "application/json", BAD_JSON, b"{}", 200, BAD_JSON),
    Row("response-only/request-over-the-limit", RESPONSE_ONLY, "/echo", "application/json", BIG_JSON, b"{}", 200, BIG_JSON),
    Row("builtin-app/invalid-request-json", APP, "/login", "application/json", BAD_JSON, b"{}", 200, BAD_JSON),
    Row("request-rule-elsewhere/invalid-json", REQUESTS_UNDER_API, "/public/x", "application/json", BAD_JSON, b"{}", 200,
        BAD_JSON),
    # near misses: a rule that may apply still reads the request
    Row("request-rule-here/invalid-json-refused", REQUESTS_UNDER_API, "/api/x", "application/json", BAD_JSON, b"{}", 400,
        None),
    Row("response-and-request/over-the-limit-refused", REQUEST_ONLY, "/echo", "application/json", BIG_JSON, b"{}", 413,
        None),
    # a rule limited to JSON covers a body whose type says nothing: sniffed as JSON, it is redacted
    Row("json-rule/octet-stream-json-sniffed", JSON_REQUESTS_ONLY, "/echo", "application/octet-stream", GOOD_JSON, b"{}",
        200, REDACTED),
    # responses no rule covers leave as the app wrote them, invalid or not
    Row("request-only/invalid-response-json", REQUEST_ONLY, "/echo", "text/plain", b"hi", BAD_JSON, 200, b"hi", BAD_JSON),
    Row("response-only/invalid-response-json-replaced", RESPONSE_ONLY, "/echo", "text/plain", b"hi", BAD_JSON, 502,
        b"hi"),
    Row("response-only/response-redacted", RESPONSE_ONLY, "/echo", "text/plain", b"hi", GOOD_JSON, 200, b"hi", REDACTED),
]


class Seen:
    body: bytes | None = None


def asgi_exchange(row: Row) -> tuple[int, bytes]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        Seen.body = body
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": row.reply})

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=VeilASGIMiddleware(app, policy=row.plan))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(row.path, content=row.body, headers={"content-type": row.ctype})

    import anyio

    response = anyio.run(call)
    return response.status_code, response.content


def wsgi_exchange(row: Row) -> tuple[int, bytes]:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        Seen.body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [row.reply]

    response = WerkzeugClient(VeilWSGIMiddleware(app, row.plan)).post(row.path, data=row.body,
                                                                         content_type=row.ctype)
    return response.status_code, response.get_data()


@csrf_exempt  # type: ignore[untyped-decorator]  # django ships no types
def django_view(request: HttpRequest, rest: str) -> HttpResponse:
    Seen.body = request.body
    return HttpResponse(DJANGO_REPLY[0], content_type="application/json")


DJANGO_REPLY = [b""]
urlpatterns = [re_path(r"^(?P<rest>.*)$", django_view)]


@pytest.fixture(scope="module")
def django_settings() -> Iterator[None]:
    if not settings.configured:
        settings.configure(SECRET_KEY="veil-tests", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
                           MIDDLEWARE=["veil.integrations.django.VeilMiddleware"], INSTALLED_APPS=[], DATABASES={},
                           USE_TZ=True)
    django.setup()
    yield


def django_exchange(row: Row) -> tuple[int, bytes]:
    DJANGO_REPLY[0] = row.reply
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=["veil.integrations.django.VeilMiddleware"],
                           ALLOWED_HOSTS=["*"], VEIL={"POLICY": row.plan}):
        response = DjangoClient().post(row.path, data=row.body, content_type=row.ctype)
    return response.status_code, response.content


def proxy_exchange(row: Row) -> tuple[int, bytes]:
    from tests.proxy_addon.flows import addon_context, make_flow, send_request, send_response
    from veil.proxy_addon import VeilAddon

    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon)
        addon.use_plan(row.plan)
        flow = make_flow(row.body, row.ctype, path=row.path)
        send_request(addon, flow)
        if flow.response is not None:  # refused: the upstream app is never called
            return flow.response.status_code, flow.response.content or b""
        Seen.body = flow.request.raw_content
        out = send_response(addon, flow, row.reply, "application/json")
        assert flow.response is not None
        return flow.response.status_code, out


def extproc_exchange(row: Row) -> tuple[int, bytes]:
    pytest.importorskip("envoy.service.ext_proc.v3.external_processor_pb2", reason="needs veil[envoy]")
    from tests.extproc.envoy_like import exchange

    outcome = exchange(row.plan, "POST", row.path, row.ctype, row.body, lambda _: (row.reply, "application/json"))
    Seen.body = outcome.upstream_saw
    return outcome.status, outcome.body


ADAPTERS = {"asgi": asgi_exchange, "wsgi": wsgi_exchange, "django": django_exchange, "proxy": proxy_exchange,
            "extproc": extproc_exchange}


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_a_direction_no_rule_covers_passes_untouched(adapter: str, row: Row, request: pytest.FixtureRequest) -> None:
    if adapter == "django":
        request.getfixturevalue("django_settings")
    Seen.body = None
    status, received = ADAPTERS[adapter](row)
    assert status == row.status, received
    assert Seen.body == redacted(row, "request", row.seen)
    if row.received is not None:
        assert received == redacted(row, "response", row.received)


def redacted(row: Row, direction: str, value: bytes | None) -> bytes | None:
    """``value``, or for the REDACTED marker GOOD_JSON as the row's plan redacts it (never unchanged)."""
    if value != REDACTED:
        return value
    out = row.plan.redact_body(GOOD_JSON, "application/json", Route(direction, "POST", "127.0.0.1", row.path)).output
    assert out != GOOD_JSON and b"jane@example.com" not in out
    return bytes(out)
