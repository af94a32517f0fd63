"""WSGIMiddleware around real WSGI apps, in process, with werkzeug's LintMiddleware on both sides.

The outer lint plays the server (checks Content-Length against the bytes sent
and that our iterable is closed); the inner lint checks the environ we hand the
app and that we close the app's iterable.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

import veil
from werkzeug.middleware.lint import LintMiddleware
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from tests.middleware.cases import CASES, Case, expected
from veil import RedactionError, Route, compile_policy, default_plan
from veil.http import redact_head
from veil.middleware.wsgi import WSGIMiddleware

PLAN = default_plan()
SMALL = compile_policy("version: 1\nlimits: {max_body_bytes: 64}\nrules:\n  - scan: true\n", source="small.yaml")
BASE = "http://127.0.0.1"
StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def stack(app: Any, policy: Any = PLAN, **options: Any) -> Any:
    return LintMiddleware(WSGIMiddleware(LintMiddleware(app), policy, **options))


class Echo:
    """Records the environ and body it received and sends the body back as opaque bytes."""

    def __init__(self) -> None:
        self.seen: list[tuple[Environ, bytes]] = []

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        if "CONTENT_LENGTH" in environ:
            body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"] or 0))
        else:  # chunked: the server promised the stream ends (wsgi.input_terminated)
            body = b"".join(iter(lambda: environ["wsgi.input"].read(16), b""))
        self.seen.append((dict(environ), body))
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
        return [body]


class Body:
    """An app iterable that records close() and how far it was read."""

    def __init__(self, chunks: Iterable[bytes], events: list[str] | None = None, fail_at: int = -1) -> None:
        self.chunks = list(chunks)
        self.events = events if events is not None else []
        self.fail_at = fail_at
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for n, chunk in enumerate(self.chunks):
            if n == self.fail_at:
                raise OSError("upstream went away")
            self.events.append(f"produced {n}")
            yield chunk

    def close(self) -> None:
        self.closed = True


def serving(body: Body, content_type: str, extra: tuple[tuple[str, str], ...] = (), length: bool = True) -> Any:
    def app(environ: Environ, start_response: StartResponse) -> Body:
        headers = [("Content-Type", content_type), *extra]
        if length:
            headers.append(("Content-Length", str(sum(map(len, body.chunks)))))
        start_response("200 OK", headers)
        return body

    return app


def post(app: Any, case: Case, data: bytes | None = None, **kwargs: Any) -> Any:
    headers = list(case.headers) + ([("Content-Encoding", case.encoding)] if case.encoding else [])
    return Client(app).post(
        "/echo", base_url=BASE, query_string=case.query, data=case.body if data is None else data,
        content_type=case.content_type, headers=headers, buffered=True, **kwargs,
    )


# -- the shared case table ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_request_reaches_the_app_as_the_plan_redacts_it(case: Case) -> None:
    echo = Echo()
    assert post(stack(echo), case).status_code == 200
    ((environ, body),) = echo.seen
    assert body == expected(PLAN, case, "request")
    assert environ["CONTENT_LENGTH"] == str(len(body))
    route = Route("request", "POST", "127.0.0.1", "/echo", case.content_type)
    headers, query, _ = redact_head(PLAN, route, list(case.headers), case.query)
    assert environ["QUERY_STRING"] == query
    for name, _ in case.headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        assert environ.get(key) == dict(headers).get(name)
    seen = body + environ["QUERY_STRING"].encode() + "".join(v for k, v in environ.items() if k.startswith("HTTP_")).encode()
    for secret in case.must_vanish:
        assert secret not in seen


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_response_reaches_the_client_as_the_plan_redacts_it(case: Case) -> None:
    extra = (("Content-Encoding", case.encoding),) if case.encoding else ()
    body = Body([case.body[:7], case.body[7:]])  # the app's chunking must not matter
    resp = Client(stack(serving(body, case.content_type, extra))).post("/echo", base_url=BASE, buffered=True)
    assert resp.get_data() == expected(PLAN, case, "response")
    assert resp.headers["Content-Length"] == str(len(resp.get_data()))
    for secret in case.must_vanish:
        assert secret not in resp.get_data()
    assert body.closed


# -- fail closed --------------------------------------------------------------------------

ERROR = {"error": "veil_redaction_failed"}


def test_malformed_json_request_is_refused_and_the_app_never_called() -> None:
    echo = Echo()
    resp = post(stack(echo), Case("bad", "application/json", b'{"email": "jane@example.com",'))
    assert resp.status_code == 400 and resp.mimetype == "application/json"
    assert resp.json == {**ERROR, "reason": "invalid_json", "direction": "request"}
    assert echo.seen == []


def test_malformed_json_response_becomes_502_without_the_original() -> None:
    body = Body([b'{"email": "jane@example.com", '])
    resp = Client(stack(serving(body, "application/json"))).get("/", buffered=True)
    assert resp.status_code == 502
    assert resp.json == {**ERROR, "reason": "invalid_json", "direction": "response"}
    assert b"jane@example.com" not in resp.get_data()
    assert body.closed


def test_oversized_request_with_content_length_is_413_before_reading() -> None:
    echo = Echo()
    resp = post(stack(echo, SMALL), Case("big", "text/plain", b"x" * 65))
    assert resp.status_code == 413 and resp.json["reason"] == "body_too_large"
    assert echo.seen == []


def chunked_environ(body: bytes, content_type: str = "text/plain") -> Environ:
    """What gunicorn gives an app for ``Transfer-Encoding: chunked``: no length, a terminated stream."""
    environ = EnvironBuilder("/echo", base_url=BASE, method="POST", content_type=content_type).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    return environ


def test_oversized_chunked_request_is_413() -> None:
    echo = Echo()
    _, status, _ = run_wsgi_app(stack(echo, SMALL), chunked_environ(b"x" * 200), buffered=True)
    assert status.startswith("413") and echo.seen == []


def test_chunked_request_is_read_to_the_end_and_given_a_length() -> None:
    echo = Echo()
    _, status, _ = run_wsgi_app(stack(echo), chunked_environ(b"mail jane@example.com"), buffered=True)
    ((environ, body),) = echo.seen
    assert status.startswith("200") and body == b"mail [REDACTED:EMAIL]"
    assert environ["CONTENT_LENGTH"] == str(len(body)) and "HTTP_TRANSFER_ENCODING" not in environ


def test_passthrough_replays_an_oversized_chunked_request_whole() -> None:
    echo = Echo()
    run_wsgi_app(stack(echo, SMALL, on_error="passthrough"), chunked_environ(b"y" * 200), buffered=True)
    assert echo.seen[0][1] == b"y" * 200


def test_binary_upload_streams_to_the_app_unread_even_over_the_limit() -> None:
    """veil never rewrites binary types, so it neither reads nor refuses them."""
    echo = Echo()
    assert post(stack(echo, SMALL), Case("upload", "application/octet-stream", b"\x00" * 200)).status_code == 200
    assert echo.seen[0][1] == b"\x00" * 200


def test_a_failure_is_logged_with_its_reason_never_the_payload(caplog: pytest.LogCaptureFixture) -> None:
    post(stack(Echo()), Case("bad", "application/json", b'{"email": "jane@example.com",'))
    ids = ",".join(rule.id for rule in veil.default_plan().rules)  # the route's rules name it, never the path
    assert [r.getMessage() for r in caplog.records] == [f"veil: request redaction failed: invalid_json (POST, rules: {ids})"]


def test_oversized_response_is_502() -> None:
    resp = Client(stack(serving(Body([b"z" * 40] * 2), "text/plain"), SMALL)).get("/", buffered=True)
    assert resp.status_code == 502 and resp.json == {**ERROR, "reason": "body_too_large", "direction": "response"}


def test_binary_response_streams_through_unbuffered_even_over_the_limit() -> None:
    """Binary bodies are never rewritten, so veil does not hold them (or refuse them) at all."""
    resp = Client(stack(serving(Body([b"\x00" * 40] * 2), "application/octet-stream"), SMALL)).get("/", buffered=True)
    assert resp.status_code == 200 and resp.get_data() == b"\x00" * 80


BOMB = gzip.compress(b'{"a": "' + b"0" * 100_000 + b'"}')


def test_gzip_bomb_request_is_413() -> None:
    resp = post(stack(Echo(), max_decompressed_bytes=1000), Case("bomb", "application/json", BOMB, encoding="gzip"))
    assert resp.status_code == 413 and resp.json["reason"] == "decompressed_too_large"


def test_gzip_bomb_response_is_502() -> None:
    app = serving(Body([BOMB]), "application/json", (("Content-Encoding", "gzip"),))
    resp = Client(stack(app, max_decompressed_bytes=1000)).get("/", buffered=True)
    assert resp.status_code == 502 and resp.json == {**ERROR, "reason": "decompressed_too_large", "direction": "response"}


def test_multi_member_gzip_response_does_not_leak_its_later_members() -> None:
    two = gzip.compress(b"hello ") + gzip.compress(b"mail jane@example.com")
    app = serving(Body([two]), "text/plain", (("Content-Encoding", "gzip"),))
    data = Client(stack(app)).get("/", buffered=True).get_data()
    assert b"jane@example.com" not in gzip.decompress(data)


def test_truncated_gzip_response_fails_closed() -> None:
    cut = gzip.compress(b'{"email": "jane@example.com", "pad": "' + b"x" * 200 + b'"}')[:-12]
    app = serving(Body([cut]), "application/json", (("Content-Encoding", "gzip"),))
    resp = Client(stack(app)).get("/", buffered=True)
    assert resp.status_code == 502 and resp.json["reason"] == "bad_encoding"


def test_passthrough_delivers_the_failed_bodies_unchanged() -> None:
    bad = b'{"email": "jane@example.com",'
    echo = Echo()
    assert post(stack(echo, on_error="passthrough"), Case("bad", "application/json", bad)).status_code == 200
    assert echo.seen[0][1] == bad
    resp = Client(stack(serving(Body([bad]), "application/json"), on_error="passthrough")).get("/", buffered=True)
    assert resp.status_code == 200 and resp.get_data() == bad


def test_policy_on_error_passthrough_applies_when_the_option_is_unset() -> None:
    plan = compile_policy("version: 1\non_error: passthrough\nrules:\n  - scan: true\n")
    echo = Echo()
    assert post(stack(echo, plan), Case("bad", "application/json", b"{")).status_code == 200


# -- the WSGI contract ----------------------------------------------------------------------


def test_app_iterable_is_closed_when_the_app_fails_mid_body() -> None:
    body = Body([b'{"a": ', b"1}"], fail_at=1)
    with pytest.raises(OSError, match="upstream went away"):
        Client(stack(serving(body, "application/json", length=False))).get("/", buffered=True)
    assert body.closed


def test_ndjson_lines_are_redacted_and_sent_as_the_app_produces_them() -> None:
    events: list[str] = []
    lines = [json.dumps({"n": n, "email": f"u{n}@example.com"}).encode() + b"\n" for n in range(3)]
    body = Body([lines[0][:5], lines[0][5:] + lines[1], lines[2]], events)
    resp = Client(stack(serving(body, "application/x-ndjson", length=False))).get("/")
    assert "Content-Length" not in resp.headers
    received: list[bytes] = []
    for chunk in resp.iter_encoded():
        events.append(f"received {len(received)}")
        received.append(chunk)
    resp.close()
    # The first app chunk holds no complete line, so nothing is sent until the second one.
    assert events == ["produced 0", "produced 1", "received 0", "produced 2", "received 1"]
    assert b"".join(received).decode().count("[REDACTED:EMAIL]") == 3
    assert b"@example.com" not in b"".join(received) and body.closed


def test_sse_data_lines_are_redacted_and_other_fields_kept() -> None:
    stream = b"event: user\ndata: {\"email\": \"jane@example.com\"}\n\ndata: [DONE]\n\n"
    resp = Client(stack(serving(Body([stream]), "text/event-stream", length=False))).get("/", buffered=True)
    assert resp.get_data() == b'event: user\ndata: {"email": "[REDACTED:EMAIL]"}\n\ndata: [DONE]\n\n'


def test_stream_failing_on_its_first_line_is_still_a_502() -> None:
    resp = Client(stack(serving(Body([b"{not json\n"]), "application/x-ndjson", length=False))).get("/", buffered=True)
    assert resp.status_code == 502 and b"not json" not in resp.get_data()


def test_stream_failing_after_lines_were_sent_aborts_instead_of_leaking() -> None:
    body = Body([b'{"ok": 1}\n', b'{"email": "jane@example.com"\n'])
    resp = Client(stack(serving(body, "application/x-ndjson", length=False))).get("/")
    received: list[bytes] = []
    with pytest.raises(RedactionError):
        for chunk in resp.iter_encoded():
            received.append(chunk)  # noqa: PERF402 - keep what arrived before the raise
    resp.close()
    assert received == [b'{"ok": 1}\n'] and body.closed


def test_passthrough_stream_hands_over_the_unprocessed_rest_unchanged() -> None:
    body = Body([b'{"email": "a@example.com"}\n{"e', b"mail\": bad\n", b'{"x": 1}\n'])
    app = stack(serving(body, "application/x-ndjson", length=False), on_error="passthrough")
    data = Client(app).get("/", buffered=True).get_data()
    assert data == b'{"email": "[REDACTED:EMAIL]"}\n{"email": bad\n{"x": 1}\n'


def test_set_cookie_is_redacted_and_duplicate_headers_survive() -> None:
    extra = (("Set-Cookie", "sid=abc123; Path=/"), ("Set-Cookie", "theme=dark; Path=/"))
    resp = Client(stack(serving(Body([b"{}"]), "application/json", extra))).get("/", buffered=True)
    assert resp.headers.getlist("Set-Cookie") == ["sid=[REDACTED:SECRET]; Path=/", "theme=[REDACTED:SECRET]; Path=/"]


def test_host_header_is_left_for_routing_even_when_it_is_an_ip() -> None:
    echo = Echo()
    post(stack(echo), Case("host", "text/plain", b"hi"))
    assert echo.seen[0][0]["HTTP_HOST"] == "127.0.0.1"


def test_error_page_replacing_the_head_with_exc_info_is_redacted() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("boom")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"failed for jane@example.com"]

    resp = Client(stack(app)).get("/", buffered=True)
    assert resp.status_code == 500 and resp.get_data() == b"failed for [REDACTED:EMAIL]"


def test_legacy_write_callable_output_is_redacted_too() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"mail jane@example.com ")
        return [b"done"]

    assert Client(stack(app)).get("/", buffered=True).get_data() == b"mail [REDACTED:EMAIL] done"


def test_directions_can_be_switched_off() -> None:
    echo = Echo()
    post(stack(echo, requests=False), Case("raw", "text/plain", b"jane@example.com"))
    assert echo.seen[0][1] == b"jane@example.com"
    resp = Client(stack(serving(Body([b"jane@example.com"]), "text/plain"), responses=False)).get("/", buffered=True)
    assert resp.get_data() == b"jane@example.com"


def test_unknown_option_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"^unknown veil middleware option 'on_eror' \(expected one of "):
        WSGIMiddleware(Echo(), PLAN, on_eror="block")
    with pytest.raises(ValueError, match=r"^on_error must be 'block' or 'passthrough' \(got 'skip'\)$"):
        WSGIMiddleware(Echo(), PLAN, on_error="skip")


def test_a_rewritten_body_loses_the_etag_of_its_unredacted_bytes() -> None:
    """An ETag (or digest) of the original body would be a plain hash of the PII it held."""
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"), ("ETag", '"5d41402abc4b2a76"'),
                                  ("Content-Length", "29")])
        return [b'{"email": "jane@example.com"}']

    resp = Client(stack(app)).get("/", buffered=True)
    assert "ETag" not in resp.headers and b"jane" not in resp.get_data()


def test_brotli_bodies_are_decoded_redacted_and_re_encoded() -> None:
    import brotli

    body = brotli.compress(b'{"email": "jane@example.com"}')
    app = serving(Body([body]), "application/json", (("Content-Encoding", "br"),))
    data = Client(stack(app)).get("/", buffered=True).get_data()
    assert json.loads(brotli.decompress(data)) == {"email": "[REDACTED:EMAIL]"}


def test_brotli_bomb_fails_closed() -> None:
    import brotli

    app = serving(Body([brotli.compress(b"0" * 5_000_000)]), "text/plain", (("Content-Encoding", "br"),))
    resp = Client(stack(app, max_decompressed_bytes=100_000)).get("/", buffered=True)
    assert resp.status_code == 502 and resp.json["reason"] == "decompressed_too_large"


def test_brotli_bomb_fails_closed_with_an_old_brotli_without_output_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Brotli 1.1 (pinned by mitmproxy 11) has no output_buffer_limit: veil feeds small slices."""
    import brotli

    real = brotli.Decompressor

    class OldDecompressor:
        def __init__(self) -> None:
            self._inner = real()

        def process(self, data: bytes) -> bytes:  # no output_buffer_limit keyword
            return bytes(self._inner.process(data))

        def is_finished(self) -> bool:
            return bool(self._inner.is_finished())

    monkeypatch.setattr(brotli, "Decompressor", OldDecompressor)
    bomb = serving(Body([brotli.compress(b"0" * 5_000_000)]), "text/plain", (("Content-Encoding", "br"),))
    resp = Client(stack(bomb, max_decompressed_bytes=100_000)).get("/", buffered=True)
    assert resp.status_code == 502 and resp.json["reason"] == "decompressed_too_large"
    ok = serving(Body([brotli.compress(b'{"email": "jane@example.com"}')]), "application/json", (("Content-Encoding", "br"),))
    data = Client(stack(ok)).get("/", buffered=True).get_data()
    assert json.loads(brotli.decompress(data)) == {"email": "[REDACTED:EMAIL]"}
