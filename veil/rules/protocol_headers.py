"""Protocol headers that carry values a sender chooses, read without breaking the protocol.

Routing and framing headers (``Host``, ``:authority``, ``:method``, ``:path``, ``:scheme``,
``:status``, ``Content-Length``: :data:`UNSCANNED`) are never scanned: redacting an address in
``Host`` breaks routing, and ``:path`` is redacted as the URL it is (:mod:`veil.rules.urls`).
Every other header is scanned (review of issue #15: ``Content-Type: text/plain;
name=jane@example.com`` crossed unread, as did anything in ``Content-Encoding``,
``Transfer-Encoding``, ``TE``, ``Trailer``, ``Upgrade``, ``Connection`` and ``Keep-Alive``).

Token-list headers (``Content-Encoding``, ``Connection``...: :data:`TOKEN_LISTS`) are scanned
like any header value unless every item is a well-known token (:func:`well_known`): a value
holding a finding is no valid list of codings or tokens, and once redacted the adapter
fails on the unknown coding, closed.

``Content-Type`` is read by its parts (:func:`redact_content_type`): the parameter values other
than ``charset`` and ``boundary`` are redacted in place, quoted when the replacement is no longer a
token; the media type, ``charset`` and ``boundary`` tell the receiver how to read the body and stay
byte for byte. A finding in one of those fails closed (``unredactable_header``) rather than
crossing: rewriting the header alone would leave the body unreadable by its own label, and a
``boundary`` holding an address repeats it on every delimiter line of the body.
"""

from __future__ import annotations

import re

from veil.errors import RedactionError
from veil.rules.detectors.verdicts import digest, store
from veil.rules.plan_types import Finding
from veil.rules.text_ops import scan_strings
from veil.rules.view import View

UNSCANNED = frozenset({"host", ":authority", ":method", ":path", ":scheme", ":status", "content-length"})
"""Headers detectors never rewrite (a named header target still can): routing and framing."""
TOKEN_LISTS = frozenset({"content-encoding", "transfer-encoding", "te", "trailer", "upgrade", "connection",
                         "keep-alive"})
"""Headers whose value is a list of protocol tokens; scanned as any value unless every item is a
well-known token (:func:`well_known`)."""
_WELL_KNOWN = frozenset({
    "gzip", "x-gzip", "deflate", "br", "zstd", "compress", "identity", "chunked", "trailers", "keep-alive",
    "close", "upgrade", "te", "http2-settings", "websocket", "h2c",
})
BODY_PARAMETERS = frozenset({"charset", "boundary"})
"""``Content-Type`` parameters that say how to read the body: never rewritten."""

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An RFC 9110 token: a parameter value that needs no quotes."""


def well_known(value: str) -> bool:
    """Whether the value of a token-list header (:data:`TOKEN_LISTS`) holds only well-known tokens
    (``gzip``, ``chunked``, ``keep-alive``...), in which no detector finds anything: it needs no scan,
    not even a digest to look up (these headers come with most messages)."""
    lowered = value.lower()
    return lowered in _WELL_KNOWN or all(item.strip() in _WELL_KNOWN for item in lowered.split(","))


def redact_content_type(view: View, name: str, value: str, findings: list[Finding]) -> str:
    """``value`` (a ``Content-Type``) with findings in its parameters redacted in place.

    Raises ``unredactable_header`` when the media type, ``charset`` or ``boundary`` holds an
    enforced finding. A value found clean is remembered (keyed by digest) and not scanned again.
    """
    key = digest(f"{len(name)}:{name}{value}".encode("utf-8", "surrogatepass"))
    if not view.everywhere or key in view.clean_headers:
        return value
    parts = _parts(value)
    texts = [text for _, _, text, _ in parts]
    found: list[Finding] = []
    found_in: set[int] = set()
    scanned = scan_strings(view, texts, [field for _, _, _, field in parts], "header", [name] * len(parts),
                           found, found_in)
    if not found_in:
        store(view.clean_headers, key, True)
        return value
    out, cursor = [], 0
    for (start, end, text, field), new in zip(parts, scanned):
        if new == text:
            continue
        if field in BODY_PARAMETERS or field == "":
            what = f"its {field}" if field else "its media type"
            raise RedactionError("unredactable_header", f"{name} holds a finding in {what}, which says how to "
                                                        "read the body: it cannot be rewritten")
        out.append(value[cursor:start])
        out.append(_quoted(new or ""))
        cursor = end
    findings.extend(found)
    return "".join(out) + value[cursor:]


def _parts(value: str) -> list[tuple[int, int, str, str]]:
    """(start, end, text, field) of the media type (field ``""``) and of each parameter's value,
    unquoted (field: the parameter's lowercased name); a part without ``=`` is scanned whole."""
    parts: list[tuple[int, int, str, str]] = []
    for index, (start, end) in enumerate(_segments(value)):
        start, end = _stripped(value, start, end)
        segment = value[start:end]
        pname, eq, _ = segment.partition("=")
        if index == 0 or not eq:
            parts.append((start, end, segment, "" if index == 0 else "<parameter>"))
            continue
        start, end = _stripped(value, start + len(pname) + 1, end)
        parts.append((start, end, _unquoted(value[start:end]), pname.strip().lower()))
    return parts


def _segments(value: str) -> list[tuple[int, int]]:
    """Spans of the ``;``-separated parts of ``value``; a ``;`` inside a quoted string separates nothing."""
    spans, start, quoted, escaped = [], 0, False, False
    for at, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            spans.append((start, at))
            start = at + 1
    spans.append((start, len(value)))
    return spans


def _stripped(value: str, start: int, end: int) -> tuple[int, int]:
    while start < end and value[start] in " \t":
        start += 1
    while end > start and value[end - 1] in " \t":
        end -= 1
    return start, end


def _unquoted(raw: str) -> str:
    """A parameter value as the receiver reads it: a quoted string without its quotes and escapes."""
    if not raw.startswith('"'):
        return raw
    inner = raw[1:-1] if len(raw) > 1 and raw.endswith('"') else raw[1:]
    return re.sub(r"\\(.)", r"\1", inner)


def _quoted(new: str) -> str:
    """A redacted parameter value as the header must carry it: a token as it is, else quoted."""
    if _TOKEN.fullmatch(new):
        return new
    return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
