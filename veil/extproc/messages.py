"""Envoy's ext_proc messages to and from the plain values veil's HTTP layer takes.

Header values arrive as bytes in ``raw_value`` (``value`` is empty since Envoy 1.27); they are
read as latin-1, like every other adapter's raw headers, and written back as bytes
(:func:`veil.http.header_bytes`). Names arrive lower-cased; the pseudo-headers (``:path``,
``:method``, ``:authority``, ``:status``...) are split off: the plan sees only real headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue, HeaderValueOption
from envoy.extensions.filters.http.ext_proc.v3.processing_mode_pb2 import ProcessingMode
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HeaderMutation,
    ImmediateResponse,
    ProcessingResponse,
)
from envoy.type.v3.http_status_pb2 import HttpStatus
from google.protobuf.wrappers_pb2 import BoolValue

from veil.http import VALIDATORS_OF_BYTES, Headers, error_response, header_bytes, header_value

SEND = ProcessingMode.SEND
NONE = ProcessingMode.NONE
STREAMED = ProcessingMode.STREAMED
BUFFERED = ProcessingMode.BUFFERED
BUFFERED_PARTIAL = ProcessingMode.BUFFERED_PARTIAL


@dataclass(frozen=True, slots=True)
class Head:
    """One header block as veil reads it: the pseudo-headers apart, the rest as the plan takes them."""

    pseudo: dict[str, str]
    headers: Headers

    @property
    def content_type(self) -> str:
        """The type veil acts on; "" when the client sent two that disagree (then the body is sniffed).

        Envoy's HTTP/1 codec joins repeated lines of a header into one value with commas, so two
        Content-Type lines arrive as ``image/png,application/json``: split back into the lines the
        client sent, they are judged as every other adapter judges them (:func:`veil.http.header_value`).
        """
        lines = [("content-type", part) for name, value in self.headers if name == "content-type"
                 for part in split_joined(value)]
        return header_value(lines, "content-type")

    @property
    def content_encoding(self) -> str:
        return header_value(self.headers, "content-encoding")

    @property
    def content_length(self) -> int | None:
        """As declared; None when absent or not a number (a chunked body)."""
        text = header_value(self.headers, "content-length")
        return int(text) if text.isdigit() else None


def split_joined(value: str) -> list[str]:
    """A header value Envoy joined from repeated lines, split at the commas outside quoted strings
    (a ``boundary="a,b"`` parameter keeps its comma)."""
    if "," not in value:  # one line: every header message asks, and almost every value is one line
        return [value.strip() or value]
    parts, start, quoted, escaped = [], 0, False, False
    for i, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part] or [value]


def head_of(header_map: HeaderMap) -> Head:
    """A ``HeaderMap`` read once: values from ``raw_value`` (else ``value``), pseudo-headers apart."""
    pseudo: dict[str, str] = {}
    headers: Headers = []
    for header in header_map.headers:  # each field read once: every read of a protobuf field makes a new object
        key, raw = header.key, header.raw_value
        value = raw.decode("latin-1") if raw else header.value
        if key[:1] == ":":
            pseudo[key] = value
        else:
            headers.append((key, value))
    return Head(pseudo, headers)


def header_mutation(old: Headers, new: Headers) -> HeaderMutation | None:
    """The mutation that turns ``old`` into ``new``, per name (values in order, repeats kept); None if equal.

    A name whose values changed is overwritten by its first value and appended the rest; a name
    that is gone is removed. Names compare case-insensitively (Envoy's are lower case).
    """
    if old == new:  # the common case: nothing changed, in the same order
        return None
    before, after = _by_name(old), _by_name(new)
    if before == after:
        return None
    mutation = HeaderMutation()
    for name in before.keys() - after.keys():
        mutation.remove_headers.append(name)
    for name, values in after.items():
        if before.get(name) == values:
            continue
        for n, value in enumerate(values):
            # ext_proc reads the deprecated ``append`` flag, not ``append_action`` (which it ignored:
            # a second Set-Cookie replaced the first).
            mutation.set_headers.append(HeaderValueOption(
                header=HeaderValue(key=name, raw_value=header_bytes(value)), append=BoolValue(value=n > 0),
            ))
    return mutation


def set_header(mutation: HeaderMutation | None, name: str, value: str) -> HeaderMutation:
    """``mutation`` (or a new one) also setting ``name`` to ``value``, replacing earlier sets of it."""
    mutation = mutation or HeaderMutation()
    kept = [option for option in mutation.set_headers if option.header.key != name]
    del mutation.set_headers[:]
    mutation.set_headers.extend(kept)
    mutation.set_headers.append(HeaderValueOption(header=HeaderValue(key=name, raw_value=header_bytes(value)),
                                                  append=BoolValue(value=False)))
    return mutation


def _by_name(headers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name.lower(), []).append(value)
    return out


def headers_reply(
    direction: str, mutation: HeaderMutation | None = None, mode: ProcessingMode | None = None,
) -> ProcessingResponse:
    """The answer to a request_headers or response_headers message."""
    out = ProcessingResponse()
    common = (out.request_headers if direction == "request" else out.response_headers).response
    common.SetInParent()
    if mutation is not None:
        common.header_mutation.CopyFrom(mutation)
    if mode is not None:
        out.mode_override.CopyFrom(mode)
    return out


def body_reply(direction: str, body: bytes | None = None, mutation: HeaderMutation | None = None) -> ProcessingResponse:
    """The answer to a body message: ``body`` replaces the chunk (or the whole buffered body); None keeps it.

    The replies are built in place: a message handed to a constructor is copied, a body with it."""
    out = ProcessingResponse()
    common = (out.request_body if direction == "request" else out.response_body).response
    common.SetInParent()
    if body is not None:
        if body:
            common.body_mutation.body = body
        else:
            common.body_mutation.clear_body = True
    if mutation is not None:
        common.header_mutation.CopyFrom(mutation)
    return out


def rewritten_body_reply(direction: str, body: bytes, sent: Headers, length: int | None) -> ProcessingResponse:
    """``body_reply(direction, body, header_mutation(sent, replace_length(sent, length)))``
    (:func:`veil.http.replace_length`), built as one message without either header list: the body,
    Content-Length set to ``length`` (removed when None) and the other validators of the original
    bytes (ETag, digests) removed, in a ``header_mutation`` there only when something changes."""
    out = body_reply(direction, body)
    had: list[str] = []
    gone: list[str] = []
    for name, value in sent:
        lname = name.lower()
        if lname == "content-length":
            had.append(value)
        elif lname in VALIDATORS_OF_BYTES and lname not in gone:
            gone.append(lname)
    wanted = [] if length is None else [str(length)]
    if had == wanted and not gone:
        return out
    mutation = (out.request_body if direction == "request" else out.response_body).response.header_mutation
    mutation.remove_headers.extend(gone)
    if length is None:
        if had:
            mutation.remove_headers.append("content-length")
    elif had != wanted:
        option = mutation.set_headers.add()
        option.header.key, option.header.raw_value = "content-length", wanted[0].encode()
        option.append.value = False  # present and false, as header_mutation writes it
    return out


def trailers_reply(direction: str, mutation: HeaderMutation | None = None) -> ProcessingResponse:
    out = ProcessingResponse()
    reply = out.request_trailers if direction == "request" else out.response_trailers
    reply.SetInParent()
    if mutation is not None:
        reply.header_mutation.CopyFrom(mutation)
    return out


def reply_to_headers(
    direction: str, mutation: HeaderMutation | None, request_body: int, response_body: int,
) -> ProcessingResponse:
    """``headers_reply(direction, mutation, mode(request_body, response_body))``. Without a mutation
    (most heads) the reply is made once per combination and shared: do not modify it."""
    if mutation is None:
        return _unchanged_headers(direction, request_body, response_body)
    return headers_reply(direction, mutation, mode(request_body, response_body))


@lru_cache(maxsize=64)  # 2 directions x the few body modes
def _unchanged_headers(direction: str, request_body: int, response_body: int) -> ProcessingResponse:
    return headers_reply(direction, None, mode(request_body, response_body))


@lru_cache(maxsize=2)
def unchanged_body(direction: str) -> ProcessingResponse:
    """``body_reply(direction)``, made once: shared, do not modify it."""
    return body_reply(direction)


@lru_cache(maxsize=2)
def unchanged_trailers(direction: str) -> ProcessingResponse:
    """``trailers_reply(direction)``, made once: shared, do not modify it."""
    return trailers_reply(direction)


def refusal(reason: str, direction: str) -> ProcessingResponse:
    """veil's documented error (:func:`veil.http.error_response`) as an ImmediateResponse.

    Sent after a response's head went out, Envoy resets the stream instead: the client sees
    a cut connection, never a body that looks complete.
    """
    status, headers, body = error_response(reason, direction)
    mutation = HeaderMutation(set_headers=[
        HeaderValueOption(header=HeaderValue(key=name, raw_value=value.encode("latin-1")), append=BoolValue(value=False))
        for name, value in headers if name != "content-length"  # Envoy frames a local reply itself
    ])
    return ProcessingResponse(immediate_response=ImmediateResponse(
        status=HttpStatus(code=status), headers=mutation, body=body, details=f"veil_{reason}",
    ))


@lru_cache(maxsize=32)  # a handful of combinations; a reply only copies it (CopyFrom), never changes it
def mode(request_body: int = NONE, response_body: int = NONE) -> ProcessingMode:
    """A ``mode_override``: Envoy replaces the whole processing mode with it, so every field is given.

    Trailers are asked for: a body that ends in trailers (no end_of_stream on its last chunk) ends there.
    Shared between calls: do not modify the message it returns.
    """
    return ProcessingMode(
        request_header_mode=SEND, response_header_mode=SEND,
        request_body_mode=request_body, response_body_mode=response_body,
        request_trailer_mode=SEND, response_trailer_mode=SEND,
    )
