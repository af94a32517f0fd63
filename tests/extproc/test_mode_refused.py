"""A gateway that ignores veil's ``mode_override`` (its ext_proc filter lacks ``allow_mode_override: true``)
sends no body while its static mode, NONE, lets every body cross unread: veil fails closed where it can
(``body_mode_refused``): a request body that never came refuses its reply, a response body that never came
resets the stream at its trailers; either way one warning line naming the fix and one error counted.
Driven in process as Envoy would (tests/extproc/envoy_like.py); the real Envoy is test_envoy_binary.py."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("envoy.service.ext_proc.v3.external_processor_pb2", reason="needs veil[envoy]")

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HttpBody,
    HttpHeaders,
    HttpTrailers,
    ProcessingRequest,
)

from tests.extproc.envoy_like import RESET, Outcome, exchange
from veil import compile_policy
from veil.extproc.exchange import Exchange
from veil.http import Options
from veil.rules.plan import Plan

EMAIL = "jane@example.com"
DOC = json.dumps({"email": EMAIL}).encode()


def policy(**extra: object) -> Plan:
    rules = extra.pop("rules", [{"id": "pii", "scan": {"detectors": ["EMAIL"], "action": "redact"}}])
    return compile_policy({"version": 1, "rules": rules, **extra})


class Errors:
    """The observer's error samples, as (direction, reason)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def observe(self, *, direction: str, outcome: str, reason: str = "", **_: Any) -> None:
        if outcome == "error":
            self.seen.append((direction, reason))


def refusal(direction: str) -> bytes:
    return json.dumps({"error": "veil_redaction_failed", "reason": "body_mode_refused", "direction": direction},
                      separators=(",", ":")).encode()


def run(plan: Plan, request: bytes, reply: bytes, *, allow: bool, trailers: bool = False,
        errors: Errors | None = None) -> Outcome:
    method = "POST" if request else "GET"
    return exchange(plan, method, "/users/jane@example.com", "application/json", request,
                    lambda _: (reply, "application/json"), Options(observer=errors or Errors()),
                    allow_mode_override=allow, trailers=trailers)


RESPONSE_ONLY = [{"id": "out", "match": {"direction": "response"}, "scan": {"detectors": ["EMAIL"], "action": "redact"}}]

# (name, policy extras, request body, reply body, allow_mode_override, trailers,
#  expected status, expected client body (None: the reply as veil redacts it), errors expected)
CASES = [
    ("request body refused: its reply is replaced", {}, DOC, b"", False, False, 400, refusal("request"),
     [("request", "body_mode_refused")]),
    ("request body read when overrides are allowed", {}, DOC, b"", True, False, 200, b"", []),
    ("no body either way: nothing was asked for", {}, b"", b"", False, False, 200, b"", []),
    ("request direction no rule covers: no body asked for", {"rules": RESPONSE_ONLY}, DOC, b"", False, False,
     200, b"", []),
    ("response body refused, trailers: the stream is reset", {}, b"", DOC, False, True, RESET, b"",
     [("response", "body_mode_refused")]),
    ("response body read when overrides are allowed, trailers", {}, b"", DOC, True, True, 200, None, []),
    ("response body refused, no trailers: logged and counted at the stream's end", {}, b"", DOC, False, False,
     200, DOC, [("response", "body_mode_refused")]),
    ("response body read when overrides are allowed", {}, b"", DOC, True, False, 200, None, []),
    ("passthrough: the request goes on, still logged and counted", {"on_error": "passthrough"}, DOC, b"",
     False, False, 200, b"", [("request", "body_mode_refused")]),
    ("both bodies refused: the request's refusal ends it", {}, DOC, DOC, False, False, 400, refusal("request"),
     [("request", "body_mode_refused")]),
]


@pytest.mark.parametrize(("name", "extra", "request_body", "reply", "allow", "trailers", "status", "client", "errors"),
                         CASES, ids=[case[0] for case in CASES])
def test_a_body_the_gateway_never_sent_fails_closed(
    name: str, extra: dict[str, object], request_body: bytes, reply: bytes, allow: bool, trailers: bool,
    status: int, client: bytes | None, errors: list[tuple[str, str]], caplog: pytest.LogCaptureFixture,
) -> None:
    seen = Errors()
    with caplog.at_level(logging.WARNING, logger="veil"):
        outcome = run(policy(**extra), request_body, reply, allow=allow, trailers=trailers, errors=seen)
    assert outcome.status == status
    if client is None:  # read and redacted: the address is gone
        assert outcome.body.startswith(b'{"email": "') and EMAIL.encode() not in outcome.body
    else:
        assert outcome.body == client
    assert seen.seen == errors
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == len(errors)
    for line in warnings:
        assert "body_mode_refused" in line and "set allow_mode_override: true in the ext_proc filter" in line
        assert "jane" not in line and "/users" not in line  # neither the body nor the path


def message(which: str, **fields: object) -> ProcessingRequest:
    kind = HttpHeaders if which.endswith("headers") else HttpTrailers if which.endswith("trailers") else HttpBody
    return ProcessingRequest(**{which: kind(**fields)})


HEAD = HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in [
    (":method", "POST"), (":path", "/v1"), (":authority", "api.example.com"), ("content-type", "application/json"),
    ("content-length", str(len(DOC)))]])


@pytest.mark.parametrize(("then", "refused"), [
    ("request_trailers", True),  # a request that ends in trailers, its body never sent
    ("request_body", False),  # near miss: the body came
])
def test_request_trailers_without_the_body_refuse(then: str, refused: bool) -> None:
    ex = Exchange(policy(), Options())
    assert ex.handle(message("request_headers", headers=HEAD)).request_headers.HasField("response")
    fields: dict[str, object] = {"body": DOC, "end_of_stream": True} if then == "request_body" else {}
    reply = ex.handle(message(then, **fields))
    assert reply.HasField("immediate_response") is refused
    if refused:
        assert reply.immediate_response.status.code == 400
        assert reply.immediate_response.body == refusal("request")


RESPONSE_HEAD = HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in [
    (":status", "200"), ("content-type", "application/json"), ("content-length", str(len(DOC)))]])


@pytest.mark.parametrize(("ending", "errors"), [
    ("closed", [("response", "body_mode_refused")]),  # Envoy half-closes the gRPC stream
    ("reset", [("response", "body_mode_refused")]),  # Envoy resets it: the server's task is cancelled
    ("body came", []),  # near miss
])
def test_the_server_reports_a_response_body_that_never_came_however_the_stream_ends(
    ending: str, errors: list[tuple[str, str]],
) -> None:
    from veil.extproc.server import ExternalProcessor

    seen = Errors()
    processor = ExternalProcessor(policy(), Options(observer=seen))
    get = HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in [
        (":method", "GET"), (":path", "/v1"), (":authority", "api.example.com")]])

    async def messages() -> AsyncIterator[ProcessingRequest]:
        yield message("request_headers", headers=get, end_of_stream=True)
        yield message("response_headers", headers=RESPONSE_HEAD)
        if ending == "body came":
            yield message("response_body", body=DOC, end_of_stream=True)
        if ending == "reset":
            raise asyncio.CancelledError

    async def drive() -> None:
        async for _ in processor.Process(messages(), None):
            pass

    if ending == "reset":
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(drive())
    else:
        asyncio.run(drive())
    assert seen.seen == errors
