"""Redact a streamed reply whose text arrives in pieces (SSE and NDJSON text deltas).

An LLM streams its reply a few characters per event, so an e-mail address or a card number
can be split over several events, and redacting each event alone lets it through.
:class:`StreamRedactor` is :class:`LineRedactor` plus that: the text-delta fields of each
channel (:mod:`veil.rules.stream_fields`) are read as one text, cut into *segments* where no
value can run across, and each segment is scanned with the plan's detectors (with the
``look_behind`` characters before it for context words) once it is complete. An event is
held while its text is in an unfinished segment and goes out, in order, as soon as it is
not: the concatenation of a channel's emitted deltas is the redacted text, and the events
themselves (their number, order and other fields) are those :class:`LineRedactor` gives.

Segments depend on the text alone, never on where the events split it, so the same text
gives the same output bytes whatever the split. A cut goes after a whitespace gap whose
neighbours are both *plain words*: no digit, and not all capitals (``WEST`` in a spaced IBAN,
``SSN``, the ``AB`` of a NINO). Every value a detector finds that contains a space (cards,
phones, spaced SSN/IBAN/NINO, dates) has a digit or a capitals group next to each of its
spaces, so a cut never falls inside one. What is held back is therefore the last words
from the last such gap on, one word and its gap at least (the last word may still grow into
an address), digits and capitals runs until they end, and never more than ``max_window``
characters: a segment with no gap is cut there, or before a value found running across that
point (within ``look_behind`` characters on either side), so a value is only cut when it is
longer than ``look_behind`` and crosses the point. Past ``max_held_lines`` or
``max_held_bytes`` held lines (empty deltas, or a channel that never ends while other lines
stream), the open text is redacted as it stands.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import orjson

from veil.rules.plan import Plan
from veil.rules.plan_types import Route
from veil.rules.stream_channels import (
    Channel,
    HeldLine,
    LineQueue,
    Path,
    Replacement,
    set_at,
)
from veil.rules.stream_fields import ChannelKey, DeltaFields
from veil.rules.streaming import LineRedactor, split_line, sse_field

_GAP = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_WORD = 32  # characters of a neighbour that decide whether it is a plain word


class _Text(Channel):
    """A channel with the settled text just before it (the look-behind) and its field's name."""

    def __init__(self, name: str) -> None:
        super().__init__([])
        self.before = ""
        self.name = name


class StreamRedactor(LineRedactor):
    """Feed chunks, get back redacted lines; text split across events is redacted whole.

    Drop-in for :class:`LineRedactor` (``feed``, ``close``, ``unsent``, ``counts``,
    ``report``); ``kind`` ``text`` has no events and behaves exactly like it. ``unsent`` also
    holds the lines held for their text, as they came.

    >>> redact = StreamRedactor(plan, Route("response"), "sse")  # doctest: +SKIP
    >>> redact.feed(b'data: {"delta":{"text":"mail jane@exa"}}\\n')  # doctest: +SKIP
    b''
    >>> redact.feed(b'data: {"delta":{"text":"mple.com now"}}\\n')  # doctest: +SKIP
    b'data: {"delta":{"text":"mail [REDACTED:EMAIL]"}}\\ndata: {"delta":{"text":" "}}\\n'
    """

    def __init__(
        self, plan: Plan, route: Route, kind: str, max_line_bytes: int | None = None, *,
        fields: DeltaFields | None = None, max_window: int = 1024, look_behind: int = 96,
        max_held_lines: int | None = None, max_held_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        super().__init__(plan, route, kind, max_line_bytes)
        if max_window < 2 * _WORD or look_behind < _WORD:
            raise ValueError(f"max_window must be at least {2 * _WORD} and look_behind at least {_WORD}")
        self.fields = fields or DeltaFields()
        self.max_window, self.look_behind = max_window, look_behind
        # Every held delta event adds a character at least, so the window, a function of the text,
        # cuts before this does; past it (events with empty deltas, lines of other channels) the
        # open text is redacted as it stands. 512 lines cut 1-character deltas every 256 events,
        # where the events split the text: values leaked, and the output depended on the split.
        self.max_held_lines = max_held_lines if max_held_lines is not None else 4 * max_window + 64
        self.max_held_bytes = max_held_bytes
        self._held = LineQueue(kind)
        self._channels: dict[ChannelKey, _Text] = {}
        self._view = plan.view(route, "application/json", self.line_also)

    @property
    def unsent(self) -> bytes:
        return self._held.unsent() + super().unsent

    def feed(self, chunk: bytes) -> bytes:
        if self.kind != "ndjson":
            return super().feed(chunk)  # SSE: events come back through emit and emit_joined
        mark, chunk = self.take_mark(chunk)
        return mark + b"".join(self._take(line) for line in self.complete_lines(chunk))

    def close(self) -> bytes:
        if self.kind not in ("sse", "ndjson"):
            return super().close()
        if self.kind == "sse":
            out = super().close()
        else:
            rest, self._carry = self._carry, b""
            out = self._take(rest) if rest else b""
        self._end()
        return out + self._held.release()

    def emit(self, line: bytes) -> bytes:
        return self._take(line)

    def emit_joined(self, lines: list[bytes], joined: bytes, doc: Any) -> bytes:
        if not isinstance(doc, dict) or not self.fields.texts(doc):
            if not isinstance(doc, dict):
                self._end()  # a list: not a delta event, and the deltas are over
            self._held.push(HeldLine(self.joined_lines(lines, joined), b"", original=b"".join(lines)))
            return self._held.release()
        # A delta event spread over data lines: the stream carries on with it as one line.
        out, placed = [], False
        for line in lines:
            data = split_line(line, "sse")
            if data is None:
                out.append(self._take(line))
            elif not placed:
                placed = True
                out.append(self._take(data[0] + orjson.dumps(doc) + data[2]))
        return b"".join(out)

    # -- lines -------------------------------------------------------------------------

    def _take(self, raw: bytes) -> bytes:
        field = sse_field(raw) if self.kind == "sse" else None
        if field is not None and field[0] != b"data":
            # event:, id:, comments: redacted on their own; they neither carry nor end deltas.
            self._held.push(HeldLine(self.redact_line(raw), b"", original=raw))
            return self._held.release()
        parts = split_line(raw, self.kind)
        doc = None
        if parts is not None:
            try:
                doc = orjson.loads(parts[1])
            except orjson.JSONDecodeError:
                pass
        if not isinstance(doc, dict):
            if parts is not None:
                self._end()  # "[DONE]", text, a list: not a delta event, and the deltas are over
            self._held.push(HeldLine(self.redact_line(raw) if parts is not None else raw, b"", original=raw))
            return self._held.release()
        assert parts is not None
        texts = self.fields.texts(doc)
        if not texts:
            line = HeldLine(self.redact_line(raw), b"", original=raw)
        else:
            line = self._event(raw, parts, doc, texts)
        self._held.push(line)
        for key, path, text in texts:
            channel = self._channels.get(key)
            if channel is None:
                name = path[-1] if isinstance(path[-1], str) else ""
                channel = self._channels[key] = _Text(name)
            channel.add(line, path, text)
            self._advance(key, final=False)
        if self.fields.ends(doc) or len(self._held) > self.max_held_lines or self._held.bytes > self.max_held_bytes:
            self._end()
        return self._held.release()

    def _event(
        self, raw: bytes, parts: tuple[bytes, bytes, bytes], doc: dict[str, Any], texts: list[tuple[ChannelKey, Path, str]]
    ) -> HeldLine:
        """The held line of a delta event: its other fields redacted as the line alone would be
        (the deltas blanked meanwhile: the stream redacts them, and counts them, itself)."""
        prefix, _, ending = parts
        for _, path, _ in texts:
            set_at(doc, path, "")
        blank = orjson.dumps(doc)
        redacted = self.redact_payload(blank, "application/json")
        if redacted != blank:
            doc = orjson.loads(redacted)
            line = HeldLine(b"", ending, prefix, doc, original=raw)
            for _, path, text in texts:
                set_at(doc, path, text)  # the original delta: the stream settles its final text
            line.raw = prefix + orjson.dumps(doc) + ending
            self.changed = True
            return line
        for _, path, text in texts:
            set_at(doc, path, text)
        return HeldLine(raw, ending, prefix, doc, original=raw)

    def _end(self) -> None:
        for key in list(self._channels):
            self._advance(key, final=True)

    # -- text --------------------------------------------------------------------------

    def _advance(self, key: ChannelKey, final: bool) -> None:
        """Redact and settle the channel's complete segments (all of its text when ``final``)."""
        channel = self._channels[key]
        before = channel.before
        full = before + channel.text()
        cuts = self._cuts(full, len(before), final, channel.name)
        replacements = self._redact(channel, full, len(before), cuts) if cuts else []
        end = cuts[-1] if cuts else len(before)
        channel.before = full[:end][-self.look_behind :]
        channel.settle(replacements, end - len(before))  # at 0 it settles only empty deltas
        if final:
            del self._channels[key]

    def _cuts(self, full: str, start: int, final: bool, name: str = "") -> list[int]:
        """Segment ends in ``full[start:]`` (``full[:start]`` is settled look-behind), in order.

        A function of the text alone: a gap is a cut once both its neighbours are known, and a
        segment with no cut in its first ``max_window`` characters is cut there, or just before
        or after a value that would run across (:meth:`_forced_cut`)."""
        cuts: list[int] = []
        seg, limit = start, self.max_window
        undecided = len(full)  # where the first gap not decided yet ends
        for gap in _GAP.finditer(full, start):
            gap_end = gap.end()
            plain = self._plain_gap(full, gap.start(), gap_end, final) if gap_end < len(full) or final else None
            if plain is None:
                undecided = gap_end
                break
            while gap_end - seg > limit:  # no cut in the window: cut at its end
                forced = self._forced_cut(full, seg, final, name)
                if forced is None:
                    return cuts  # what runs across the window's end is not known yet
                seg = forced
                cuts.append(seg)
            if plain and gap_end > seg:
                cuts.append(gap_end)
                seg = gap_end
        if final:
            while len(full) - seg > limit:
                forced = self._forced_cut(full, seg, final, name)
                assert forced is not None  # final: all the text is known
                seg = forced
                cuts.append(seg)
            return cuts + [len(full)] if len(full) > seg else cuts
        # Every gap ending inside the window is decided and none was a cut: it ends there.
        while len(full) > seg + limit and undecided > seg + limit:
            forced = self._forced_cut(full, seg, final, name)
            if forced is None:
                break
            seg = forced
            cuts.append(seg)
        return cuts

    def _forced_cut(self, full: str, seg: int, final: bool, name: str) -> int | None:
        """Where a segment starting at ``seg`` with no gap to cut at ends: ``max_window`` characters
        on, moved to the start (or, for a value that starts the segment, the end) of a value found
        across that point within ``look_behind`` characters on either side. None: the text after
        the point is not all there yet. A function of the text alone, like every cut; a value
        cut there would be scanned in two halves, and its head released unread."""
        cut = seg + self.max_window
        ahead = cut + self.look_behind
        if len(full) < ahead and not final:
            return None
        view = self._view
        scope = view.scope(view.everywhere) if view.everywhere else None
        if scope is None or not scope.detectors:
            return cut
        lead = max(seg, cut - self.look_behind)
        for hit in scope.detectors.scan([full[lead:ahead]], [name]):
            start, end = lead + hit.start, lead + hit.end
            if start < cut < end:
                return start if start > seg else min(end, len(full))
        return cut

    @staticmethod
    def _plain_gap(full: str, gap_start: int, gap_end: int, final: bool) -> bool | None:
        """Whether both neighbours of the gap are plain words (None: not known yet)."""
        left_words = full[max(0, gap_start - _WORD) : gap_start].rsplit(None, 1)
        left = left_words[-1] if left_words else ""
        right_words = full[gap_end : gap_end + _WORD].split(None, 1)
        right = right_words[0] if right_words else ""
        if _DIGIT.search(left) or _DIGIT.search(right) or left.isupper():
            return False
        if len(right) < _WORD and gap_end + len(right) == len(full) and not final:
            return None  # the word after the gap may still grow a digit or lose its small letters
        return not right.isupper()

    def _redact(self, channel: _Text, full: str, start: int, cuts: list[int]) -> list[Replacement]:
        """Each segment scanned with the look-behind before it; replacements in channel text."""
        view = self._view
        scope = view.scope(view.everywhere) if view.everywhere else None
        if scope is None or not scope.detectors:
            return []
        windows, offsets, seg = [], [], start
        for cut in cuts:
            lead = max(0, seg - self.look_behind)
            windows.append(full[lead:cut])
            offsets.append((lead, seg - lead))
            seg = cut
        replacements: list[Replacement] = []
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for hit in scope.detectors.scan(windows, [channel.name] * len(windows)):
            lead, own = offsets[hit.which]
            if hit.end <= own:
                continue  # a value in the look-behind: settled with its own segment
            first = max(hit.start, own)  # a value cut by the window's edge: its rest, at least
            found = windows[hit.which][first : hit.end]
            new, applied = scope.rewrite(found, [(0, len(found), hit.detector)], view.allows)
            for entity, binding, _, _ in applied:
                counts[(entity, binding.rule, binding.action_name, binding.mode)] += 1
            if new != found:
                replacements.append((lead + first - start, lead + hit.end - start, new or ""))
        self.counts.update(counts)
        self.changed = self.changed or bool(replacements)
        return replacements
