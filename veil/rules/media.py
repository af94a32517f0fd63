"""Media types: how a body of a given Content-Type is processed."""

from __future__ import annotations

from functools import lru_cache

JSON_TYPES = frozenset({"application/json", "text/json"})
NDJSON_TYPES = frozenset({
    "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
    "application/jsonlines", "application/json-lines", "application/jsonl+json",
})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded"})
TEXT_LIKE = frozenset({"application/xml", "application/javascript", "application/graphql", "application/csv"})


@lru_cache(maxsize=256)  # every body is labelled; a service sees a handful of values
def media_type(content_type: str) -> tuple[str, str]:
    """``'Application/JSON; charset=UTF-8'`` -> ``('application/json', 'utf-8')``."""
    main, _, params = content_type.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip().strip('"').lower()
    return main.strip().lower(), charset


def body_kind(mtype: str) -> str:
    """How a body of this media type is processed: json, ndjson, form, text or binary."""
    if mtype in NDJSON_TYPES:
        return "ndjson"
    if mtype in JSON_TYPES or mtype.endswith("+json"):
        return "json"
    if mtype in FORM_TYPES:
        return "form"
    if mtype.startswith("text/") or mtype in TEXT_LIKE or mtype.endswith("+xml"):
        return "text"
    if not mtype:
        return "sniff"
    return "binary"


def body_kind_of(content_type: str) -> str:
    """``body_kind`` of a full Content-Type header value."""
    return body_kind(media_type(content_type)[0])
