"""Header lists as the plan takes them: ``list[tuple[str, str]]``, case and duplicates kept."""

from __future__ import annotations

from collections.abc import Iterable

from veil.http.failures import engine_errors
from veil.http.options import Options
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route

Headers = list[tuple[str, str]]

VALIDATORS_OF_BYTES = frozenset({"content-length", "etag", "content-md5", "digest", "content-digest", "repr-digest"})
"""Headers computed from the original bytes. After a rewrite they would be wrong, and an
ETag or digest of the unredacted body is a plain hash of its personal data."""


LIST_FIELDS = frozenset({"content-encoding", "transfer-encoding", "te", "connection", "trailer", "vary"})
"""Fields whose repeated lines are one list (RFC 9110 5.3): ``Content-Encoding: gzip`` then
``Content-Encoding: br`` is ``gzip, br``, two codings applied in that order."""
SINGLETON_FIELDS = frozenset({"content-type", "content-length"})
"""Fields that hold one value. Lines that disagree leave no value veil may trust: two Content-Types
are read as none (the body is sniffed or read whole, never passed unread on one of the labels,
since the app or client may act on the other); two lengths are an unknown length."""


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of ``name`` (any case), in order."""
    lname = name.lower()
    return [value for key, value in headers if key.lower() == lname]


def header_value(headers: Headers, name: str) -> str:
    """The value of ``name`` (any case) that veil acts on, or ``""`` when absent.

    A list field (:data:`LIST_FIELDS`) gives all its lines joined with ``", "``; a singleton field
    (:data:`SINGLETON_FIELDS`) gives its value when every line agrees and ``""`` when they
    conflict; any other field its first value (``Host``: the one rules and servers route on)."""
    values = header_values(headers, name)
    if len(values) < 2:
        return values[0] if values else ""
    lname = name.lower()
    if lname in LIST_FIELDS:
        return ", ".join(value.strip() for value in values if value.strip())
    if lname in SINGLETON_FIELDS and len({value.strip().lower() for value in values}) > 1:
        return ""
    return values[0]


POLICY_HEADER = "veil-policy"
"""The response header naming the policy that processed the exchange (``Options.policy_header``)."""


def with_policy_header(plan: Plan, options: Options, headers: Headers) -> Headers:
    """``headers`` of a response plus ``veil-policy: sha256:<16 hex>`` (the plan's digest) when
    ``options.policy_header`` is on; any ``veil-policy`` line already there is replaced, so the
    header always names this veil's policy. Off (the default): ``headers`` itself, untouched."""
    if not options.policy_header:
        return headers
    return [(k, v) for k, v in headers if k.lower() != POLICY_HEADER] + [(POLICY_HEADER, plan.digest)]


def redact_head(plan: Plan, route: Route, headers: Headers, query: str) -> tuple[Headers, str, Report]:
    """Headers (with cookies) and the raw query string, rewritten. Raises RedactionError."""
    with engine_errors(f"{route.direction} head"):
        new_headers, report = plan.redact_headers(headers, route)
        if not query:
            return new_headers, query, report
        new_query, query_report = plan.redact_query(query, route)
    return new_headers, new_query, report.merge(query_report)


def redact_request_path(plan: Plan, route: Route, path: str) -> tuple[str, Report]:
    """A raw request path (no query) as it may be forwarded: each segment scanned by the
    detectors query values get, rewritten segments percent-encoded. ``route.path`` stays the
    original: rules are matched on it. Raises RedactionError."""
    with engine_errors(f"{route.direction} path"):
        return plan.redact_path(path, route)


def replace_length(headers: Headers, length: int | None) -> Headers:
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


def str_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Raw (bytes) header pairs as the str pairs the plan takes; latin-1 keeps every byte."""
    return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw]


def raw_headers(headers: Headers, *, lower: bool = False) -> list[tuple[bytes, bytes]]:
    """Str pairs back to wire pairs; ``lower`` for ASGI, whose header names are lower case."""
    return [((k.lower() if lower else k).encode("latin-1"), header_bytes(v)) for k, v in headers]
