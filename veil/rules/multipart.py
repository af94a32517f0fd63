"""``multipart/form-data`` bodies (RFC 7578): text parts read and redacted, every other byte kept.

A small boundary-splitting parser, not the stdlib ``email`` package: a part nothing changed
goes out byte for byte (headers, line endings, binary content), and only a changed part's
content is replaced. Each part is redacted by its own type:

- a part whose ``name`` a rule covers (a ``form:`` target, or a class the classifier gives it) and
  whose head is text gets that rule whatever its Content-Type (``application/octet-stream``,
  ``text/html``, ``image/png`` over text): the whole value, or, for a JSON part, every value of the
  JSON document ``{name: part}``, as the field of that name would be in a JSON body;
- a *field* (no ``filename``, no Content-Type or ``text/plain``) is a form value: the
  policy's ``form:`` rules and field-name classification apply by its ``name`` as for an
  urlencoded form, then the detectors scan it with the name as context (a field holding a
  JSON document is redacted as JSON);
- any other part (an uploaded file, a typed field) is redacted as a body of its
  Content-Type would be (:meth:`veil.rules.plan.Plan.redact_body`), a missing or vague type
  sniffed: JSON, text files and forms are rewritten, images, archives and other binary
  content pass untouched (binary by its first 512 bytes: a part that is text there and
  binary further on is an error, ``bad_encoding``, never passed unread).

The preamble and the epilogue (before the first delimiter, after the closing one), which parsers
skip but which cross all the same, are scanned as text; not UTF-8, they are refused (``bad_encoding``).

Part headers are payload too (a ``filename`` is a user's file name, and may hold an e-mail
address or a token): the type, every parameter's name and value of ``Content-Disposition`` and
``Content-Type``, read by :mod:`veil.rules.header_params` as werkzeug and Django read them (RFC 2231
continuations such as ``filename*0="jane"; filename*1="@example.com.txt"`` joined, RFC 8187 values
decoded), and the whole value of every other part header (``Content-ID``, ``Content-Description``...)
are scanned by the detectors header values are scanned by, in one scan per body. A value holding a
finding is rewritten as one parameter in the form it came in (``filename="[REDACTED:EMAIL].txt"``;
an RFC 8187 ``filename*`` stays in that encoding, ``utf-8''%5BREDACTED%3AEMAIL%5D.txt``); a name
holding one drops its parameter; a finding in the type, ``charset`` or ``boundary`` (what a parser
needs) is refused (``unredactable_header``). The rules by name still read the original ``name``.
Error messages name parts by number and headers only by a name veil knows, never their text.

The parser is strict, so that it never reads a body differently from the server behind it:
CRLF line breaks, a closing delimiter, no ``--boundary`` anywhere but at a delimiter, and no
``Content-Transfer-Encoding`` other than the identity ones. Anything else is an error
(``invalid_multipart``), never a pass-through. The whole body is bounded by
``limits.max_body_bytes`` before it gets here.
"""

from __future__ import annotations

from codecs import BOM_UTF8
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from veil.errors import RedactionError, charset_named
from veil.rules import charsets, header_params
from veil.rules.media import (
    SNIFF_HEAD_BYTES,
    SNIFFED_MEDIA,
    body_kind,
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

_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
_PARAMETERISED = frozenset({"content-disposition", "content-type"})
_PARSER_PARAMS = frozenset({"boundary", "charset"})  # what a parser reads: never rewritten
_UNSCANNED_HEADERS = frozenset({"content-transfer-encoding"})
_NAMED_HEADERS = frozenset({"content-disposition", "content-type", "content-transfer-encoding", "content-id",
                            "content-description", "content-length", "content-language", "content-location"})
"""Part header names an error message may say; any other is the sender's text (it can hold anything)."""


@dataclass(slots=True)
class Part:
    delimiter: int  # where the delimiter line before the part starts
    start: int  # where the part's headers start in the body
    content_start: int
    end: int  # where its content ends (the CRLF before the next delimiter)
    headers: dict[str, str]


def boundary_of(content_type: str) -> bytes:
    """The ``boundary`` parameter of a multipart Content-Type (1 to 70 characters), read by
    :mod:`veil.rules.header_params` (a ``boundary=`` inside another parameter's quoted value is none);
    given twice, differently, it is refused: parsers take different ones."""
    values = {param.value for param in header_params.parse(content_type).params
              if param.name == "boundary" and param.value is not None and not param.broken}
    if len(values) != 1 or not 1 <= len(boundary := values.pop()) <= 70:
        raise RedactionError("invalid_multipart", "multipart/form-data without a valid boundary parameter")
    return boundary.encode("latin-1", "replace")


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
    """``(new body, report)``: every part redacted by its type (see the module docstring), the
    preamble and the epilogue scanned as text; unchanged parts are kept byte for byte."""
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
    new_body = body
    if out:
        out.append(body[cursor:])
        new_body = b"".join(out)
    new_body = _redact_outside(new_body, body, boundary, view, findings)
    return new_body, report.merge(Report(tuple(findings), new_body != body))


def _redact_outside(new_body: bytes, body: bytes, boundary: bytes, view: View, findings: list[Finding]) -> bytes:
    """``new_body`` with the preamble (before the first delimiter) and the epilogue (after the closing
    one) of ``body`` scanned as text: parsers skip them, but they cross all the same, and a sender can
    put anything there. Neither is rewritten by the parts' redaction, so both sit at the ends of
    ``new_body`` as they sat in ``body``. Text that is not UTF-8 there is refused (``bad_encoding``)."""
    delimiter = b"--" + boundary
    preamble_end = body.find(delimiter)  # split_parts: every occurrence is a delimiter line
    epilogue_start = body.rfind(delimiter) + len(delimiter) + 2  # after the closing delimiter's "--"
    outside = [body[:preamble_end], body[epilogue_start:]]
    if not any(outside):
        return new_body
    try:
        texts = [piece.decode("utf-8") for piece in outside]
    except UnicodeDecodeError:
        raise RedactionError("bad_encoding", "a multipart preamble or epilogue is not UTF-8 text") from None
    scanned = scan_strings(view, texts, ["", ""], "body", ["<preamble>", "<epilogue>"], findings)
    if scanned == texts:
        return new_body
    preamble, epilogue = ((new or "").encode("utf-8") for new in scanned)
    if delimiter in preamble or delimiter in epilogue:
        raise RedactionError("invalid_multipart", "a redacted preamble or epilogue holds the boundary")
    return preamble + new_body[preamble_end : len(new_body) - len(outside[1])] + epilogue


def _redact_part(
    part: Part, content: bytes, view: View, redact_part: RedactPart, findings: list[Finding]
) -> tuple[bytes | None, Report]:
    disposition = {param.name: param.value for param in header_params.parse(part.headers.get("content-disposition", "")).params
                   if param.value is not None}
    ctype = part.headers.get("content-type", "")
    mtype, charset = media_type(ctype)
    name = disposition.get("name", "")
    is_file = "filename" in disposition or "filename*" in disposition
    if content and _named(view, name) and sniff_head(content[:SNIFF_HEAD_BYTES]):
        # The name's rules whatever the label (application/octet-stream, text/html, image/png over text):
        # a label is the sender's claim, the name is what the receiver files the value under. A binary
        # head (a real image or archive) still passes unread, below.
        by_name = _redact_by_name(content, name, mtype, charset, view, redact_part, findings)
        if by_name is not None:
            return by_name
    if is_file or mtype not in ("", "text/plain"):
        result = redact_part(content, ctype or "application/octet-stream")
        if result.kind == "binary" and content and is_vague(mtype) and sniff_head(content[:SNIFF_HEAD_BYTES]):
            # Text by its head, binary further on: never passed unread (as a vague body is not, veil.http.sniff).
            raise RedactionError("bad_encoding", "a part whose head is text holds a control byte or bytes that "
                                                 f"are not UTF-8 past its first {SNIFF_HEAD_BYTES} bytes")
        return result.output, result.report
    mark, value = charsets.decode(content, charset, "form field part")
    handled, new = apply_name_target(view.form, name, value, "form", findings, view)
    if not handled:
        handled, new = apply_name_class(view, name, value, "form", findings)
    if not handled and (sniffed := sniff_body(content)) in ("json", "ndjson"):
        result = redact_part(content, SNIFFED_MEDIA[sniffed])
        return result.output, result.report
    if not handled:
        new = scan_strings(view, [value], [name], "form", [name_label(name)], findings)[0]
    if new is None:
        return None, Report((), True)
    out = content if new == value else charsets.encode(mark, new, charset, "form field part")
    if not charsets.is_fast(charset) and scan_strings(view, [charsets.as_bytes_read(out)], [name], "form",
                                                      [name_label(name)], [])[0] != charsets.as_bytes_read(out):
        # Shift_JIS, UTF-16...: a parser ignoring the part's charset reads its bytes as ASCII (veil.rules.charsets)
        raise RedactionError("bad_encoding", f"form field part in {charset_named(charset)} holds, read byte by byte "
                                             "as ASCII, text veil redacts")
    return out, Report()


def _named(view: View, name: str) -> bool:
    """Whether a rule by name may decide a part named ``name``: a ``form:`` target, or a class the
    classifier gives the name that a rule acts on (what :func:`apply_name_target` and
    :func:`apply_name_class` look up, before they look at the value)."""
    if not name:
        return False
    if view.form.lookup(name) is not None:
        return True
    entity = view.classifier.classify(name, None) if view.classifier is not None else None
    return entity is not None and entity in view.classify_bindings


def _redact_by_name(
    content: bytes, name: str, mtype: str, charset: str, view: View, redact_part: RedactPart, findings: list[Finding],
) -> tuple[bytes | None, Report] | None:
    """A text part whose name a rule covers, whatever its label, redacted by that rule; None when the
    rule leaves it to the detectors (a kept value, an allowed one).

    A JSON part (by its label or its content) is redacted as the JSON document ``{name: part}``: the
    part is that field's value, so it is covered as the field would be in a JSON body, every string
    and number under it, its structure kept and still JSON (``"hunter2"`` becomes
    ``"[REDACTED:SECRET]"``, quotes kept); a ``form:`` target on the name takes the part whole, as one
    form value. Any other text is one form value, taken whole."""
    mark = BOM_UTF8 if content.startswith(BOM_UTF8) else b""
    document = content[len(mark):]
    is_json = body_kind(mtype) == "json" or sniff_body(document) == "json"
    if is_json and view.form.lookup(name) is None:
        key = orjson.dumps(name)
        result = redact_part(b"{" + key + b":" + document + b"}", "application/json")
        out = result.output
        if not (out.startswith(b"{" + key + b":") and out.endswith(b"}")):
            raise RedactionError("internal_error", "a JSON part redacted as its field came back in another shape")
        return (mark + out[len(key) + 2 : -1] if result.report.changed else content), result.report
    mark, value = charsets.decode(content, charset, "form field part")
    handled, new = apply_name_target(view.form, name, value, "form", findings, view)
    if not handled:
        handled, new = apply_name_class(view, name, value, "form", findings)
    if not handled:
        return None
    if new is None:
        return None, Report((), True)
    if is_json:  # a form: target on a JSON part: the replacement is written as the JSON string it is
        return (content if new == value else orjson.dumps(new)), Report()
    return (content if new == value else charsets.encode(mark, new, charset, "form field part")), Report()


@dataclass(slots=True)
class _Slot:
    """A part header's text to scan, on header line ``line_no`` of part ``part``: a raw value at
    ``line[start:end]``, or a parameter's name or value of a parameterised header (``params``)."""

    part: int
    line_no: int
    text: str
    field: str
    path: str
    start: int = 0
    end: int = 0
    params: header_params.Parsed | None = None  # the header's value, read; None for a raw value
    param: int = -1  # which of its parameters
    is_name: bool = False


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
    changes: dict[tuple[int, int], dict[int, str | None]] = {}
    for number in sorted(found_in):
        slot, new = slots[number], scanned[number]
        if new == slot.text:
            continue
        if slot.params is None:
            line = lines[slot.part][slot.line_no]
            lines[slot.part][slot.line_no] = line[: slot.start] + (new or "") + line[slot.end :]
            continue
        if slot.param < 0 or (not slot.is_name and slot.params.params[slot.param].name in _PARSER_PARAMS):
            what = slot.params.params[slot.param].name if slot.param >= 0 else "type"
            raise RedactionError("unredactable_header", f"part {slot.part + 1}: its {what} holds a finding, "
                                                        "and says how to read the part")
        edits = changes.setdefault((slot.part, slot.line_no), {})
        if slot.is_name or new is None:
            edits[slot.param] = None  # a name holding a finding: the parameter goes
        elif edits.get(slot.param, "") is not None:
            edits[slot.param] = new
    for (index, line_no), edits in changes.items():
        line = lines[index][line_no]
        parsed = header_params.parse(line[line.index(":") + 1 :])
        try:
            lines[index][line_no] = line[: line.index(":") + 1] + header_params.rewritten(parsed, edits)
        except (UnicodeEncodeError, LookupError):
            raise RedactionError("invalid_multipart", f"part {index + 1}: a redacted parameter has no form in "
                                                      "its charset") from None
    changed = {slot.part for number in found_in for slot in [slots[number]] if scanned[number] != slot.text}
    return {index: "\r\n".join(lines[index]).encode("utf-8", "surrogateescape") for index in changed}


def _slots_of(part: int, line_no: int, line: str) -> list[_Slot]:
    """What to scan on one part header line: a parameterised header's type, every parameter's
    name and value (read by :mod:`veil.rules.header_params`: RFC 2231 pieces joined, RFC 8187
    values decoded), any other header's whole value."""
    name, colon, value = line.partition(":")
    header = name.strip().lower()
    if not colon or header in _UNSCANNED_HEADERS:
        return []
    label = name_label(header)
    if header not in _PARAMETERISED:
        start = len(name) + 1 + (len(value) - len(value.lstrip()))
        text = value.strip()
        return [_Slot(part, line_no, text, header, label, start, start + len(text))] if text else []
    parsed = header_params.parse(value)
    if any(param.broken for param in parsed.params):
        raise RedactionError("invalid_multipart", f"part {part + 1}: its {_header_named(header)} holds a "
                                                  "parameter that cannot be read (a broken RFC 2231 or 8187 value)")
    slots = [_Slot(part, line_no, parsed.main, header, label, params=parsed)]
    for number, param in enumerate(parsed.params):
        path = f"{label}.{name_label(param.name)}"
        slots.append(_Slot(part, line_no, param.name, "<parameter>", path, params=parsed, param=number, is_name=True))
        if param.value is not None:
            slots.append(_Slot(part, line_no, param.value, param.name, path, params=parsed, param=number))
    return slots


def _header_named(key: str) -> str:
    """A part header's name as a message may say it (:data:`_NAMED_HEADERS`), never other text."""
    return key if key in _NAMED_HEADERS else "<header>"


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
            raise RedactionError("invalid_multipart", f"part {number}: two {_header_named(key)} headers that disagree")
        headers[key] = value
    encoding = headers.get("content-transfer-encoding", "").lower()
    if encoding not in _IDENTITY_ENCODINGS:
        raise RedactionError("invalid_multipart", f"part {number}: its Content-Transfer-Encoding is not supported (only 7bit, 8bit and binary)")
    return headers
