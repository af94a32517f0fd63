"""Restore tokens in a streamed reply (SSE, NDJSON), also when a token is split across events.

Use it on a streamed reply to a request whose rules said ``tokenize`` with ``restore:
true``, on the lines ``LineRedactor`` returns. An LLM emits a few characters per event,
so a token arrives in pieces that restoring each line alone would leave as they are.

Each string field of a payload line, named by its path (OpenAI's ``choices.0.delta.content``,
Anthropic's ``delta.text``, ``()`` for plain text), is a text channel that goes on in the
next payload line. A line whose field ends in what may be the start of a token is held
until the token completes (its value goes where it starts; later lines it spanned get
``""``), can no longer complete, or a payload line lacks the field (lines go on as they
came). Lines are never dropped or reordered; a line nothing changed is sent as it came.

Caveats: this writes sensitive values into traffic; use it only where the reply goes back
to the party that sent them (see :mod:`veil.rules.restore`). Holding adds latency: a field
ending in what may start a token (``"...t"``) waits for the next line, unless it repeats the
line before (``"service_tier": "default"`` on every OpenAI chunk). Past ``max_held_bytes`` or
``max_held_lines``, held lines go on unrestored.
"""

from __future__ import annotations

import orjson

from veil.rules.actions.tokenize import partial_token_start
from veil.rules.restore import Restorer
from veil.rules.stream_channels import (
    Channel,
    HeldLine,
    LineQueue,
    Path,
    Replacement,
    json_strings,
)
from veil.rules.streaming import split_line


class StreamRestorer:
    """Feed complete lines (bytes of whole lines, as ``LineRedactor.feed`` returns them),
    get back the lines to send on; ``close`` releases whatever is still held.

    ``kind`` is ``sse`` (``data:`` lines are payload) or ``ndjson`` (every non-blank line is).

    >>> restore = StreamRestorer(plan.restorer(route), "sse")  # doctest: +SKIP
    >>> restore.feed(b'data: {"text":"to tok_EMA"}\\n\\n')  # doctest: +SKIP
    b''
    >>> restore.feed(b'data: {"text":"IL_k1_..."}\\n')  # doctest: +SKIP
    b'data: {"text":"to jane@example.com"}\\n\\ndata: {"text":""}\\n'
    """

    def __init__(
        self, restorer: Restorer, kind: str, max_held_bytes: int = 64 * 1024, max_held_lines: int = 512
    ) -> None:
        if kind not in ("sse", "ndjson"):
            raise ValueError(f"kind must be 'sse' or 'ndjson', got {kind!r}")
        self.restorer, self.kind = restorer, kind
        self.max_held_bytes, self.max_held_lines = max_held_bytes, max_held_lines
        self.restored = 0  # tokens restored so far
        self._held = LineQueue(kind)
        self._channels: dict[Path, Channel] = {}
        self._last: dict[Path, str] = {}  # the previous payload line's fields

    def feed(self, lines: bytes) -> bytes:
        out = []
        for raw in lines.splitlines(keepends=True):
            self._take(raw)
            out.append(self._held.release())
        return b"".join(out)

    def close(self) -> bytes:
        self._end_channels(list(self._channels))
        return self._held.release()

    def _end_channels(self, paths: list[Path]) -> None:
        for path in paths:  # no token completed: the lines go on as they came
            self._settle(path, [], None)

    def _take(self, raw: bytes) -> None:
        line, fields = self._parse(raw)
        self._held.push(line)
        if fields is not None:
            last, self._last = self._last, fields
            self._end_channels([path for path in self._channels if path not in fields or self._constant(path, fields, last)])
            # Every field is its own channel: OpenAI's "service_tier": "default" ends in t on
            # every line, and must not stand in for the text that carries the token.
            for path, text in fields.items():
                if path not in self._channels and "tok_" not in text and (
                    partial_token_start(text) is None or last.get(path) == text
                ):
                    continue  # nothing to restore or wait for (most fields)
                self._channels.setdefault(path, Channel([])).add(line, path, text)
                self._scan(path)
        if len(self._held) > self.max_held_lines or self._held.bytes > self.max_held_bytes:
            self._end_channels(list(self._channels))

    def _constant(self, path: Path, fields: dict[Path, str], last: dict[Path, str]) -> bool:
        """A field that only repeats the value it held on the line before is not text being
        streamed ("service_tier": "default" on every OpenAI chunk ends in t); holding it would
        delay every event by one."""
        text = fields[path]
        return bool(text) and text == last.get(path) and "tok_" not in text and len(self._channels[path].parts) == 1

    def _parse(self, raw: bytes) -> tuple[HeldLine, dict[Path, str] | None]:
        """The line and its string fields; None for a line that carries no payload."""
        parts = split_line(raw, self.kind)
        if parts is None:
            return HeldLine(raw, b""), None
        prefix, payload, ending = parts
        line = HeldLine(raw, ending, prefix)
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, (dict, list)):
            line.doc = doc
            return line, json_strings(doc)
        if self.kind == "ndjson":
            # Still JSON (a scalar, or broken): escape values, a quote must not end a string.
            text, count = self.restorer.restore_text(payload.decode("utf-8", "surrogateescape"), json_escape=True)
            if count:
                self.restored += count
                line.raw = text.encode("utf-8", "surrogateescape") + line.ending
            return line, {}
        return line, {(): payload.decode("utf-8", "surrogateescape")}

    def _scan(self, path: Path) -> None:
        """Restore the channel's complete tokens; settle all before a token still completing."""
        text = self._channels[path].text()
        tokens: list[Replacement] = []
        done = 0  # end of the last token restored
        start = text.find("tok_")
        while start >= 0:
            opened = self.restorer.open_at(text, start)
            if opened is not None:
                tokens.append((start, *opened))
                done = opened[0]
            # A "tok_" that does not open may hide another in its key id ("tok_A_xtok_B_k1_...").
            start = text.find("tok_", done if opened is not None else start + 1)
        self.restored += len(tokens)
        tail = partial_token_start(text[done:])
        self._settle(path, tokens, None if tail is None else done + tail)

    def _settle(self, path: Path, tokens: list[Replacement], hold: int | None) -> None:
        """Final text for the channel's lines up to ``hold`` (all when None); the rest stays held."""
        if not self._channels[path].settle(tokens, hold):
            del self._channels[path]
