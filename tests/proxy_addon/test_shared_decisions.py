"""The addon's per-exchange decisions are the shared layer's (veil.http.exchange), as in the in-app middlewares.

Rows where the proxy once decided on its own and differed from the other adapters:

- a response head that fails to redact under ``on_error: passthrough``: the head goes on as it
  came and the body is still redacted (the proxy let the whole body cross unread, and logged
  the failure twice);
- a body declared over the limit under ``passthrough``: one warning line, the body goes on unread
  (the proxy buffered the request whole and logged it twice).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from mitmproxy import http

from tests.proxy_addon.flows import addon_context, make_flow, send_request, send_response
from tests.proxy_addon.test_fail_closed import deliver, ws_flow
from veil.errors import RedactionError
from veil.proxy_addon import VeilAddon
from veil.rules.compiler import compile_policy
from veil.rules.plan import Plan

EMAIL = b"jane@example.com"


@pytest.fixture
def passthrough() -> Iterator[VeilAddon]:
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_on_error="passthrough", veil_max_body_bytes=200)
        yield addon


def failing_response_heads(monkeypatch: pytest.MonkeyPatch, direction: str = "response") -> None:
    """Heads of ``direction`` fail to redact (as a vault outage would); the other direction's and bodies do not."""
    redact_headers = Plan.redact_headers

    def failing(self: Plan, headers: Any, route: Any = None) -> Any:
        if route is not None and route.direction == direction:
            raise RedactionError("vault_unavailable", "no vault")
        return redact_headers(self, headers, route)

    monkeypatch.setattr(Plan, "redact_headers", failing)


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "redaction failed" in r.getMessage()]


@pytest.mark.parametrize(
    ("ctype", "body", "chunks"),
    [
        ("application/json", b'{"email": "jane@example.com"}', None),  # buffered
        ("application/x-ndjson", b'{"email": "jane@example.com"}\n', [b'{"email": "jane@', b'example.com"}\n']),
        ("text/plain", b"mail jane@example.com", None),
    ],
)
def test_a_response_head_failing_under_passthrough_still_gets_its_body_redacted(
    passthrough: VeilAddon, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    ctype: str, body: bytes, chunks: list[bytes] | None,
) -> None:
    failing_response_heads(monkeypatch)
    flow = make_flow(method="GET", path="/profile")
    send_request(passthrough, flow)
    headers = [("transfer-encoding", "chunked")] if chunks else []
    with caplog.at_level(logging.WARNING):
        out = send_response(passthrough, flow, body, ctype, headers=[*headers, ("x-note", "kept")], chunks=chunks)
    assert flow.response is not None and flow.response.status_code == 200
    assert flow.response.headers["x-note"] == "kept"  # the head that failed goes on as it came
    assert EMAIL not in out and b"[REDACTED:EMAIL]" in out  # near-miss of a leak: the body is still redacted
    assert len(failures(caplog)) == 1 and "vault_unavailable" in failures(caplog)[0]


@pytest.mark.parametrize(
    ("ctype", "body", "streams"),
    [
        ("application/json", b'{"email": "jane@example.com"}', False),  # read whole and redacted
        ("application/octet-stream", b"\x00\x01" + b"x" * 300, True),  # too large to buffer first: its head decides
    ],
)
def test_a_request_head_failing_under_passthrough_still_gets_its_body_judged(
    passthrough: VeilAddon, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    ctype: str, body: bytes, streams: bool,
) -> None:
    failing_response_heads(monkeypatch, "request")
    flow = make_flow(body, ctype, headers=[("x-note", "kept")])
    with caplog.at_level(logging.WARNING):
        send_request(passthrough, flow)
    assert flow.response is None and flow.request.headers["x-note"] == "kept"
    assert bool(flow.request.stream) is streams  # as without the failure: a large upload is not buffered whole
    assert EMAIL not in (flow.request.raw_content or b"")
    assert len(failures(caplog)) == 1 and "vault_unavailable" in failures(caplog)[0]


def test_a_request_declared_over_the_limit_under_passthrough_goes_on_unread_logged_once(
    passthrough: VeilAddon, caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"email": "jane@example.com", "pad": "' + b"x" * 300 + b'"}'
    flow = make_flow(body, "application/json")
    with caplog.at_level(logging.WARNING):
        send_request(passthrough, flow)
    assert flow.response is None and flow.request.raw_content == body  # passthrough: as it came
    assert len(failures(caplog)) == 1 and "body_too_large" in failures(caplog)[0]


def test_a_request_declared_under_the_limit_is_read_and_redacted(passthrough: VeilAddon) -> None:
    flow = make_flow(b'{"email": "jane@example.com"}', "application/json")  # near miss of the above
    send_request(passthrough, flow)
    assert flow.response is None and EMAIL not in (flow.request.raw_content or b"")


def test_a_response_declared_over_the_limit_under_passthrough_streams_on_unread(
    passthrough: VeilAddon, caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"email": "jane@example.com", "pad": "' + b"x" * 300 + b'"}'
    flow = make_flow(method="GET", path="/profile")
    send_request(passthrough, flow)
    with caplog.at_level(logging.WARNING):
        out = send_response(passthrough, flow, body, "application/json")
    assert flow.response is not None and flow.response.status_code == 200 and out == body
    assert len(failures(caplog)) == 1 and "body_too_large" in failures(caplog)[0]


RESPONSE_ONLY = compile_policy("version: 1\nrules:\n  - match: {direction: response}\n    scan: true\n", source="out.yaml")


@pytest.mark.parametrize(
    ("from_client", "text", "crosses_as_sent"),
    [
        (True, False, True),  # a binary client message: no rule reads requests, so it is not dropped
        (True, True, True),  # a client text message: untouched
        (False, True, False),  # near miss: a server message is redacted
        (False, False, False),  # near miss: a binary server message is dropped, the connection closed
    ],
)
def test_websocket_messages_of_a_direction_no_rule_covers_cross_untouched(
    from_client: bool, text: bool, crosses_as_sent: bool,
) -> None:
    """As the ASGI middleware's WebSockets (veil.http.coverage): a response-only policy leaves the client's messages alone."""
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon)
        addon.use_plan(RESPONSE_ONLY)
        flow = ws_flow(addon)
        content = b'{"email": "jane@example.com"}'
        message = deliver(addon, flow, content, from_client=from_client, text=text)
    assert (not message.dropped and message.content == content) is crosses_as_sent
    assert message.dropped or EMAIL not in message.content or crosses_as_sent


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 304), ("GET", 204)])
def test_a_response_without_a_body_is_not_refused_for_the_length_it_declares(
    method: str, status: int,
) -> None:
    """A HEAD reply, a 304 or a 204 carries no body whatever its Content-Length says (RFC 9110 8.6)."""
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_max_body_bytes=200)
        flow = make_flow(method=method, path="/big")
        send_request(addon, flow)
        flow.response = http.Response.make(status, b"", {"content-type": "application/json"})
        flow.response.headers["content-length"] = "5000"  # make() would set the length of b""
        flow.response.data.content = None  # as mitmproxy has it between headers and body
        addon.responseheaders(flow)
        flow.response.data.content = b""
        addon.response(flow)
    assert flow.response is not None and flow.response.status_code == status
    assert flow.response.headers["content-length"] == "5000"


def test_a_get_reply_declared_over_the_limit_is_refused() -> None:
    """Near miss of the above: a 200 to a GET has the body its length says."""
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_max_body_bytes=200)
        flow = make_flow(method="GET", path="/big")
        send_request(addon, flow)
        send_response(addon, flow, b"x" * 300, "application/json")
    assert flow.response is not None and flow.response.status_code == 502
