"""Parameters of ``Content-Type`` and ``Content-Disposition`` values, read once the way receivers read them.

One parser for every reader in veil (:func:`veil.rules.media.media_type`,
:mod:`veil.rules.protocol_headers`, :mod:`veil.rules.multipart`): three private parsers that
disagreed let text cross (a ``;`` inside a quoted value split by one and not the other, a
charset given twice read first by one and last by another). It reads:

- segments separated by ``;``, a ``;`` inside a quoted string separating nothing;
- a parameter's name (lowercased) and value, quotes and backslash escapes undone;
- RFC 2231 continuations (``name*0=jane; name*1="@example.com"``) joined into one value in
  the order of their numbers, as Django, werkzeug and the ``email`` package join them;
- RFC 8187 / RFC 2231 extended values (``name*=UTF-8''jane%40example.com``, and ``name*0*``
  pieces whose ``charset'language'`` is on the first), percent-decoded in their charset.

A value that cannot be read (an extended value without its ``charset'language'`` prefix, bad
percent-encoding for its charset, a continuation number given twice) is marked ``broken``:
callers refuse it rather than guess. :func:`rewritten` writes parameters back: a changed value
as one parameter in the form it came in (a token or a quoted string; an extended value as
``name*=charset'language'percent-encoded``, never quoted), the other pieces of a continuation
and the dropped parameters removed, everything else byte for byte.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An RFC 9110 token: a parameter value that needs no quotes."""
_QUOTED_OR_SEMICOLON = re.compile(r'"(?:[^"\\]|\\.)*"?|;', re.DOTALL)
"""A quoted string (to its end when unterminated: a ``;`` in it separates nothing), or a separator."""
_PIECE = re.compile(r"(.*?)\*(\d+)(\*?)", re.DOTALL)
"""An RFC 2231 continuation name: ``name*0``, ``name*1*``."""


@dataclass(slots=True)
class Param:
    """One parameter as a receiver reads it (the pieces of a continuation joined)."""

    name: str
    """Lowercased, without RFC 2231 / 8187 marks (``filename`` for ``filename*0*``); for a
    segment without ``=``, the segment's text as written."""
    value: str | None
    """Unquoted, joined and decoded; None for a segment without ``=``."""
    segments: tuple[int, ...]
    """Indexes (into :attr:`Parsed.spans`) of the segments it was written in, in header order."""
    written_name: str
    """The name as written in its first segment, without its marks: what :func:`rewritten` writes."""
    ext_prefix: str | None = None
    """``charset'language'`` of an extended value, else None."""
    broken: bool = False
    """Whether the value could not be read (see the module docstring): refuse it."""


@dataclass(slots=True)
class Parsed:
    """A parameterised header value, split."""

    value: str
    spans: list[tuple[int, int]]
    """Every ``;``-separated segment of :attr:`value`, spaces included; the first is the media type
    (or disposition type)."""
    params: list[Param]

    @property
    def main(self) -> str:
        """The media type or disposition type, as written (spaces stripped)."""
        start, end = self.spans[0]
        return self.value[start:end].strip(" \t")


def parse(value: str) -> Parsed:
    """``value`` split into its type and its parameters (see the module docstring). Never raises."""
    spans = segments(value)
    params: list[Param] = []
    pieces: dict[str, list[tuple[int, bool, str, int, str]]] = {}  # name -> (number, extended, raw, segment, written)
    for index, (start, end) in enumerate(spans[1:], 1):
        segment = value[start:end].strip(" \t")
        written, eq, raw = segment.partition("=")
        written, raw = written.strip(" \t"), raw.strip(" \t")
        if not eq:
            if segment:
                params.append(Param(segment, None, (index,), segment))
            continue
        piece = _PIECE.fullmatch(written) if "*" in written else None
        if piece is not None:
            pieces.setdefault(piece.group(1).lower(), []).append(
                (int(piece.group(2)), bool(piece.group(3)), raw, index, piece.group(1)))
            continue
        if written.endswith("*"):
            prefix, text = _extended(unquoted(raw))
            params.append(Param(written[:-1].lower(), text, (index,), written[:-1], prefix, prefix is None))
        else:
            params.append(Param(written.lower(), unquoted(raw), (index,), written))
    if pieces:
        params += [_joined(name, found) for name, found in pieces.items()]
        params.sort(key=lambda param: param.segments[0])
    return Parsed(value, spans, params)


def _joined(name: str, found: list[tuple[int, bool, str, int, str]]) -> Param:
    """One parameter from its RFC 2231 pieces: joined by number, the charset of ``*0*`` decoding them."""
    ordered = sorted(found)
    numbers = [number for number, *_ in ordered]
    broken = len(set(numbers)) != len(numbers)
    charset = "utf-8"
    prefix: str | None = None
    data = bytearray()
    for number, extended, raw, _, _ in ordered:
        raw = unquoted(raw)
        if not extended:
            try:
                data += raw.encode(charset, "surrogateescape" if charset == "utf-8" else "strict")
            except (UnicodeEncodeError, LookupError):
                broken = True
            continue
        if number == 0:
            head, sep, rest = raw.partition("'")
            language, sep2, raw = rest.partition("'")
            if not (sep and sep2):
                broken = True
            prefix = f"{head}'{language}'"
            charset = head or "utf-8"
        data += unquote_to_bytes(raw)
    try:
        text = bytes(data).decode(charset)
    except (UnicodeDecodeError, LookupError):
        text, broken = bytes(data).decode("latin-1"), True
    segments_of = tuple(sorted(segment for *_, segment, _ in ordered))
    written = min(ordered, key=lambda item: item[3])[4]
    return Param(name, text, segments_of, written, prefix, broken)


def _extended(raw: str) -> tuple[str | None, str]:
    """``(charset'language', text)`` of an RFC 8187 value; ``(None, raw)`` when it cannot be read."""
    charset, sep, rest = raw.partition("'")
    language, sep2, encoded = rest.partition("'")
    if not (sep and sep2):
        return None, raw
    try:
        return f"{charset}'{language}'", unquote_to_bytes(encoded).decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return None, raw


def segments(value: str) -> list[tuple[int, int]]:
    """Spans of the ``;``-separated parts of ``value``; a ``;`` inside a quoted string separates nothing."""
    if '"' not in value:  # most values: no quoted string, every ';' separates
        spans, start = [], 0
        for piece in value.split(";"):
            spans.append((start, start + len(piece)))
            start += len(piece) + 1
        return spans
    spans, start = [], 0
    for found in _QUOTED_OR_SEMICOLON.finditer(value):
        if found.group() == ";":
            spans.append((start, found.start()))
            start = found.end()
    spans.append((start, len(value)))
    return spans


def unquoted(raw: str) -> str:
    """A parameter value as the receiver reads it: a quoted string without its quotes and escapes."""
    if not raw.startswith('"'):
        return raw
    inner = raw[1:-1] if len(raw) > 1 and raw.endswith('"') else raw[1:]
    return re.sub(r"\\(.)", r"\1", inner, flags=re.DOTALL)


def quoted(text: str) -> str:
    """A parameter value as a header must carry it: a token as it is, else a quoted string."""
    if _TOKEN.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def written(param: Param, text: str) -> str:
    """``param`` with value ``text`` as one parameter, in the form it came in: an extended value as
    ``name*=charset'language'percent-encoded`` (RFC 8187: never quoted), else ``name=`` a token or a
    quoted string. Raises UnicodeEncodeError when ``text`` has no form in the value's charset."""
    if param.ext_prefix is not None:
        charset = param.ext_prefix.partition("'")[0] or "utf-8"
        return f"{param.written_name}*={param.ext_prefix}{quote(text, safe='', encoding=charset, errors='strict')}"
    return f"{param.written_name}={quoted(text)}"


def rewritten(parsed: Parsed, changes: dict[int, str | None]) -> str:
    """The header value with ``changes`` applied: by index into :attr:`Parsed.params`, a new value
    (written as one parameter where its first segment stood, :func:`written`) or None (the
    parameter dropped). Segments nothing changed keep their bytes and their separators."""
    replaced: dict[int, str | None] = {}
    for number, text in changes.items():
        param = parsed.params[number]
        first, *rest = param.segments
        start, end = parsed.spans[first]
        segment = parsed.value[start:end]
        lead = segment[: len(segment) - len(segment.lstrip(" \t"))]
        trail = segment[len(segment.rstrip(" \t")):]
        replaced[first] = None if text is None else lead + written(param, text) + trail
        for other in rest:
            replaced[other] = None
    kept = [replaced[i] if i in replaced else parsed.value[start:end]
            for i, (start, end) in enumerate(parsed.spans)]
    return ";".join(piece for piece in kept if piece is not None)


REFUSED_CHARSET = "x-veil-refused-charset"
"""What :func:`body_charset` answers for a charset a body must not be decoded by: a name no codec
has, so that decoding a text body by it fails closed (``bad_encoding``) wherever it is tried."""
_ESCAPES = (b"\x1b$B", b"\x1b$A", b"\x1b$(D", b"\x1b(J", b"~{", b"+")
"""Shift sequences of stateful charsets (ISO-2022-*, HZ, UTF-7) after which ASCII bytes mean other text."""
_PROBE = "4@j.A~0\\"
"""ASCII characters a multibyte charset may take as the second byte of a character."""


def body_charset(parsed: Parsed) -> str:
    """The charset a body labelled ``parsed`` is decoded by: the declared one (lowercased, known to
    Python or not: :mod:`veil.rules.charsets` refuses one it does not know, naming it), utf-8
    when none is, or :data:`REFUSED_CHARSET` when receivers could read different ones:

    - ``charset`` given twice, differently (``charset=utf-8; charset=utf-16``): the ``email``
      package reads the first, other parsers the last;
    - a charset that cannot be read (a broken extended value).

    A charset that is not ASCII-compatible (:func:`ascii_compatible`: Shift_JIS, GBK, UTF-16...) is
    returned too: such text is decoded by it, and refused when its bytes, read as ASCII/UTF-8 by a
    receiver that ignores the charset, hold what veil redacts (:mod:`veil.rules.charsets`).
    """
    declared = [param for param in parsed.params if param.name == "charset" and param.value is not None]
    values = {(param.value or "").strip(" \t").lower() for param in declared} - {""}
    if any(param.broken for param in declared) or len(values) > 1:
        return REFUSED_CHARSET
    if not values:
        return "utf-8"
    return values.pop()


def ascii_compatible(charset: str) -> bool:
    """Whether every ASCII byte of a body in ``charset`` is read as that ASCII character whatever
    comes before it, as a receiver ignoring the charset reads it: no two-byte unit (UTF-16/32),
    no other mapping (EBCDIC), no multibyte character whose second byte may be ASCII (Shift_JIS,
    GBK, Big5) and no shift sequence (ISO-2022, HZ, UTF-7). Unknown charsets are not."""
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError, TypeError):
        return False
    return _ascii_compatible(name)


@lru_cache(maxsize=64)  # keyed by the codec's own name: aliases share one entry, and there are few
def _ascii_compatible(name: str) -> bool:
    ascii_bytes = bytes(range(128))
    try:
        if ascii_bytes.decode(name) != ascii_bytes.decode("ascii"):
            return False
        # Each probe character right after each non-ASCII byte: a lead byte whose trail may be
        # ASCII takes the character into a multibyte one.
        pairs = all(bytes([lead, ord(char)]).decode(name, "replace").endswith(char)
                    for lead in range(0x80, 0x100) for char in _PROBE)
        return pairs and all((escape + _PROBE.encode()).decode(name, "replace").endswith(_PROBE)
                             for escape in _ESCAPES)
    except (UnicodeDecodeError, LookupError, ValueError, TypeError):
        return False
