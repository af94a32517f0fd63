"""Traffic samples for ``veil discover``: HAR files, NDJSON bodies and finding records.

Reads files (this package does I/O; ``veil.rules`` does not) and yields one
:class:`Exchange` per HTTP message or body, or one :class:`FindingRecord` per
value-free record written by a detect-mode run.

HAR (1.2, as browsers and mitmproxy export it): ``log.entries[]`` each with a
``request`` (``method``, ``url``, ``headers``, ``postData.text``) and a
``response`` (``headers``, ``content.text``, base64 when ``content.encoding``
says so). Anything else is read as lines: a line that is a finding record (an
object with string ``route``, ``path`` and ``type`` and no key outside
:data:`RECORD_KEYS`) is one; any other line is a body of unknown route, JSON if
it parses, else text.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

RECORD_KEYS = frozenset({
    "route", "path", "type", "rule", "action", "mode", "location", "direction", "policy", "revision",
    "time", "adapter", "method",
})
"""The keys a finding record may have (route template, JSON path, type, rule, action, mode,
location, direction, policy digest, ...): values of the plan, never of the payload."""


class SampleError(ValueError):
    """A sample file that cannot be read as HAR or lines; the message names file and place."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One message of a sample: its route and what it carries. ``path`` is the raw URL
    path ("" when unknown: an NDJSON body), ``query`` the raw query string."""

    direction: str
    body: bytes
    content_type: str = ""
    method: str = ""
    host: str = ""
    path: str = ""
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    where: str = ""
    """``file:line`` or ``file:entries[3].response``, for error messages."""


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A value-free finding written by a detect-mode run."""

    route: str
    path: str
    type: str
    location: str = "body"
    coverage: str = "no"
    """``yes`` when a rule decided on it in enforce mode (``keep`` is a decision too), ``detect``
    when only a detect-mode rule saw it, ``no`` when the record names no rule."""
    rule: str = ""
    extra: dict[str, str] = field(default_factory=dict)


Sample = Exchange | FindingRecord


def read_samples(name: str, data: bytes) -> Iterator[Sample]:
    """The exchanges and records in file ``name`` whose bytes are ``data``."""
    stripped = data.lstrip()
    if stripped.startswith(b"{") and (name.lower().endswith(".har") or b'"log"' in stripped[:4096]):
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if name.lower().endswith(".har"):
                raise SampleError(f"{name}: not valid JSON ({exc})") from None
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("log"), dict):
            yield from _har_exchanges(name, doc["log"])
            return
    yield from _lines(name, data)


def _lines(name: str, data: bytes) -> Iterator[Sample]:
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield Exchange("any", line, "text/plain", where=where)
            continue
        record = _record(value)
        if record is not None:
            yield record
        else:
            yield Exchange("any", line, "application/json", where=where)


def _record(value: Any) -> FindingRecord | None:
    if not isinstance(value, dict) or not value.keys() <= RECORD_KEYS:
        return None
    if not all(isinstance(value.get(k), str) for k in ("route", "path", "type")):
        return None
    coverage = "no" if not value.get("rule") else ("detect" if value.get("mode") == "detect" else "yes")
    extra = {k: str(v) for k, v in value.items() if k not in ("route", "path", "type", "location", "rule")}
    return FindingRecord(value["route"], value["path"], value["type"], str(value.get("location", "body")),
                         coverage, str(value.get("rule", "")), extra)


def _har_exchanges(name: str, log: dict[str, Any]) -> Iterator[Exchange]:
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise SampleError(f"{name}: log.entries: expected a list of entries")
    for index, entry in enumerate(entries):
        where = f"{name}:log.entries[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("url"), str):
            raise SampleError(f"{where}.request.url: expected a string")
        url = urlsplit(request["url"])
        route = {"method": str(request.get("method", "")).upper(), "host": url.hostname or "",
                 "path": url.path or "/"}
        post: dict[str, Any] = request["postData"] if isinstance(request.get("postData"), dict) else {}
        yield Exchange(
            "request", _text_bytes(post.get("text"), ""), str(post.get("mimeType", "")),
            query=url.query, headers=_headers(request), where=f"{where}.request", **route,
        )
        response = entry.get("response")
        if isinstance(response, dict):
            content: dict[str, Any] = response["content"] if isinstance(response.get("content"), dict) else {}
            try:
                body = _text_bytes(content.get("text"), str(content.get("encoding", "")))
            except (binascii.Error, ValueError):
                raise SampleError(f"{where}.response.content.text: not valid base64") from None
            yield Exchange("response", body, str(content.get("mimeType", "")), headers=_headers(response),
                           where=f"{where}.response", **route)


def _text_bytes(text: object, encoding: str) -> bytes:
    if not isinstance(text, str) or not text:
        return b""
    if encoding == "base64":
        return base64.b64decode(text, validate=True)
    return text.encode("utf-8", "surrogatepass")


def _headers(message: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Name/value pairs; HTTP/2 pseudo-headers (``:authority``) are routing, left out."""
    items = message.get("headers")
    if not isinstance(items, list):
        return ()
    return tuple((str(h["name"]), str(h.get("value", ""))) for h in items
                 if isinstance(h, dict) and "name" in h and not str(h["name"]).startswith(":"))
