"""veil.integrations.django.VeilMiddleware in real Django request cycles, sync (Client) and async (AsyncClient).

This module is also the test ROOT_URLCONF: the views below are real Django views.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import django  # type: ignore[import-untyped]
import pytest
from asgiref.sync import iscoroutinefunction
from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]
from django.test import AsyncClient, Client, RequestFactory, override_settings  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from tests.middleware.cases import CASES, Case, expected
from veil import RedactionError, Route, compile_policy, default_plan
from veil.http import redact_head
from veil.integrations.django import VeilMiddleware

PLAN = default_plan()
SMALL = {"version": 1, "limits": {"max_body_bytes": 64}, "rules": [{"scan": True}]}
MIDDLEWARE = ["veil.integrations.django.VeilMiddleware"]
ERROR = {"error": "veil_redaction_failed"}
MODES = ["sync", "async"]


@pytest.fixture(scope="module", autouse=True)
def django_settings() -> Iterator[None]:
    """settings.configure runs once per process; each test then overrides only what it needs."""
    if not settings.configured:
        settings.configure(
            SECRET_KEY="veil-tests", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE,
            INSTALLED_APPS=[], DATABASES={}, USE_TZ=True,
        )
    django.setup()
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE, ALLOWED_HOSTS=["*"], VEIL={"POLICY": PLAN}):
        yield


SEEN: list[dict[str, Any]] = []
EVENTS: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    SEEN.clear()
    EVENTS.clear()


# -- views ------------------------------------------------------------------------------


def echo(request: HttpRequest) -> HttpResponse:
    """Records what the view saw; answers with the body as octet-stream, which veil never rewrites."""
    meta = request.META
    SEEN.append({
        "body": request.body, "query": meta["QUERY_STRING"], "GET": dict(request.GET.lists()),
        "headers": {k: v for k, v in meta.items() if k.startswith("HTTP_")}, "cookies": dict(request.COOKIES),
        "length": meta.get("CONTENT_LENGTH"), "POST": dict(request.POST.lists()),
    })
    return HttpResponse(request.body, content_type="application/octet-stream")


def respond(request: HttpRequest, name: str, flavour: str) -> HttpResponse | StreamingHttpResponse:
    """The case's body as the view's response: plain, or streamed in two chunks by a sync or async iterator."""
    case = next(c for c in CASES if c.name == name)
    chunks = [case.body[:7], case.body[7:]]  # the view's chunking must not matter
    response: HttpResponse | StreamingHttpResponse
    if flavour == "plain":
        response = HttpResponse(case.body, content_type=case.content_type)
    elif flavour == "sync":
        response = StreamingHttpResponse(iter(chunks), content_type=case.content_type)
    else:
        response = StreamingHttpResponse(_aiter(chunks), content_type=case.content_type)
    if case.encoding:
        response["Content-Encoding"] = case.encoding
    return response


async def _aiter(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for n, chunk in enumerate(chunks):
        EVENTS.append(f"produced {n}")
        yield chunk


def _iter(chunks: list[bytes]) -> Iterator[bytes]:
    for n, chunk in enumerate(chunks):
        EVENTS.append(f"produced {n}")
        yield chunk


STREAMS = {
    # three NDJSON lines, the first split mid-line across two chunks
    "ndjson": ("application/x-ndjson", [b'{"n": 0, "em', b'ail": "u0@example.com"}\n{"n": 1, "email": "u1@example.com"}\n',
                                        b'{"n": 2, "email": "u2@example.com"}\n']),
    "sse": ("text/event-stream", [b'event: user\ndata: {"email": "jane@example.com"}\n\ndata: [DONE]\n\n']),
    "bad_first": ("application/x-ndjson", [b"{not json\n"]),
    "bad_later": ("application/x-ndjson", [b'{"ok": 1}\n', b'{"email": "jane@example.com"\n']),
    "bad_middle": ("application/x-ndjson", [b'{"email": "a@example.com"}\n{"e', b'mail": bad\n', b'{"x": 1}\n']),
    "big_text": ("text/plain", [b"z" * 40] * 2),
    "big_binary": ("application/octet-stream", [b"\x00" * 40] * 2),
}


def stream(request: HttpRequest, name: str, flavour: str) -> StreamingHttpResponse:
    ctype, chunks = STREAMS[name]
    content = _iter(chunks) if flavour == "sync" else _aiter(chunks)
    return StreamingHttpResponse(content, content_type=ctype)


def bad_json(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"email": "jane@example.com", ', content_type="application/json")


def cookies(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(b"{}", content_type="application/json")
    response.set_cookie("sid", "abc123", path="/", httponly=True)
    response.set_cookie("theme", "dark")
    return response


def json_file(request: HttpRequest) -> FileResponse:
    return FileResponse(open(request.GET["path"], "rb"))  # noqa: SIM115 - the response closes it


def big_text(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"z" * 80, content_type="text/plain")


def gzip_bomb(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(BOMB, content_type="application/json")
    response["Content-Encoding"] = "gzip"
    return response


BOMB = gzip.compress(b'{"a": "' + b"0" * 100_000 + b'"}')

urlpatterns = [
    path("echo", echo),
    path("respond/<str:name>/<str:flavour>", respond),
    path("stream/<str:name>/<str:flavour>", stream),
    path("bad-json", bad_json),
    path("cookies", cookies),
    path("file", json_file),
    path("bomb", gzip_bomb),
    path("big-text", big_text),
]


# -- helpers ----------------------------------------------------------------------------


def call(mode: str, method: str, url: str, veil: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Any, bytes]:
    """(response, body bytes) through a fresh Client or AsyncClient, so settings.VEIL is read anew."""
    with override_settings(VEIL={"POLICY": PLAN} if veil is None else veil):
        if mode == "sync":
            resp = getattr(Client(), method)(url, **kwargs)
            return resp, b"".join(resp.streaming_content) if resp.streaming else resp.content

        async def run() -> tuple[Any, bytes]:
            resp = await getattr(AsyncClient(), method)(url, **kwargs)
            return resp, b"".join([c async for c in resp.streaming_content]) if resp.streaming else resp.content

        return asyncio.run(run())


def post(mode: str, case: Case, veil: dict[str, Any] | None = None) -> tuple[Any, bytes]:
    headers = dict(case.headers) | ({"Content-Encoding": case.encoding} if case.encoding else {})
    return call(mode, "post", "/echo", veil, data=case.body, content_type=case.content_type, headers=headers,
                QUERY_STRING=case.query)


# -- the shared case table ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_request_reaches_the_view_as_the_plan_redacts_it(case: Case, mode: str) -> None:
    resp, body = post(mode, case)
    assert resp.status_code == 200
    ((seen,),) = [SEEN]
    assert seen["body"] == body == expected(PLAN, case, "request")
    assert seen["length"] == str(len(seen["body"]))
    route = Route("request", "POST", "testserver", "/echo", case.content_type)
    headers, query, _ = redact_head(PLAN, route, list(case.headers), case.query)
    assert seen["query"] == query
    for name, _ in case.headers:
        assert seen["headers"].get("HTTP_" + name.upper().replace("-", "_")) == dict(headers).get(name)
    text = json.dumps([seen["GET"], seen["headers"], seen["POST"] if "form" in case.name else None]).encode()
    for secret in case.must_vanish:
        assert secret not in seen["body"] + seen["query"].encode() and secret not in text


@pytest.mark.parametrize(("mode", "flavour"), [("sync", "plain"), ("async", "plain"), ("sync", "sync"), ("async", "async")])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_response_reaches_the_client_as_the_plan_redacts_it(case: Case, mode: str, flavour: str) -> None:
    """Plain and streamed (buffered, since none of the table's types streams line by line) alike."""
    resp, body = call(mode, "get", f"/respond/{case.name}/{flavour}")
    assert resp.status_code == 200 and body == expected(PLAN, case, "response", method="GET")
    assert resp.get("Content-Length", str(len(body))) == str(len(body))
    for secret in case.must_vanish:
        assert secret not in body


def test_form_posts_are_parsed_from_the_redacted_body() -> None:
    post("sync", next(c for c in CASES if c.name == "form"))
    assert SEEN[0]["POST"] == {"q": ["hello"], "email": ["[REDACTED:EMAIL]"], "password": ["[REDACTED:SECRET]"]}


@pytest.mark.parametrize("mode", MODES)
def test_request_cookies_reach_the_view_redacted(mode: str) -> None:
    call(mode, "get", "/echo", headers={"Cookie": "sid=abc123; theme=dark"})
    assert SEEN[0]["cookies"] == {"sid": "[REDACTED:SECRET]", "theme": "[REDACTED:SECRET]"}


# -- fail closed --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_malformed_json_request_is_refused_with_400_and_the_view_never_called(mode: str) -> None:
    resp, body = post(mode, Case("bad", "application/json", b'{"email": "jane@example.com",'))
    assert resp.status_code == 400 and resp["Content-Type"] == "application/json"
    assert json.loads(body) == {**ERROR, "reason": "invalid_json", "direction": "request"}
    assert resp["Content-Length"] == str(len(body)) and SEEN == []


@pytest.mark.parametrize("mode", MODES)
def test_malformed_json_response_becomes_502_without_the_original(mode: str) -> None:
    resp, body = call(mode, "get", "/bad-json")
    assert resp.status_code == 502 and json.loads(body) == {**ERROR, "reason": "invalid_json", "direction": "response"}
    assert b"jane@example.com" not in body


@pytest.mark.parametrize("mode", MODES)
def test_oversized_request_is_413_before_the_view(mode: str) -> None:
    resp, body = post(mode, Case("big", "text/plain", b"x" * 65), veil={"POLICY": SMALL})
    assert resp.status_code == 413 and json.loads(body)["reason"] == "body_too_large" and SEEN == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("url", ["/big-text", "/stream/big_text/{mode}"])
def test_oversized_response_is_502(mode: str, url: str) -> None:
    """Plain or streamed: a redactable body over the limit is never sent."""
    resp, body = call(mode, "get", url.format(mode=mode), veil={"POLICY": SMALL})
    assert resp.status_code == 502 and json.loads(body) == {**ERROR, "reason": "body_too_large", "direction": "response"}


@pytest.mark.parametrize("mode", MODES)
def test_binary_streaming_response_passes_through_even_over_the_limit(mode: str) -> None:
    resp, body = call(mode, "get", f"/stream/big_binary/{mode}", veil={"POLICY": SMALL})
    assert resp.status_code == 200 and body == b"\x00" * 80


def test_binary_upload_reaches_the_view_unread_even_over_the_limit() -> None:
    resp, _ = post("sync", Case("upload", "application/octet-stream", b"\x00" * 200), veil={"POLICY": SMALL})
    assert resp.status_code == 200 and SEEN[0]["body"] == b"\x00" * 200


@pytest.mark.parametrize("mode", MODES)
def test_gzip_bombs_are_413_and_502(mode: str) -> None:
    veil = {"POLICY": PLAN, "MAX_DECOMPRESSED_BYTES": 1000}
    resp, body = post(mode, Case("bomb", "application/json", BOMB, encoding="gzip"), veil=veil)
    assert resp.status_code == 413 and json.loads(body)["reason"] == "decompressed_too_large"
    resp, body = call(mode, "get", "/bomb", veil=veil)
    assert resp.status_code == 502 and json.loads(body)["reason"] == "decompressed_too_large"


@pytest.mark.parametrize("mode", MODES)
def test_passthrough_delivers_the_failed_bodies_unchanged(mode: str) -> None:
    bad = b'{"email": "jane@example.com",'
    resp, _ = post(mode, Case("bad", "application/json", bad), veil={"POLICY": PLAN, "ON_ERROR": "passthrough"})
    assert resp.status_code == 200 and SEEN[0]["body"] == bad
    resp, body = call(mode, "get", "/bad-json", veil={"POLICY": PLAN, "ON_ERROR": "passthrough"})
    assert resp.status_code == 200 and body == b'{"email": "jane@example.com", '


def test_policy_on_error_passthrough_applies_when_the_setting_is_unset() -> None:
    plan = compile_policy("version: 1\non_error: passthrough\nrules:\n  - scan: true\n")
    resp, _ = post("sync", Case("bad", "application/json", b"{"), veil={"POLICY": plan})
    assert resp.status_code == 200 and SEEN[0]["body"] == b"{"


def test_a_failure_is_logged_with_its_reason_never_the_payload(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="veil"):
        post("sync", Case("bad", "application/json", b'{"email": "jane@example.com",'))
    ids = ",".join(rule.id for rule in default_plan().rules)  # the route's rules name it, never the path
    assert [r.getMessage() for r in caplog.records] == [f"veil: request redaction failed: invalid_json (POST, rules: {ids})"]


# -- headers and cookies ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_set_cookie_values_are_redacted_and_their_attributes_kept(mode: str) -> None:
    resp, _ = call(mode, "get", "/cookies")
    assert resp.cookies["sid"].OutputString() == "sid=[REDACTED:SECRET]; HttpOnly; Path=/"
    assert resp.cookies["theme"].coded_value == "[REDACTED:SECRET]"


def test_host_header_is_kept_for_routing() -> None:
    call("sync", "get", "/echo", HTTP_HOST="127.0.0.1")
    assert SEEN[0]["headers"]["HTTP_HOST"] == "127.0.0.1"


# -- streaming ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_ndjson_stream_is_redacted_line_by_line_as_the_view_produces_it(mode: str) -> None:
    """Before the response is returned the stream is advanced only to its first redacted line."""
    with override_settings(VEIL={"POLICY": PLAN}):
        if mode == "sync":
            resp = Client().get("/stream/ndjson/sync")
            assert EVENTS == ["produced 0", "produced 1"]
            first = next(iter(resp.streaming_content))
            chunks = [first, *resp.streaming_content]
        else:
            async def run() -> tuple[Any, list[bytes]]:
                resp = await AsyncClient().get("/stream/ndjson/async")
                assert EVENTS == ["produced 0", "produced 1"]
                return resp, [c async for c in resp.streaming_content]

            resp, chunks = asyncio.run(run())
    assert "Content-Length" not in resp and len(chunks) == 2  # the first two lines together, then the third
    assert b"".join(chunks) == b"".join(
        json.dumps({"n": n, "email": "[REDACTED:EMAIL]"}).encode() + b"\n" for n in range(3)
    )


@pytest.mark.parametrize("mode", MODES)
def test_sse_data_lines_are_redacted_and_other_fields_kept(mode: str) -> None:
    _, body = call(mode, "get", f"/stream/sse/{mode}")
    assert body == b'event: user\ndata: {"email": "[REDACTED:EMAIL]"}\n\ndata: [DONE]\n\n'


@pytest.mark.parametrize("mode", MODES)
def test_stream_failing_on_its_first_line_is_still_a_502(mode: str) -> None:
    resp, body = call(mode, "get", f"/stream/bad_first/{mode}")
    assert resp.status_code == 502 and b"not json" not in body


@pytest.mark.parametrize("mode", MODES)
def test_stream_failing_after_lines_were_sent_raises_instead_of_leaking(mode: str) -> None:
    received: list[bytes] = []
    with override_settings(VEIL={"POLICY": PLAN}), pytest.raises(RedactionError):
        if mode == "sync":
            for chunk in Client().get("/stream/bad_later/sync").streaming_content:
                received.append(chunk)  # noqa: PERF402 - keep what arrived before the raise
        else:
            async def run() -> None:
                async for chunk in (await AsyncClient().get("/stream/bad_later/async")).streaming_content:
                    received.append(chunk)

            asyncio.run(run())
    assert received == [b'{"ok": 1}\n']


@pytest.mark.parametrize("mode", MODES)
def test_passthrough_stream_hands_over_the_unprocessed_rest_unchanged(mode: str) -> None:
    _, body = call(mode, "get", f"/stream/bad_middle/{mode}", veil={"POLICY": PLAN, "ON_ERROR": "passthrough"})
    assert body == b'{"email": "[REDACTED:EMAIL]"}\n{"email": bad\n{"x": 1}\n'


def test_async_iterator_under_a_sync_chain_is_still_redacted() -> None:
    """Django allows it (consuming it with a warning); veil wraps it without advancing it first."""
    chunks = STREAMS["ndjson"][1]
    middleware = VeilMiddleware(lambda request: StreamingHttpResponse(_aiter(chunks), content_type="application/x-ndjson"))
    resp = middleware(RequestFactory().get("/"))
    assert EVENTS == [] and resp.is_async

    async def consume() -> bytes:
        return b"".join([c async for c in resp.streaming_content])

    assert asyncio.run(consume()).count(b"[REDACTED:EMAIL]") == 3


def test_redactable_file_response_is_buffered_redacted_and_not_sent_by_sendfile(tmp_path: Path) -> None:
    data = tmp_path / "customer.json"
    data.write_bytes(b'{"email": "jane@example.com"}')
    resp, body = call("sync", "get", "/file", QUERY_STRING=f"path={data}")
    assert body == b'{"email": "[REDACTED:EMAIL]"}' and resp["Content-Length"] == str(len(body))
    assert resp.file_to_stream is None  # else a WSGI server's file_wrapper would send the raw file


# -- configuration ------------------------------------------------------------------------------


def test_async_mode_follows_get_response_like_middleware_mixin() -> None:
    async def async_view(request: Any) -> Any:
        return HttpResponse()

    assert iscoroutinefunction(VeilMiddleware(async_view))
    assert not iscoroutinefunction(VeilMiddleware(lambda request: HttpResponse()))
    assert VeilMiddleware.sync_capable and VeilMiddleware.async_capable


def test_missing_veil_setting_means_veil_policy_env_or_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VEIL_POLICY", raising=False)
    with override_settings():
        del settings.VEIL
        assert VeilMiddleware(lambda r: r).plan.source == "<default policy>"
        policy = tmp_path / "policy.yaml"
        policy.write_text("version: 1\nrules:\n  - fields: [{path: $.secret}]\n")
        monkeypatch.setenv("VEIL_POLICY", str(policy))
        assert VeilMiddleware(lambda r: r).plan.source == str(policy)


def test_policy_path_and_dict_settings_are_compiled(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - fields: [{path: $.secret}]\n")
    with override_settings(VEIL={"POLICY": str(policy)}):
        assert VeilMiddleware(lambda r: r).plan.source == str(policy)
    _, body = call("sync", "get", "/respond/json/plain", veil={"POLICY": {"version": 1, "rules": [{"fields": [{"path": "$.note"}]}]}})
    # Only the selected value changes: the app's own bytes (its spacing included) stay as they were.
    assert body == b'{"user": {"email": "jane@example.com"}, "note": "[REDACTED:FIELD]"}'


@pytest.mark.parametrize(("veil", "message"), [
    ({"POLICY": None, "ON_EROR": "block"}, r"^settings\.VEIL: unknown key 'ON_EROR' \(expected one of POLICY, "),
    ({"ON_ERROR": "skip"}, r"^settings\.VEIL\['ON_ERROR'\] must be 'block' or 'passthrough' \(got 'skip'\)$"),
    ({"REQUESTS": "no"}, r"^settings\.VEIL\['REQUESTS'\] must be True or False \(got 'no'\)$"),
    ({"MAX_DECOMPRESSED_BYTES": 0}, r"^settings\.VEIL\['MAX_DECOMPRESSED_BYTES'\] must be a positive int \(got 0\)$"),
    ("policy.yaml", r"^settings\.VEIL must be a dict \(got str\)$"),
])
def test_bad_settings_are_improperly_configured_at_startup(veil: Any, message: str) -> None:
    with override_settings(VEIL=veil), pytest.raises(ImproperlyConfigured, match=message):
        VeilMiddleware(lambda r: r)


def test_directions_can_be_switched_off() -> None:
    post("sync", Case("raw", "text/plain", b"jane@example.com"), veil={"POLICY": PLAN, "REQUESTS": False})
    assert SEEN[0]["body"] == b"jane@example.com"
    _, body = call("sync", "get", "/respond/text/plain", veil={"POLICY": PLAN, "RESPONSES": False})
    assert body == next(c for c in CASES if c.name == "text").body


class Recorder:
    """An observer that keeps (outcome, reason, size) of every body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str]] = []
        self.sizes: list[int] = []

    def observe(self, *, adapter: str, direction: str, outcome: str, size: int, reason: str = "", **_: object) -> None:
        self.seen.append((adapter, direction, outcome, reason))
        self.sizes.append(size)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "outcome", "reason"), [
    ("ndjson", "rewritten", ""),
    ("bad_later", "error", "invalid_json"),  # after a line went out: the stream is aborted, and counted
    ("bad_first", "error", "invalid_json"),  # on its first line: a 502, and counted
])
def test_a_stream_is_observed_once_with_its_outcome_and_error_reason(mode: str, name: str, outcome: str, reason: str) -> None:
    """Issue #15: streams were invisible to the observer (and so to veil_errors_total) in Django."""
    recorder = Recorder()
    try:
        call(mode, "get", f"/stream/{name}/{mode}", veil={"POLICY": PLAN, "OBSERVER": recorder})
    except RedactionError:
        pass  # the aborted stream breaks the connection
    assert recorder.seen == [("django", "response", outcome, reason)]
    if not reason:
        assert recorder.sizes == [sum(len(chunk) for chunk in STREAMS[name][1])]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("body", "crashes", "reason"), [
    (b'{"email": "jane@example.com", ', False, "invalid_json"),  # the engine's own failure
    (b'{"email": "jane@example.com"}', True, "internal_error"),  # an exception quoting the payload
])
def test_a_failure_log_names_reason_method_and_rules_never_path_or_payload(
    mode: str, body: bytes, crashes: bool, reason: str, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue #15: the log carried the raw path, and an engine exception's message reached the server."""
    import veil

    seeded = body[11:27].decode()  # the e-mail; not written out here, since the logged frames show source lines

    def crash(*args: object, **kwargs: object) -> None:
        raise ValueError(f"invalid literal for int() with base 10: {seeded!r}")

    if crashes:
        monkeypatch.setattr(veil.Plan, "redact_body", crash)
    with caplog.at_level(logging.DEBUG):
        resp, _ = call(mode, "post", "/users/jane@example.com/orders", data=body, content_type="application/json")
    assert resp.status_code == 400
    text = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                     for r in caplog.records)
    assert "jane" not in text and "/users" not in text, text
    assert f"request redaction failed: {reason} (POST, rules: default-" in text, text
