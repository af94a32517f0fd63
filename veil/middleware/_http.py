"""What the ASGI and WSGI middleware share: pure decisions about one HTTP message.

Nothing here does I/O or knows a server interface; both middlewares convert
their messages to these plain values, call these helpers, and convert back.

Failure semantics (documented in README "Middleware"): when a body cannot be
processed (invalid JSON under a JSON type, over a limit, bad encoding, an
encoding veil cannot decode) and ``on_error`` is ``block`` (the default), a
request is refused and a response replaced, with a JSON error body::

    {"error": "veil_redaction_failed", "reason": "invalid_json", "direction": "request"}

Status: 413 for ``body_too_large`` and ``decompressed_too_large`` on a request, 400 for other request
failures, 502 for any response failure. With ``on_error: passthrough`` the
original message is delivered unchanged. The raw data never appears in logs.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from veil.errors import RedactionError
from veil.observe import NullObserver, Observer
from veil.rules.media import body_kind, body_kind_of, media_type
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Report, Route
from veil.rules.restore import Restorer

DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Options:
    """Per-middleware knobs. ``on_error`` None means the policy's ``on_error``."""

    on_error: str | None = None
    requests: bool = True
    responses: bool = True
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED
    observer: Observer = NullObserver()
    """Told about every body (e.g. ``veil.integrations.prometheus.Metrics``)."""

    def blocks(self, plan: Plan) -> bool:
        return (self.on_error or plan.on_error) != "passthrough"


def header_value(headers: list[tuple[str, str]], name: str) -> str:
    lname = name.lower()
    for key, value in headers:
        if key.lower() == lname:
            return value
    return ""


def stream_kind(content_type: str) -> str | None:
    """``ndjson`` or ``sse`` for bodies rewritten line by line as they stream; else None."""
    mtype = media_type(content_type)[0]
    if mtype == "text/event-stream":
        return "sse"
    if body_kind(mtype) == "ndjson":
        return "ndjson"
    return None


def body_mode(content_type: str, content_encoding: str, *, streams_encoded: bool = False) -> tuple[str, str | None]:
    """How an adapter handles a response body: ``("pass", None)`` for binary (never read),
    ``("stream", kind)`` for NDJSON/SSE rewritten line by line, else ``("buffer", None)``.

    An encoded stream is buffered unless the adapter decodes streams itself (``streams_encoded``).
    """
    if body_kind_of(content_type) == "binary":
        return "pass", None
    kind = stream_kind(content_type)
    encoding = content_encoding.strip().lower()
    if kind is not None and (encoding in ("", "identity") or streams_encoded):
        return "stream", kind
    return "buffer", None


def redact_head(
    plan: Plan, route: Route, headers: list[tuple[str, str]], query: str
) -> tuple[list[tuple[str, str]], str, Report]:
    """Headers (with cookies) and the raw query string, rewritten."""
    new_headers, report = plan.redact_headers(headers, route)
    if not query:
        return new_headers, query, report
    new_query, query_report = plan.redact_query(query, route)
    return new_headers, new_query, report.merge(query_report)


def redact_buffered(
    plan: Plan, route: Route, body: bytes, content_type: str, content_encoding: str, options: Options,
    adapter: str = "", restorer: Restorer | None = None,
) -> tuple[bytes, Report, str]:
    """(new body, report, outcome) for a complete body; outcome is rewritten/unchanged/skipped.

    gzip, deflate and (with the ``brotli`` package) br bodies are decoded (at most ``max_decompressed_bytes``),
    redacted and re-encoded. ``restorer`` (a reply to an exchange whose rules said
    ``restore: true``) then puts tokenized values back. Raises RedactionError.
    ``options.observer`` is told about every body, errors included, labelled with ``adapter``.
    An empty body (HEAD, 204, 304) is returned as it is, unobserved: its headers stay as they were.
    """
    if not body:
        return body, EMPTY_REPORT, "unchanged"
    started = time.perf_counter()
    try:
        result = _redact_buffered(plan, route, body, content_type, content_encoding, options, restorer)
    except RedactionError as exc:
        options.observer.observe(adapter=adapter, direction=route.direction, outcome="error", report=EMPTY_REPORT,
                                 seconds=time.perf_counter() - started, size=len(body), reason=exc.reason)
        raise
    options.observer.observe(adapter=adapter, direction=route.direction, outcome=result[2], report=result[1],
                             seconds=time.perf_counter() - started, size=len(body))
    return result


def _redact_buffered(
    plan: Plan, route: Route, body: bytes, content_type: str, content_encoding: str, options: Options,
    restorer: Restorer | None,
) -> tuple[bytes, Report, str]:
    encoding = content_encoding.strip().lower()
    if body_kind_of(content_type) == "binary":
        return body, EMPTY_REPORT, "skipped"  # never rewritten: no need to decode it
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate") and not (encoding == "br" and _brotli()):
        raise RedactionError("unsupported_encoding", f"cannot decode Content-Encoding {encoding!r}")
    plain = decode_body(body, encoding, options.max_decompressed_bytes) if encoding not in ("", "identity") else body
    result = plan.redact_body(plain, content_type, route)
    if result.kind == "binary":
        return body, result.report, "skipped"
    output, restored = result.output, 0
    if restorer is not None:
        output, restored = restorer.restore_body(output, content_type, kind=result.kind)
    if not (result.report.changed or restored):
        return body, result.report, "unchanged"
    out = encode_body(output, encoding) if encoding not in ("", "identity") else output
    return out, result.report, "rewritten"


def decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """gzip/deflate decoding with a hard output limit (a decompression bomb is an error).

    Every member of a multi-member gzip body is decoded (a second member must not
    slip through unread), and a truncated stream is an error, never a prefix.
    """
    if encoding == "br":
        return _decode_brotli(body, limit)
    gzip = encoding in ("gzip", "x-gzip")
    out = bytearray()
    data = body
    while True:
        decoder = _decoder(data, gzip)
        try:
            out += decoder.decompress(data, limit + 1 - len(out))
        except zlib.error:
            raise RedactionError("bad_encoding", f"body is not valid {encoding}") from None
        if len(out) > limit or decoder.unconsumed_tail:
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
        if not decoder.eof:
            raise RedactionError("bad_encoding", f"{encoding} body is truncated")
        data = decoder.unused_data
        if not data.strip(b"\0"):  # some servers pad with zeros after the last member
            return bytes(out)
        if not gzip:
            raise RedactionError("bad_encoding", "data after the end of the deflate stream")


def _decoder(data: bytes, gzip: bool) -> Any:
    if gzip:
        return zlib.decompressobj(31)
    # "deflate" should be zlib-wrapped, but some servers send raw deflate.
    wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
    return zlib.decompressobj(15 if wrapped else -15)


def _brotli() -> Any:
    """The ``brotli`` module when installed (``veil[brotli]``), else None: br bodies then fail closed."""
    try:
        import brotli
    except ImportError:
        return None
    return brotli


def _decode_brotli(body: bytes, limit: int) -> bytes:
    brotli = _brotli()
    decoder = brotli.Decompressor()
    out = bytearray()
    try:
        try:
            out += decoder.process(body, output_buffer_limit=limit + 1)
            bounded = True
        except TypeError:
            # Brotli < 1.2 (mitmproxy 11 pins 1.1) has no output limit: feed small slices so
            # one call can expand at most one meta-block (16 MiB) past the limit.
            bounded = False
            for start in range(0, len(body), 64):
                out += decoder.process(body[start : start + 64])
                if len(out) > limit:
                    break
        if len(out) > limit or (bounded and not decoder.can_accept_more_data()):
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
        if not decoder.is_finished():
            raise RedactionError("bad_encoding", "br body is truncated")
    except brotli.error:
        raise RedactionError("bad_encoding", "body is not valid br") from None
    return bytes(out)


def encode_body(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(_brotli().compress(body))
    if encoding in ("gzip", "x-gzip"):
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        return compressor.compress(body) + compressor.flush()
    return zlib.compress(body, 6)


def error_response(reason: str, direction: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The documented fail-closed answer: (status, headers, JSON body)."""
    if direction == "request":
        status = 413 if reason in ("body_too_large", "decompressed_too_large") else 400
    else:
        status = 502
    body = json.dumps(
        {"error": "veil_redaction_failed", "reason": reason, "direction": direction}, separators=(",", ":")
    ).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return status, headers, body


VALIDATORS_OF_BYTES = frozenset({"content-length", "etag", "content-md5", "digest", "content-digest", "repr-digest"})
"""Headers computed from the original bytes. After a rewrite they would be wrong, and an
ETag or digest of the unredacted body is a plain hash of its personal data."""


def replace_length(headers: list[tuple[str, str]], length: int | None) -> list[tuple[str, str]]:
    """Headers for a rewritten (or streamed) body: Content-Length set to ``length`` (dropped
    when None), and the validators of the original bytes (ETag, digests) dropped."""
    out = [(k, v) for k, v in headers if k.lower() not in VALIDATORS_OF_BYTES]
    if length is not None:
        out.append(("content-length", str(length)))
    return out


def header_bytes(value: str) -> bytes:
    """A header value for the wire: latin-1, or UTF-8 for a replacement (a mask character) outside it."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def str_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Raw (bytes) header pairs as the str pairs the plan takes; latin-1 keeps every byte."""
    return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw]


def cgi_host(environ: Mapping[str, Any]) -> str:
    """The host a WSGI environ (or Django's META) was addressed to."""
    return str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))


def redact_cgi_head(plan: Plan, route: Route, environ: MutableMapping[str, Any]) -> bool:
    """Rewrite the ``HTTP_*`` headers and ``QUERY_STRING`` of a WSGI environ (or Django's
    META) in place; True when something changed. Raises RedactionError."""
    keys = [k for k in environ if k.startswith("HTTP_")]
    query = environ.get("QUERY_STRING", "")
    names = [(k[5:].replace("_", "-").lower(), environ[k]) for k in keys]  # HTTP_X_REQUEST_ID -> x-request-id
    headers, new_query, report = redact_head(plan, route, names, query)
    if not report.changed:
        return False
    for key in keys:
        del environ[key]
    for name, value in headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        sep = "; " if name == "cookie" else ", "  # PEP 3333 servers join repeated headers the same way
        environ[key] = environ[key] + sep + value if key in environ else value
    environ["QUERY_STRING"] = new_query
    for raw in ("RAW_URI", "REQUEST_URI"):  # gunicorn / uWSGI keep the original target, query included
        if raw in environ and new_query != query:
            environ[raw] = environ[raw].partition("?")[0] + (f"?{new_query}" if new_query else "")
    return True
