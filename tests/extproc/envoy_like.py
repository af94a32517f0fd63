"""One HTTP exchange driven through :class:`veil.extproc.exchange.Exchange` as Envoy's ext_proc filter
would drive it, in process: the request's headers, its body when the mode asks for it (the filter's
static mode, NONE, when a reply sets none), then the response's; an ImmediateResponse ends it.

``buffer_limit`` models Envoy's per-connection buffer: a BUFFERED body over it is Envoy's own 413
(500 for a response); a BUFFERED_PARTIAL one is sent cut once Envoy holds more than it (not the last
message) and the rest goes on without veil; STREAMED bodies arrive as one chunk. ``declares_buffer``:
the gateway declares it to veil (``veil-buffer-limit-bytes``, as the example does). The stream's first
message carries the filter's static body modes (``protocol_config``: NONE, as in the example).

``allow_mode_override=False`` models a gateway whose filter lacks ``allow_mode_override: true``:
every ``mode_override`` is ignored, so the static mode (NONE) applies and no body is ever sent.
``trailers=True`` ends the response with (empty) trailers, as an HTTP/2 or chunked upstream may: its
body message then comes without end_of_stream, as Envoy sends it; an ImmediateResponse at the
trailers is Envoy's reset of a stream whose head went out (status 0, RESET).
The gRPC stream's close is :meth:`Exchange.finish`, called at the end as the server does.

For tables that run every adapter on the same rows without starting Envoy (the real-Envoy tests
are ``test_envoy_e2e.py`` and the cross-adapter table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HttpBody,
    HttpHeaders,
    HttpTrailers,
    ProcessingRequest,
    ProcessingResponse,
    ProtocolConfiguration,
)

from veil.extproc.exchange import Exchange
from veil.extproc.messages import BUFFERED, BUFFERED_PARTIAL, NONE
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


def _headers(direction: str, pairs: list[tuple[str, str]], end: bool = False) -> ProcessingRequest:
    """``end``: no body follows (Envoy's codec says so for a Content-Length of 0)."""
    header_map = HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs])
    return _message(direction, "headers", headers=header_map, end_of_stream=end)


RESET = 0
"""The status of an exchange Envoy reset after the response's head went out."""


def _body_mode(reply: ProcessingResponse, direction: str, allow_mode_override: bool = True) -> int:
    if not allow_mode_override or not reply.HasField("mode_override"):
        return int(NONE)  # the filter's static processing_mode (envoy_config.ext_proc_filter)
    mode = reply.mode_override
    return int(mode.request_body_mode if direction == "request" else mode.response_body_mode)


ENVOY_TOO_LARGE = {"request": (413, b"Payload Too Large"), "response": (500, b"Internal Server Error")}


def _answered(reply: ProcessingResponse) -> tuple[int, bytes] | None:
    """(status, body) of an ImmediateResponse, which ends the exchange; None for any other reply."""
    if not reply.HasField("immediate_response"):
        return None
    return reply.immediate_response.status.code, reply.immediate_response.body


def _through(
    ex: Exchange, headers_reply: ProcessingResponse, direction: str, body: bytes, buffer_limit: int | None,
    allow_mode_override: bool = True, trailers: bool = False,
) -> bytes | tuple[int, bytes]:
    """The body as it goes on past Envoy in the mode veil asked for, or (status, body) of the answer that
    ended the exchange: veil's refusal, or Envoy's own error for a BUFFERED body over its buffer.
    ``trailers``: they follow, so no body message is the last."""
    mode = _body_mode(headers_reply, direction, allow_mode_override)
    cut = buffer_limit is not None and len(body) > buffer_limit and mode in (BUFFERED, BUFFERED_PARTIAL)
    if mode == NONE:
        return body
    if cut and mode == BUFFERED:
        return ENVOY_TOO_LARGE[direction]
    # BUFFERED_PARTIAL: what Envoy held once over its buffer, then the rest unread
    sent = body[:buffer_limit + 1] if buffer_limit is not None and cut else body
    reply = ex.handle(_message(direction, "body", body=sent, end_of_stream=not cut and not trailers))
    return _answered(reply) or _body_after(reply, direction, sent) + body[len(sent):]


def _body_after(reply: ProcessingResponse, direction: str, sent: bytes) -> bytes:
    common = getattr(reply, f"{direction}_body").response
    if common.HasField("body_mutation"):
        mutation = common.body_mutation
        return b"" if mutation.clear_body else mutation.body
    return sent


def exchange(
    plan: Plan, method: str, path: str, content_type: str, body: bytes,
    upstream: Callable[[bytes], tuple[bytes, str]], options: Options | None = None, buffer_limit: int | None = None,
    *, allow_mode_override: bool = True, trailers: bool = False, declares_buffer: bool = False,
    reply_length: bool = True,
) -> Outcome:
    """``upstream(request body) -> (reply body, reply content type)``, answered with status 200; the reply
    declares its Content-Length unless ``reply_length`` is false (chunked)."""
    ex = Exchange(plan, options or Options(), buffer_limit=(buffer_limit or 0) if declares_buffer else 0)
    request = [(":method", method), (":path", path), (":authority", "127.0.0.1"), (":scheme", "http"),
               ("content-type", content_type), ("content-length", str(len(body)))]
    first = _headers("request", request, end=not body)
    first.protocol_config.CopyFrom(ProtocolConfiguration(request_body_mode=NONE, response_body_mode=NONE))
    reply = ex.handle(first)
    if (answer := _answered(reply)) is not None:
        return Outcome(*answer, None)
    sent = _through(ex, reply, "request", body, buffer_limit, allow_mode_override)
    if isinstance(sent, tuple):
        return Outcome(*sent, None)
    reply_body, reply_type = upstream(sent)
    length = [("content-length", str(len(reply_body)))] if reply_length else []
    reply = ex.handle(_headers("response", [(":status", "200"), ("content-type", reply_type), *length],
                               end=not reply_body))
    if (answer := _answered(reply)) is not None:
        return Outcome(*answer, sent)
    got = _through(ex, reply, "response", reply_body, buffer_limit, allow_mode_override, trailers)
    if isinstance(got, tuple):
        return Outcome(*got, sent)
    if trailers and _answered(ex.handle(ProcessingRequest(response_trailers=HttpTrailers()))) is not None:
        return Outcome(RESET, b"", sent)
    ex.finish()  # Envoy closes the gRPC stream
    return Outcome(200, got, sent)
