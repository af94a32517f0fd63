"""``multipart/form-data`` bodies (RFC 7578): text parts read and redacted, every other byte kept.

A small boundary-splitting parser, not the stdlib ``email`` package: a part nothing changed
goes out byte for byte (headers, line endings, binary content), and only a changed part's
content is replaced. Each part is redacted by its own type:

- a *field* (no ``filename``, no Content-Type or ``text/plain``) is a form value: the
  policy's ``form:`` rules and field-name classification apply by its ``name`` as for an
  urlencoded form, then the detectors scan it with the name as context (a field holding a
  JSON document is redacted as JSON);
- any other part (an uploaded file, a typed field) is redacted as a body of its
  Content-Type would be (:meth:`veil.rules.plan.Plan.redact_body`), a missing or vague type
  sniffed: JSON, text files and forms are rewritten, images, archives and other binary
  content pass untouched (binary by its first 512 bytes: a part that is text there and
  binary further on is an error, ``bad_encoding``, never passed unread).

Part headers are payload too (a ``filename`` is a user's file name, and may hold an e-mail
address or a token): the parameters of ``Content-Disposition`` and ``Content-Type`` (but the
``boundary`` and ``charset`` a parser needs) and the whole value of every other part header
(``Content-ID``, ``Content-Description``...) are scanned by the detectors header values are
scanned by, in one scan per body. A finding is replaced by its placeholder as a quoted-string
(``filename="[REDACTED:EMAIL].txt"``), an RFC 8187 ``filename*`` stays in that encoding
(``utf-8''%5BREDACTED%3AEMAIL%5D.txt``); the rules by name still read the original ``name``.

The parser is strict, so that it never reads a body differently from the server behind it:
CRLF line breaks, a closing delimiter, no ``--boundary`` anywhere but at a delimiter, and no
``Content-Transfer-Encoding`` other than the identity ones. Anything else is an error
(``invalid_multipart``), never a pass-through. The whole body is bounded by
``limits.max_body_bytes`` before it gets here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from veil.errors import RedactionError, charset_named
from veil.rules.media import (
    SNIFF_HEAD_BYTES,
    is_vague,
    media_type,
    sniff_body,
    sniff_head,
)
from veil.rules.plan_types import Finding, Report, Result
from veil.rules.text_ops import (
    apply_name_class,
    apply_name_target,
    name_label,
    scan_strings,
)
from veil.rules.view import View

RedactPart = Callable[[bytes, str], Result]
"""Redact one part's content as a body of the given Content-Type."""

_BOUNDARY = re.compile(r"""boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))""", re.IGNORECASE)
_PARAM = re.compile(r""";\s*([A-Za-z0-9_.*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))""")
_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
_PARAMETERISED = frozenset({"content-disposition", "content-type"})
_PARSER_PARAMS = frozenset({"boundary", "charset"})  # what a parser reads: never rewritten
_UNSCANNED_HEADERS = frozenset({"content-transfer-encoding"})


@dataclass(slots=True)
class Part:
    delimiter: int  # where the delimiter line before the part starts
    start: int  # where the part's headers start in the body
    content_start: int
    end: int  # where its content ends (the CRLF before the next delimiter)
    headers: dict[str, str]


def boundary_of(content_type: str) -> bytes:
    """The ``boundary`` parameter of a multipart Content-Type (1 to 70 characters)."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise RedactionError("invalid_multipart", "multipart/form-data without a valid boundary parameter")
    return (found.group(1) or found.group(2)).encode("latin-1", "replace")


def split_parts(body: bytes, boundary: bytes) -> list[Part]:
    """The parts of a multipart body, by offsets; raises ``invalid_multipart`` on any
    deviation from the strict form above."""
    delimiter = b"--" + boundary
    if body.startswith(delimiter):
        opening = 0
    else:  # a preamble, then the first delimiter on a line of its own
        opening = body.find(b"\r\n" + delimiter) + 2
        if opening < 2:
            raise RedactionError("invalid_multipart", "multipart body without its boundary")
    parts: list[Part] = []
    cursor = opening + len(delimiter)
    while not body.startswith(b"--", cursor):
        line_end = body.find(b"\r\n", cursor)
        if line_end < 0 or body[cursor:line_end].strip(b" \t"):
            raise RedactionError("invalid_multipart", f"part {len(parts) + 1}: delimiter line not ended by CRLF")
        start = line_end + 2
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise RedactionError("invalid_multipart", f"part {len(parts) + 1}: no closing delimiter")
        if body.startswith(b"\r\n", start):
            content_start = start + 2  # a part without headers
        else:
            blank = body.find(b"\r\n\r\n", start, end)
            if blank < 0:
                raise RedactionError("invalid_multipart", f"part {len(parts) + 1}: headers not ended by a blank line")
            content_start = blank + 4
        headers = _headers(body[start:content_start], len(parts) + 1)
        parts.append(Part(cursor - len(delimiter), start, content_start, end, headers))
        cursor = end + 2 + len(delimiter)
    if body.count(delimiter) != len(parts) + 1:
        # A delimiter we did not split at (after a bare LF, in the epilogue) is one some
        # other parser may split at: refuse rather than read the body differently.
        raise RedactionError("invalid_multipart", "boundary found inside a part or after the closing delimiter")
    return parts


def redact_multipart(body: bytes, content_type: str, view: View, redact_part: RedactPart) -> tuple[bytes, Report]:
    """``(new body, report)``: every part redacted by its type (see the module docstring);
    unchanged parts, the preamble and the epilogue are kept byte for byte."""
    boundary = boundary_of(content_type)
    parts = split_parts(body, boundary)
    out: list[bytes] = []
    findings: list[Finding] = []
    report = Report()
    cursor = 0
    heads = _redact_headers(body, parts, view, findings)
    for number, part in enumerate(parts, 1):
        content = body[part.content_start : part.end]
        new, part_report = _redact_part(part, content, view, redact_part, findings)
        report = report.merge(part_report)
        head = heads.get(number - 1)
        if new == content and head is None:
            continue
        if any(b"--" + boundary in piece for piece in (new or b"", head or b"")):
            raise RedactionError("invalid_multipart", f"part {number}: redacted content holds the boundary")
        if new is None:  # a form rule removed the field: its delimiter line, the part and its CRLF go
            out.append(body[cursor : part.delimiter])
            cursor = part.end + 2
        else:
            out.append(body[cursor : part.start])
            out.append(body[part.start : part.content_start] if head is None else head)
            out.append(new)
            cursor = part.end
    if not out:
        return body, report.merge(Report(tuple(findings), False))
    out.append(body[cursor:])
    new_body = b"".join(out)
    return new_body, report.merge(Report(tuple(findings), new_body != body))


def _redact_part(
    part: Part, content: bytes, view: View, redact_part: RedactPart, findings: list[Finding]
) -> tuple[bytes | None, Report]:
    disposition = _params(part.headers.get("content-disposition", ""))
    ctype = part.headers.get("content-type", "")
    mtype, charset = media_type(ctype)
    name = disposition.get("name", "")
    is_file = "filename" in disposition or "filename*" in disposition
    if is_file or mtype not in ("", "text/plain"):
        result = redact_part(content, ctype or "application/octet-stream")
        if result.kind == "binary" and content and is_vague(mtype) and sniff_head(content[:SNIFF_HEAD_BYTES]):
            # Text by its head, binary further on: never passed unread (as a vague body is not, veil.http.sniff).
            raise RedactionError("bad_encoding", "a part whose head is text holds a control byte or bytes that "
                                                 f"are not UTF-8 past its first {SNIFF_HEAD_BYTES} bytes")
        return result.output, result.report
    try:
        value = content.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise RedactionError("bad_encoding", f"form field part is not valid {charset_named(charset)}") from None
    handled, new = apply_name_target(view.form, name, value, "form", findings, view)
    if not handled:
        handled, new = apply_name_class(view, name, value, "form", findings)
    if not handled and sniff_body(content) in ("json", "ndjson"):
        result = redact_part(content, "application/json" if sniff_body(content) == "json" else "application/x-ndjson")
        return result.output, result.report
    if not handled:
        new = scan_strings(view, [value], [name], "form", [name_label(name)], findings)[0]
    if new is None:
        return None, Report((), True)
    return (content if new == value else new.encode(charset)), Report()


@dataclass(slots=True)
class _Slot:
    """A part header's text to scan: ``line[start:end]`` of header line ``line_no`` of part ``part``."""

    part: int
    line_no: int
    start: int
    end: int
    text: str
    field: str
    path: str
    encoding: str  # how a new text is written back: "quoted", "ext" (RFC 8187) or "raw"
    ext_prefix: str = ""  # RFC 8187's charset'language' before the percent-encoded text


def _redact_headers(body: bytes, parts: list[Part], view: View, findings: list[Finding]) -> dict[int, bytes]:
    """New header blocks of the parts whose header values held a finding, by part index."""
    lines: dict[int, list[str]] = {}
    slots: list[_Slot] = []
    for index, part in enumerate(parts):
        block = body[part.start : part.content_start].decode("utf-8", "surrogateescape").split("\r\n")
        lines[index] = block
        for line_no, line in enumerate(block):
            slots += _slots_of(index, line_no, line)
    if not slots:
        return {}
    found_in: set[int] = set()
    scanned = scan_strings(view, [s.text for s in slots], [s.field for s in slots], "header",
                           [s.path for s in slots], findings, found_in)
    changed: set[int] = set()
    # Right to left within a line, so the offsets of the slots still to write hold.
    for number in sorted(found_in, key=lambda n: (slots[n].part, slots[n].line_no, -slots[n].start)):
        slot, new = slots[number], scanned[number]
        if new == slot.text:
            continue
        line = lines[slot.part][slot.line_no]
        lines[slot.part][slot.line_no] = line[: slot.start] + _written(new or "", slot) + line[slot.end :]
        changed.add(slot.part)
    return {index: "\r\n".join(lines[index]).encode("utf-8", "surrogateescape") for index in changed}


def _slots_of(part: int, line_no: int, line: str) -> list[_Slot]:
    name, colon, value = line.partition(":")
    header = name.strip().lower()
    if not colon or header in _UNSCANNED_HEADERS:
        return []
    label = name_label(header)
    if header not in _PARAMETERISED:
        start = len(name) + 1 + (len(value) - len(value.lstrip()))
        text = value.strip()
        return [_Slot(part, line_no, start, start + len(text), text, header, label, "raw")] if text else []
    slots = []
    for found in _PARAM.finditer(line, len(name) + 1):
        param = found.group(1).lower()
        if param in _PARSER_PARAMS:
            continue
        path = f"{label}.{name_label(param.rstrip('*'))}"
        quoted = found.group(2) is not None
        group = 2 if quoted else 3
        start, end = found.start(group) - quoted, found.end(group) + quoted
        raw = found.group(group)
        if param.endswith("*"):  # RFC 8187: charset'language'percent-encoded
            charset, _, rest = raw.partition("'")
            language, _, encoded = rest.partition("'")
            try:
                text = unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (UnicodeDecodeError, LookupError):
                raise RedactionError("invalid_multipart", f"part {part + 1}: {param} is not valid {charset_named(charset)}") from None
            slots.append(_Slot(part, line_no, start, end, text, param.rstrip("*"), path, "ext", f"{charset}'{language}'"))
        else:
            text = re.sub(r"\\(.)", r"\1", raw) if quoted else raw
            slots.append(_Slot(part, line_no, start, end, text, param, path, "quoted"))
    return slots


def _written(new: str, slot: _Slot) -> str:
    """``new`` written back where the slot's text stood, in the same encoding."""
    if slot.encoding == "raw":
        return new
    if slot.encoding == "ext":
        charset = slot.ext_prefix.partition("'")[0] or "utf-8"
        return slot.ext_prefix + quote(new, safe="", encoding=charset, errors="strict")
    return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _headers(block: bytes, number: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "surrogateescape").split("\r\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise RedactionError("invalid_multipart", f"part {number}: a header line without a colon")
        key, value = name.strip().lower(), value.strip()
        if headers.get(key, value) != value:
            # Parsers disagree on which line wins (werkzeug takes the first, others the last):
            # a part labelled both text/plain and image/png must not pass as the binary one.
            raise RedactionError("invalid_multipart", f"part {number}: two {key} headers that disagree")
        headers[key] = value
    encoding = headers.get("content-transfer-encoding", "").lower()
    if encoding not in _IDENTITY_ENCODINGS:
        raise RedactionError("invalid_multipart", f"part {number}: its Content-Transfer-Encoding is not supported (only 7bit, 8bit and binary)")
    return headers


def _params(value: str) -> dict[str, str]:
    """Parameters of a Content-Disposition value, names lowercased, quotes undone."""
    params: dict[str, str] = {}
    for found in _PARAM.finditer(value):
        quoted, bare = found.group(2), found.group(3)
        params[found.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    return params
