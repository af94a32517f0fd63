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

``Content-Type`` is read by its parts (:func:`redact_content_type`), by the one parameter parser
(:mod:`veil.rules.header_params`) as receivers read it: the media type, every parameter's name
(Django's ``request.content_params`` hands names to the app: ``jane@example.com=1`` crossed) and
every value, RFC 2231 continuations joined (``name*0=jane; name*1="@example.com"``) and RFC 8187
values decoded. A name holding a finding drops its parameter; a value holding one is rewritten in
place, as one parameter in the form it came in (a token, a quoted string, or
``name*=UTF-8''%5BREDACTED%3AEMAIL%5D``). The media type, ``charset`` and ``boundary`` tell the
receiver how to read the body and stay byte for byte. A finding in one of those fails closed
(``unredactable_header``) rather than crossing: rewriting the header alone would leave the body
unreadable by its own label, and a ``boundary`` holding an address repeats it on every delimiter
line of the body. So does a ``charset`` given twice, differently, and a parameter that cannot be
read (a broken RFC 2231 / 8187 value).
"""

from __future__ import annotations

from veil.errors import RedactionError
from veil.rules import header_params
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


def well_known(value: str) -> bool:
    """Whether the value of a token-list header (:data:`TOKEN_LISTS`) holds only well-known tokens
    (``gzip``, ``chunked``, ``keep-alive``...), in which no detector finds anything: it needs no scan,
    not even a digest to look up (these headers come with most messages)."""
    lowered = value.lower()
    return lowered in _WELL_KNOWN or all(item.strip() in _WELL_KNOWN for item in lowered.split(","))


def redact_content_type(view: View, name: str, value: str, findings: list[Finding]) -> str:
    """``value`` (a ``Content-Type``, or a ``Content-Disposition``: a reply's file name) with findings
    in its parameters redacted in place.

    Read by :mod:`veil.rules.header_params`, as receivers read it: the media type, each
    parameter's name and each value (RFC 2231 pieces joined, RFC 8187 values decoded) are
    scanned. A parameter whose name holds a finding is dropped; a value holding one is rewritten
    as one parameter in the form it came in (:func:`veil.rules.header_params.written`). Raises
    ``unredactable_header`` when the media type, ``charset`` or ``boundary`` holds an enforced
    finding, when ``charset`` is given twice, differently (receivers read different ones), or when
    a parameter cannot be read (a broken RFC 2231 / 8187 value). A value found clean is
    remembered (keyed by digest) and not scanned again.
    """
    key = digest(f"{len(name)}:{name}{value}".encode("utf-8", "surrogatepass"))
    if key in view.clean_headers:
        return value
    parsed = header_params.parse(value)
    _refuse_unreadable(name, parsed)
    if not view.everywhere:
        store(view.clean_headers, key, True)
        return value
    texts, fields, where = [parsed.main], [""], [(-1, "type")]
    for number, param in enumerate(parsed.params):
        texts.append(param.name)
        fields.append("<parameter>")
        where.append((number, "name"))
        if param.value is not None:
            texts.append(param.value)
            fields.append(param.name)
            where.append((number, "value"))
    found: list[Finding] = []
    found_in: set[int] = set()
    scanned = scan_strings(view, texts, fields, "header", [name] * len(texts), found, found_in)
    if not found_in:
        store(view.clean_headers, key, True)
        return value
    changes: dict[int, str | None] = {}
    for index in sorted(found_in):
        new, (number, part) = scanned[index], where[index]
        if new == texts[index]:
            continue
        param_name = parsed.params[number].name if number >= 0 else ""
        if number < 0 or (part == "value" and param_name in BODY_PARAMETERS):
            what = f"its {param_name}" if number >= 0 else "its media type"
            raise RedactionError("unredactable_header", f"{name} holds a finding in {what}, which says how to "
                                                        "read the body: it cannot be rewritten")
        if part == "name" or new is None:
            changes[number] = None  # a name holding a finding: the parameter goes
        elif changes.get(number, "") is not None:
            changes[number] = new
    findings.extend(found)
    try:
        return header_params.rewritten(parsed, changes)
    except (UnicodeEncodeError, LookupError):
        raise RedactionError("unredactable_header", f"{name}: a redacted parameter has no form in its "
                                                    "charset") from None


def _refuse_unreadable(name: str, parsed: header_params.Parsed) -> None:
    """Raise ``unredactable_header`` for a value receivers may read differently than veil does."""
    if any(param.broken for param in parsed.params):
        raise RedactionError("unredactable_header", f"{name} holds a parameter that cannot be read "
                                                    "(a broken RFC 2231 or RFC 8187 value)")
    charsets = {(p.value or "").strip(" \t").lower() for p in parsed.params if p.name == "charset"} - {""}
    if len(charsets) > 1:
        raise RedactionError("unredactable_header", f"{name} gives its charset twice, differently: "
                                                    "receivers read different ones")
