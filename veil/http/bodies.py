"""Whole-body decisions: how a body is handled, and the redaction of a complete one.

``body_mode`` says whether a body passes unread (binary), is rewritten line by line as
it streams (NDJSON, SSE: see :mod:`veil.http.lines`) or is buffered and rewritten whole
by ``redact_buffered``. Failures raise ``RedactionError``; what the adapter then answers
is :mod:`veil.http.failures`.
"""

from __future__ import annotations

import time

from veil.errors import RedactionError
from veil.http.codings import can_decode, decode_body, encode_body, is_plain, unsupported
from veil.http.failures import engine_errors
from veil.http.options import Options
from veil.http.sniff import SNIFF_HEAD_BYTES, head_decides, may_be_text, redact_sniffed
from veil.rules.media import body_kind, body_kind_of, is_json_seq, media_type
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Report, Route
from veil.rules.restore import Restorer, TokenLedger


def stream_kind(content_type: str) -> str | None:
    """``ndjson`` or ``sse`` for bodies rewritten line by line as they stream; else None."""
    mtype = media_type(content_type)[0]
    if mtype == "text/event-stream":
        return "sse"
    if body_kind(mtype) == "ndjson" and not is_json_seq(mtype):  # RS-led records: buffered, redacted whole
        return "ndjson"
    return None


def body_mode(
    content_type: str, content_encoding: str, *, streams_encoded: bool = False, sniffs: bool = False,
) -> tuple[str, str | None]:
    """How an adapter handles a body: ``("pass", None)`` for binary (never read),
    ``("stream", kind)`` for NDJSON/SSE rewritten line by line, else ``("buffer", None)``.

    An encoded stream is buffered unless the adapter decodes streams itself (``streams_encoded``).
    With ``sniffs``, a type that says nothing (:func:`veil.http.sniff.is_vague`) or one veil knows
    to be binary (``image/png``: a label is only the sender's claim) is ``("sniff", None)``
    (:func:`veil.http.sniff.head_decides`): the adapter reads the head and asks
    :func:`veil.http.sniff.may_be_text` whether to pass it unread or buffer it; without, such a
    type is buffered (no type) or passes (``application/octet-stream``) as its label says.
    """
    if sniffs and head_decides(content_type):
        return "sniff", None
    if body_kind_of(content_type) == "binary":
        return "pass", None
    kind = stream_kind(content_type)
    if kind is not None and (is_plain(content_encoding) or streams_encoded):
        return "stream", kind
    return "buffer", None


def redact_buffered(
    plan: Plan, route: Route, body: bytes, content_type: str, content_encoding: str, options: Options,
    adapter: str = "", restorer: Restorer | None = None, ledger: TokenLedger | None = None,
) -> tuple[bytes, Report, str]:
    """(new body, report, outcome) for a complete body; outcome is rewritten/unchanged/skipped.

    gzip, deflate, br (``brotli``) and zstd (``zstandard``) bodies, and lists of them, are decoded
    (at most ``max_decompressed_bytes``), redacted and re-encoded. ``restorer`` (a reply to an
    exchange whose rules said ``restore: true``) then puts tokenized values back; ``ledger`` (a request whose reply
    may restore) records the tokens the redaction made. Raises RedactionError.
    ``options.observer`` is told about every body, errors included, labelled with ``adapter``.
    An empty body (HEAD, 204, 304) is returned as it is, unobserved: its headers stay as they were.
    """
    if not body:
        return body, EMPTY_REPORT, "unchanged"
    started = time.perf_counter()
    try:
        with engine_errors(f"{route.direction} body"):
            result = _redact_buffered(plan, route, body, content_type, content_encoding, options, restorer, ledger)
    except RedactionError as exc:
        options.observer.observe(adapter=adapter, direction=route.direction, outcome="error", report=EMPTY_REPORT,
                                 seconds=time.perf_counter() - started, size=len(body), reason=exc.reason)
        raise
    options.observer.observe(adapter=adapter, direction=route.direction, outcome=result[2], report=result[1],
                             seconds=time.perf_counter() - started, size=len(body))
    return result


def _redact_buffered(
    plan: Plan, route: Route, body: bytes, content_type: str, content_encoding: str, options: Options,
    restorer: Restorer | None, ledger: TokenLedger | None = None,
) -> tuple[bytes, Report, str]:
    encoding = content_encoding.strip().lower()
    sniffed = head_decides(content_type)  # vague, or labelled binary
    if sniffed and not may_be_text(body[:SNIFF_HEAD_BYTES], encoding, content_type):
        return body, EMPTY_REPORT, "skipped"  # binary by its head, whatever its size: never rewritten
    if not can_decode(encoding):
        raise unsupported(encoding)  # names the package that would decode it, if one would
    plain = body if is_plain(encoding) else decode_body(body, encoding, options.max_decompressed_bytes)
    if sniffed:  # its head looked like text: vague, never passed as binary after all; labelled, read for a document
        result = redact_sniffed(plan, plain, content_type, route)
    else:
        result = plan.redact_body(plain, content_type, route)
    if result.kind == "binary":
        return body, result.report, "skipped"
    output, restored = result.output, 0
    if ledger is not None and result.report.changed:
        ledger.record(plain, output)
    if restorer is not None:
        output, restored = restorer.restore_body(output, content_type, kind=result.kind)
    if not (result.report.changed or restored):
        return body, result.report, "unchanged"
    out = output if is_plain(encoding) else encode_body(output, encoding)
    return out, result.report, "rewritten"
