"""What one splice of a JSON body holds, and the steps every kind of event shares.

:mod:`veil.rules.json_splice` locates the body's events; :mod:`veil.rules.splice_keys` decides
keys, the values they cover and numbers, :mod:`veil.rules.splice_values` value strings;
:mod:`veil.rules.splice_rewrite` writes the edits. All work on one :class:`SpliceState`: the body,
its masked copy (``json_bytes.mask_escapes``), the edits to make and the findings made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from veil.rules.json_bytes import Undecidable, key_before, skip_ws_back, string_text
from veil.rules.json_paths import Parents

if TYPE_CHECKING:
    from veil.rules.compiled import Binding
    from veil.rules.view import ScanScope, View

QUOTE = 0x22
COLON = 0x3A
BACKSLASH = b"\\"

Cover = tuple[str, "Binding"]
Count = tuple[str, str, str, str]
"""What a finding is counted under: (type, rule, action, mode), as ``Report.counts`` keys it."""


def count_of(cover: Cover) -> Count:
    entity, b = cover
    return entity, b.rule, b.action_name, b.mode


class SpliceState:
    __slots__ = (
        "view", "body", "frame", "escaped", "full", "reduced", "gate", "key_words", "edits", "records", "pending",
        "_parents", "numbers", "qualified", "lookups", "named", "field_states",
    )

    def __init__(self, view: View, body: bytes, frame: bytes) -> None:
        self.view = view
        self.body = body
        self.frame = frame
        """``body`` with its escapes masked (``body`` itself without any): read for structure."""
        self.escaped = BACKSLASH in body
        self.full: ScanScope | None = view.scope(view.everywhere) if view.everywhere else None
        self.reduced: ScanScope | None = view.splice_reduced
        self.gate = view.splice_gate
        self.key_words = view.splice_key_words
        self.edits: list[tuple[int, int, bytes]] = []
        # (offset of the value, what it counts as, start, end): made into findings on first read.
        self.records: list[tuple[int, Count, int, int]] = []
        # Value strings not seen before, decided together at the end: (s, e, text, digest).
        self.pending: list[tuple[int, int, str, bytes]] = []
        self._parents: Parents | None = None
        self.numbers: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        self.qualified: bool | None = None
        """Whether a parent key could change a class here (``View.splice_parents``)."""
        self.lookups = 0
        self.field_states: dict[int, frozenset[tuple[int, int]]] = {}
        """Where a container opens -> the field selectors' states inside it (``splice_keys._states_in``)."""
        self.named: set[int] = set()
        """Opening quotes of list items a role key covered as names (``splice_keys._shaped_cover``)."""

    def parents(self) -> Parents:
        """Made on first use: most bodies need no parent key."""
        if self._parents is None:
            self._parents = Parents(self.body, self.frame)
        return self._parents

    def text(self, s: int, e: int) -> str:
        """The text of the string whose content is at ``[s, e)``."""
        if self.escaped:
            return string_text(self.body, s, e)
        return self.body[s:e].decode("utf-8")

    def _differs(self, vs: int, ve: int, out: bytes) -> bool:
        """Whether the string with quotes at ``vs`` and ``ve`` holds other text than ``out`` (JSON)."""
        raw = self.body[vs : ve + 1]
        if raw == out:
            return False
        if raw.find(BACKSLASH) < 0:
            return True  # no escapes: equal bytes, equal text
        return bool(self.text(vs + 1, ve) != orjson.loads(out))

    def _field_of(self, s: int, e: int) -> str:
        """The field name holding the value string at [s, e): its key, or "" in a list."""
        frame = self.frame
        j = skip_ws_back(frame, s - 2)
        if frame[j] == COLON:
            return key_before(self.body, frame, j)
        return ""

    def _scan_whole(self, s: int, e: int, text: str, fname: str) -> None:
        full = self.full
        if full is None or text in self.view.allow_values:
            return
        hits = full.detectors.scan([text], [fname])
        if hits:
            self._rewrite(s, e, [(h.start, h.end, h.detector) for h in hits], full, text)

    def _rewrite(self, s: int, e: int, spans: Sequence[tuple[int, int, int]], scope: ScanScope,
                 text: str, number: bool = False) -> None:
        """Apply detector hits in the string at [s, e) (or the number at [s, e)) whose text is ``text``."""
        new, applied = scope.rewrite(text, spans, self.view.allows)
        at = s if number else s - 1
        for entity, binding, start, end in applied:
            self.records.append((at, count_of((entity, binding)), start, end))
        if new is None:
            raise Undecidable
        if new != text:
            self.edits.append((at, e if number else e + 1, orjson.dumps(new)))
