"""One HTTP exchange driven through :class:`veil.extproc.exchange.Exchange` as Envoy's ext_proc filter
would drive it, in process: the request's headers, its body when the mode asks for it (the filter's
static mode, BUFFERED, when a reply sets none), then the response's; an ImmediateResponse ends it.

For tables that run every adapter on the same rows without starting Envoy (the real-Envoy tests
are ``test_envoy_e2e.py`` and the cross-adapter table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HttpBody,
    HttpHeaders,
    ProcessingRequest,
    ProcessingResponse,
)

from veil.extproc.exchange import Exchange
from veil.extproc.messages import BUFFERED, NONE
from veil.http import Options
from veil.rules.plan import Plan


@dataclass
class Outcome:
    status: int
    body: bytes
    """The client's body: the upstream's after veil, or veil's error."""
    upstream_saw: bytes | None
    """The request body the upstream received; None: it was never called (veil refused)."""


def _message(direction: str, part: str, **fields: object) -> ProcessingRequest:
    return ProcessingRequest(**{f"{direction}_{part}": (HttpHeaders if part == "headers" else HttpBody)(**fields)})


def _headers(direction: str, pairs: list[tuple[str, str]]) -> ProcessingRequest:
    header_map = HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs])
    return _message(direction, "headers", headers=header_map)


def _body_mode(reply: ProcessingResponse, direction: str) -> int:
    if not reply.HasField("mode_override"):
        return BUFFERED  # the filter's static processing_mode (envoy_config.ext_proc_filter)
    mode = reply.mode_override
    return mode.request_body_mode if direction == "request" else mode.response_body_mode


def _body_after(reply: ProcessingResponse, direction: str, sent: bytes) -> bytes:
    common = getattr(reply, f"{direction}_body").response
    if common.HasField("body_mutation"):
        mutation = common.body_mutation
        return b"" if mutation.clear_body else mutation.body
    return sent


def exchange(
    plan: Plan, method: str, path: str, content_type: str, body: bytes,
    upstream: Callable[[bytes], tuple[bytes, str]], options: Options | None = None,
) -> Outcome:
    """``upstream(request body) -> (reply body, reply content type)``, answered with status 200."""
    ex = Exchange(plan, options or Options())
    request = [(":method", method), (":path", path), (":authority", "127.0.0.1"), (":scheme", "http"),
               ("content-type", content_type), ("content-length", str(len(body)))]
    reply = ex.handle(_headers("request", request))
    if reply.HasField("immediate_response"):
        return Outcome(reply.immediate_response.status.code, reply.immediate_response.body, None)
    sent = body
    if _body_mode(reply, "request") != NONE:
        reply = ex.handle(_message("request", "body", body=body, end_of_stream=True))
        if reply.HasField("immediate_response"):
            return Outcome(reply.immediate_response.status.code, reply.immediate_response.body, None)
        sent = _body_after(reply, "request", body)
    answer, answer_type = upstream(sent)
    reply = ex.handle(_headers("response", [(":status", "200"), ("content-type", answer_type),
                                            ("content-length", str(len(answer)))]))
    if reply.HasField("immediate_response"):
        return Outcome(reply.immediate_response.status.code, reply.immediate_response.body, sent)
    if _body_mode(reply, "response") != NONE:
        reply = ex.handle(_message("response", "body", body=answer, end_of_stream=True))
        if reply.HasField("immediate_response"):
            return Outcome(reply.immediate_response.status.code, reply.immediate_response.body, sent)
        answer = _body_after(reply, "response", answer)
    return Outcome(200, answer, sent)
