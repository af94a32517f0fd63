"""Media types: how a body of a given Content-Type is processed, and what a body is when
its type says nothing (missing, ``application/octet-stream``) or may be wrong (``text/plain``).

Sniffing is bounded and conservative: a body counts as JSON only if it is valid UTF-8 and
parses as one JSON object or array; NDJSON only if every non-blank line (two or more) does;
a urlencoded form only if the whole body is ``name=value`` pairs joined by ``&`` in the
characters a form encoder emits (no spaces, no controls, ``%`` followed by two hex digits);
text only if it is UTF-8 with no control characters but tab, line breaks, form feed and ESC.
Anything else (images, gzip, protobuf, UTF-8 holding control bytes) is binary and passes
untouched: rewriting text inside a length-prefixed binary format would corrupt it.

A body labelled with a type veil knows to be binary (:func:`is_binary_label`: ``image/png``,
``application/pdf``, ``application/grpc``...) is looked at too (:func:`sniff_labelled`), since a
label is only the sender's claim: one whose head is binary (PNG, gzip, zip, most PDFs show a
control byte or a byte that is not UTF-8 within their first bytes) passes unread, as before; one
that is, whole, a JSON, NDJSON or urlencoded-form document is redacted as that (a mislabelled
document), and one whose text head opens like JSON (``{``, ``[``) but which is none (invalid, or
a NUL past its head: a document padded to cross unread) is refused. Anything else passes
unchanged under its label, text included: unlike a vague body,
it is neither redacted as text nor refused, because rewriting bytes inside a binary format
corrupts it (an all-ASCII protobuf message, an uncompressed PDF), and a binary format whose
first bytes happen to be text is no evidence of smuggling. The trade-off: free text (an e-mail
in an ASCII PDF) inside a body labelled binary is not read.
"""

from __future__ import annotations

import re
from functools import lru_cache

import orjson

JSON_TYPES = frozenset({"application/json", "text/json"})
NDJSON_TYPES = frozenset({
    "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
    "application/jsonlines", "application/json-lines", "application/jsonl+json",
})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded"})
TEXT_LIKE = frozenset({"application/xml", "application/javascript", "application/graphql", "application/csv"})
MULTIPART_TYPES = frozenset({"multipart/form-data"})
STREAMING_MULTIPART = frozenset({"multipart/byteranges", "multipart/x-mixed-replace"})
"""Multipart types that carry a resource's bytes or an endless stream (MJPEG): never read."""
VAGUE_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
"""Types that say nothing about the content: the body is sniffed (:func:`sniff_body`)."""
BINARY_FAMILIES = ("image/", "audio/", "video/", "font/", "model/")
BINARY_TYPES = frozenset({
    "application/zip", "application/gzip", "application/x-gzip", "application/zstd", "application/pdf",
    "application/x-tar", "application/x-7z-compressed", "application/x-bzip2", "application/wasm",
    "application/protobuf", "application/x-protobuf", "application/grpc", "application/grpc+proto",
    "application/msgpack", "application/x-msgpack", "application/cbor", "application/vnd.apache.avro+binary",
    *STREAMING_MULTIPART,
})
"""Types known to be binary: passed unread when their head is binary, read only for a mislabelled
document otherwise (:func:`sniff_labelled`). Any other type veil has no rule for
(``application/x-amz-json-1.1``, ``application/yaml``...) is sniffed like a vague one: a label
veil does not know is no proof that a body holds no text."""
SNIFFED_MEDIA = {
    "json": "application/json", "ndjson": "application/x-ndjson",
    "form": "application/x-www-form-urlencoded", "text": "text/plain",
}
"""The media type a sniffed body's rules are matched with: what it is, not its label."""
MISLABELLED_KINDS = frozenset({"json", "ndjson", "form"})
"""What a body labelled binary is redacted as when it is, whole, one of these (:func:`sniff_labelled`)."""
SNIFF_HEAD_BYTES = 512
"""How much of a body :func:`sniff_head` needs to tell binary from possible text."""

_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
"""Control bytes text does not hold (tab, line breaks, form feed and ESC are allowed)."""
_FORM_NAME = rb"(?:[A-Za-z0-9._~+*\-\[\]]|%[0-9A-Fa-f]{2})+"
_FORM_VALUE = rb"(?:[A-Za-z0-9._~+*\-\[\]!$'(),;:@/?=]|%[0-9A-Fa-f]{2})*"
_FORM = re.compile(rb"%s=%s(?:&%s=%s)*\r?\n?" % (_FORM_NAME, _FORM_VALUE, _FORM_NAME, _FORM_VALUE))


@lru_cache(maxsize=256)  # every body is labelled; a service sees a handful of values
def media_type(content_type: str) -> tuple[str, str]:
    """``'Application/JSON; charset=UTF-8'`` -> ``('application/json', 'utf-8')``.

    Read by the one parameter parser (:mod:`veil.rules.header_params`: a ``;`` inside a quoted value
    separates nothing). The charset is :func:`veil.rules.header_params.body_charset`'s: a name no
    codec has when decoding by the declared one could let text cross (given twice, differently;
    not ASCII-compatible), so that a text body labelled so fails closed."""
    from veil.rules import header_params  # here: one edit to this shared module

    parsed = header_params.parse(content_type)
    return parsed.main.lower(), header_params.body_charset(parsed)


def body_kind(mtype: str) -> str:
    """How a body of this media type is processed: json, ndjson, form, text or binary."""
    if mtype in NDJSON_TYPES:
        return "ndjson"
    if mtype in JSON_TYPES or mtype.endswith("+json"):
        return "json"
    if mtype in FORM_TYPES:
        return "form"
    if mtype in MULTIPART_TYPES or (mtype.startswith("multipart/") and mtype not in STREAMING_MULTIPART):
        return "multipart"  # form-data, and related (Drive/Gmail uploads), mixed, alternative...
    if mtype.startswith("text/") or mtype in TEXT_LIKE or mtype.endswith("+xml"):
        return "text"
    if not mtype:
        return "sniff"
    return "binary"


def is_vague(mtype: str) -> bool:
    """Whether a body of media type ``mtype`` must be sniffed: a type that says nothing, or one
    veil has no rule for and does not know to be binary."""
    if mtype in VAGUE_TYPES:
        return True
    return body_kind(mtype) == "binary" and mtype not in BINARY_TYPES and not mtype.startswith(BINARY_FAMILIES)


def is_binary_label(mtype: str) -> bool:
    """Whether media type ``mtype`` is one veil knows to be binary (:data:`BINARY_TYPES`,
    :data:`BINARY_FAMILIES`): its body is read only if it is a mislabelled document."""
    return body_kind(mtype) == "binary" and (mtype in BINARY_TYPES or mtype.startswith(BINARY_FAMILIES))


def sniff_labelled(body: bytes) -> str:
    """What a body labelled binary (:func:`is_binary_label`) is redacted as: json, ndjson or form
    when it is, whole, such a document; ``broken_json`` when its text head opens like a JSON
    document (``{`` or ``[``) and the whole is none (invalid, or binary past the head: refused);
    else binary (passed unchanged under its label). A binary head ends the look: a real image or
    archive costs :data:`SNIFF_HEAD_BYTES`, not a read."""
    if not sniff_head(body[:SNIFF_HEAD_BYTES]):
        return "binary"
    kind = sniff_body(body)
    if kind in MISLABELLED_KINDS:
        return kind
    # No binary format veil knows to be binary opens with '{' or '[' in text: such a body is a
    # document cut short or padded with a NUL past its head to cross unread.
    return "broken_json" if body.lstrip()[:1] in (b"{", b"[") else "binary"


def body_kind_of(content_type: str) -> str:
    """``body_kind`` of a full Content-Type header value."""
    return body_kind(media_type(content_type)[0])


def sniff_body(body: bytes) -> str:
    """What a body whose type says nothing is: json, ndjson, form, text or binary (see the
    module docstring for the exact tests; each is linear in the body)."""
    if _has_controls(body):
        return "binary"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "binary"
    if body.lstrip()[:1] in (b"{", b"["):
        if _is_json(body):
            return "json"
        lines = [line for line in body.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.lstrip()[:1] in (b"{", b"[") and _is_json(line) for line in lines):
            return "ndjson"
        return "text"
    if _FORM.fullmatch(body) is not None:
        return "form"
    return "text"


def sniff_head(head: bytes) -> bool:
    """Whether a body starting with ``head`` (its first :data:`SNIFF_HEAD_BYTES` or all of
    it) may be text, so an adapter must read it whole and give it to the plan; False for
    binary, which the adapter may stream through unread."""
    # No list of magic numbers: gzip, PNG, JPEG, zip, zstd... all start with a control
    # byte or one that is not UTF-8, and an ASCII magic ("GIF8", "BZh") may start a text.
    if _has_controls(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only the last character may be cut short (by the end of the head), nothing else.
        return exc.reason == "unexpected end of data" and exc.start >= len(head) - 3
    return True


def _has_controls(data: bytes) -> bool:
    # translate() deletes in one C loop: ~30x faster than a regex search over a text body.
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def _is_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True
