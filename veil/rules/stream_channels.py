"""Text channels of a streamed reply: what the token restorer and the delta redactor share.

An LLM streams its text a few characters per event, so a value (a token to restore, an
e-mail to redact) can arrive in pieces. Each text field that goes on from one event to the
next is a *channel*; an event whose channel text is not settled yet is *held*, in order,
until it is. Settling a channel's text up to a cut gives every held line its final text:
a replacement goes into the line where the value starts, later lines it spanned lose those
characters, and text nothing replaced stays in the line it came in. Lines are never dropped,
split or reordered, so the concatenation of a channel's emitted texts is the settled text.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

Path = tuple[str | int, ...]
"""Where a string sits in a JSON document (keys and list indices); ``()`` for plain text."""

Replacement = tuple[int, int, str]
"""``(start, end, value)``: ``text[start:end]`` of a channel becomes ``value``."""


@dataclass(eq=False, slots=True)
class HeldLine:
    raw: bytes  # the bytes to send when no field changes
    ending: bytes
    prefix: bytes = b""  # ``data:`` plus its optional space, for SSE
    doc: Any = None  # the parsed JSON document; None for a plain-text payload
    fields: dict[Path, str] = field(default_factory=dict)  # original text of each channelled field
    new: dict[Path, str] = field(default_factory=dict)  # final text of each field that changed
    pending: int = 0  # fields a channel still holds: the line waits for all of them
    original: bytes = b""  # the line as it came, for a passthrough after a failure


@dataclass(eq=False, slots=True)
class Channel:
    parts: list[tuple[HeldLine, Path, str]]  # held lines, the field's path there, its unsettled text
    head: str = ""  # settled text of the first part, which comes before its unsettled text

    def text(self) -> str:
        return "".join(part for _, _, part in self.parts)

    def add(self, line: HeldLine, path: Path, text: str) -> None:
        line.fields[path] = text
        line.pending += 1
        self.parts.append((line, path, text))

    def settle(self, replacements: list[Replacement], cut: int | None = None) -> bool:
        """Final text for the lines up to ``cut`` of :meth:`text` (all when None), with
        ``replacements`` (sorted, none crossing ``cut``); True while some text stays held."""
        text = self.text()
        cut = len(text) if cut is None else cut
        head, start = self.head, 0
        for i, (line, path, part) in enumerate(self.parts):
            end = start + len(part)
            if end > cut:
                self.head = head + rebuild(text, replacements, start, cut)
                self.parts[: i + 1] = [(line, path, text[cut:end])]
                return True
            final = head + rebuild(text, replacements, start, end)
            line.pending -= 1
            if final != line.fields[path]:
                line.new[path] = final
            head, start = "", end
        self.parts.clear()
        self.head = ""
        return False


class LineQueue:
    """Lines in arrival order; :meth:`release` gives those before the first still held."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.lines: deque[HeldLine] = deque()
        self.bytes = 0  # raw bytes held

    def __len__(self) -> int:
        return len(self.lines)

    def push(self, line: HeldLine) -> None:
        self.lines.append(line)
        self.bytes += len(line.raw)

    def unsent(self) -> bytes:
        """Every held line as it came."""
        return b"".join(line.original or line.raw for line in self.lines)

    def release(self) -> bytes:
        out = []
        while self.lines and not self.lines[0].pending:
            line = self.lines.popleft()
            self.bytes -= len(line.raw)
            out.append(emit_line(line, self.kind))
        return b"".join(out)


def emit_line(line: HeldLine, kind: str) -> bytes:
    """The line's bytes with its changed fields written in (re-serialized only then)."""
    if not line.new:
        return line.raw
    if line.doc is None:
        # A line break in a value would end the data: line; SSE joins data: lines with "\n".
        pieces = re.split(r"\r\n|\r|\n", line.new[()]) if kind == "sse" else [line.new[()]]
        glue = (line.ending or b"\n") + line.prefix
        payload = glue.join(piece.encode("utf-8", "surrogateescape") for piece in pieces)
    else:
        for path, text in line.new.items():
            set_at(line.doc, path, text)
        try:
            payload = orjson.dumps(line.doc)
        except TypeError:  # a lone surrogate in a value (from a request that was not UTF-8)
            payload = json.dumps(line.doc, separators=(",", ":")).encode("ascii")
    return line.prefix + payload + line.ending


def set_at(doc: Any, path: Path, value: Any) -> bool:
    """Write ``value`` at ``path``; False (nothing written) when the path is not there."""
    node = doc
    try:
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) or (isinstance(node, list) and isinstance(path[-1], int)):
            node[path[-1]] = value  # type: ignore[index]
            return True
    except (KeyError, IndexError, TypeError):
        pass
    return False


def json_strings(doc: Any) -> dict[Path, str]:
    """Every string leaf of a JSON document by its path (iterative: documents may nest deep)."""
    found: dict[Path, str] = {}
    stack: list[tuple[Path, Any]] = [((), doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            found[path] = node
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        stack.extend(((*path, key), value) for key, value in items)
    return found


def rebuild(text: str, replacements: list[Replacement], start: int, end: int) -> str:
    """``text[start:end]``, values starting there replaced, the rest of earlier ones cut."""
    out, cursor = [], start
    for first, last, value in replacements:
        if last <= start or first >= end:
            continue
        if first >= start:
            out += [text[cursor:first], value]
        cursor = max(cursor, last)
    out.append(text[cursor:end])
    return "".join(out)
