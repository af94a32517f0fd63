"""Transport-neutral HTTP: what every adapter shares, with no server interface in it.

Each adapter (ASGI and WSGI middleware, Django, the httpx transport, the mitmproxy
addons) converts its server's messages to plain values (header pairs, bytes, a
:class:`veil.rules.plan_types.Route`), calls this layer, and converts back.

- :mod:`veil.http.options`: the knobs every adapter takes (:class:`Options`).
- :mod:`veil.http.bodies`: how a body is handled (pass, stream, buffer) and the
  redaction of a whole one.
- :mod:`veil.http.codings`, :mod:`veil.http.stream_codings`: Content-Encoding, whole and
  incremental, bounded.
- :mod:`veil.http.headers`, :mod:`veil.http.cgi`: header lists and CGI environs.
- :mod:`veil.http.sniff`: bodies whose type says nothing: read the head, then pass or buffer.
- :mod:`veil.http.lines`: the one line-stream driver (SSE, NDJSON) with the failure loop.
- :mod:`veil.http.websocket`: WebSocket messages, each whole one redacted or refused (the proxy
  and the ASGI middleware).
- :mod:`veil.http.failures`, :mod:`veil.http.aborts`: error responses, log lines without
  payload, and ending a stream whose headers are out.
- :mod:`veil.http.exchange`: the per-exchange decisions every adapter shares (coverage,
  request body mode, a response pushed chunk by chunk, what a failure does), answered as
  plain "send this" values the adapter converts to its server's messages.

Imports only the core (:mod:`veil.rules`) and :mod:`veil.observe`; nothing here imports a
server or framework.
"""

from __future__ import annotations

from veil.http.aborts import StreamAborted, quiet_server_tracebacks
from veil.http.bodies import body_mode, redact_buffered, stream_kind
from veil.http.cgi import cgi_host, raw_path_of, redact_cgi_head, redact_cgi_path
from veil.http.codings import decode_body, encode_body
from veil.http.failures import (
    describe,
    engine_errors,
    error_response,
    frames_of,
    log_failure,
    rule_ids,
)
from veil.http.headers import (
    VALIDATORS_OF_BYTES,
    Headers,
    header_bytes,
    header_value,
    raw_headers,
    redact_head,
    redact_request_path,
    replace_length,
    str_headers,
    with_policy_header,
)
from veil.http.lines import LineStream, adrive, drive
from veil.http.options import DEFAULT_MAX_DECOMPRESSED, Options, parse_options
from veil.http.sniff import (
    SNIFF_HEAD_BYTES,
    Replay,
    is_vague,
    may_be_text,
    read_head,
)
from veil.http.sniffed_stream import SniffedStream
from veil.http.stream_codings import StreamDecoder, StreamEncoder, can_stream

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "SNIFF_HEAD_BYTES",
    "VALIDATORS_OF_BYTES",
    "Headers",
    "LineStream",
    "Options",
    "Replay",
    "SniffedStream",
    "StreamAborted",
    "StreamDecoder",
    "StreamEncoder",
    "adrive",
    "body_mode",
    "can_stream",
    "cgi_host",
    "decode_body",
    "describe",
    "drive",
    "encode_body",
    "engine_errors",
    "error_response",
    "frames_of",
    "header_bytes",
    "header_value",
    "is_vague",
    "log_failure",
    "may_be_text",
    "parse_options",
    "quiet_server_tracebacks",
    "raw_headers",
    "raw_path_of",
    "read_head",
    "redact_buffered",
    "redact_cgi_head",
    "redact_cgi_path",
    "redact_head",
    "redact_request_path",
    "replace_length",
    "rule_ids",
    "str_headers",
    "stream_kind",
    "with_policy_header",
]
