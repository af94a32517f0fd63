"""Decide a JSON body's value strings in its bytes: detectors, validators, allow lists.

Part of the splice path (:mod:`veil.rules.json_splice` locates the events): a value string
seen before costs a digest and a lookup (its hits are kept as offsets, never text); strings
not seen before wait in ``pending`` and are decided together by one scan; strings holding
an escape are decoded together and searched as text, so an escape cannot hide a value.
Keys, the values they cover and numbers are :mod:`veil.rules.splice_keys`' part.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import orjson

from veil.rules.detectors.verdicts import digest, store
from veil.rules.json_bytes import Undecidable
from veil.rules.splice_keys import KeyDecisions
from veil.rules.splice_state import BACKSLASH

_ALLOWED = ("allowed",)  # what a value string may be remembered as, besides its hits
_NEEDS_FIELD = ("needs its field",)


class ValueDecisions(KeyDecisions):
    """The value-string steps of a splice."""

    __slots__ = ()

    def _escaped_values(self, strings: list[tuple[int, int]]) -> None:
        """Decide the value strings holding escapes: the pass over the body cannot see through
        them, so the same events pattern runs over their decoded texts.

        All of them are decoded by one parse, and searched in one buffer where each text
        stands between quotes, as it would in a body written without escapes (the quotes
        are string edges in the events pattern). A search resumes at the start of the text
        after the one it found something in, so a match running on past a text's end never
        hides the next text's. Only texts with an event are decided; most free text has none.
        """
        events = self.view.splice_events
        body = self.body
        try:
            texts: list[str] = orjson.loads(b"[" + b",".join(body[s - 1 : e + 1] for s, e in strings) + b"]")
        except orjson.JSONDecodeError:
            raise Undecidable from None  # a lone surrogate escape: the walk's parser reports it
        assert events is not None  # see run()
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        joined = b'"' + b'"'.join(encoded) + b'"'
        # Where each text's opening quote stands: a match may start there (a detector's
        # leading edge takes the quote), and belongs to the text after it.
        opens = list(accumulate((len(t) + 1 for t in encoded), initial=0))
        k = 0
        while k < len(texts):
            m = events.search(joined, opens[k])
            if m is None:
                break
            k = bisect_right(opens, m.start()) - 1
            if k >= len(texts):
                break
            s, e = strings[k]
            self._value_string(s, e, texts[k])
            k += 1


    def _value_string(self, s: int, e: int, text: str | None = None) -> None:
        """Decide the value string at [s, e) whole, its detector hits remembered across bodies.

        Without a context word in the string, its hits depend only on its bytes (no
        detector left in the reduced set reads the field name): they are kept under a
        keyed digest, like the validators' verdicts, so a value seen before costs a
        lookup. What is kept is offsets and detector numbers, never text: the string
        is rewritten from the body each time. Strings not seen before wait in
        ``pending``: one scan decides them all.
        """
        reduced = self.reduced
        if reduced is None:  # no detectors: a value string changes only under a covered key
            return
        local = self.body[s:e]
        key = digest(local)
        outcome: Any = self.view.splice_strings.get(key)
        if outcome is None:
            if text is None:
                text = self.text(s, e)
            gate = self.gate
            if text in self.view.allow_values:
                store(self.view.splice_strings, key, _ALLOWED)
            elif gate is not None and gate.search(local if len(text) == e - s else text.encode("utf-8", "surrogatepass")) is not None:
                store(self.view.splice_strings, key, _NEEDS_FIELD)
                # A context word in the string: every detector may fire, with the field as context.
                self._scan_whole(s, e, text, self._field_of(s, e))
            else:
                self.pending.append((s, e, text, key))
            return
        if outcome is _ALLOWED or not outcome:  # allowed, or no hits
            return
        if outcome is _NEEDS_FIELD:
            self._scan_whole(s, e, text if text is not None else self.text(s, e), self._field_of(s, e))
            return
        if text is None and self._placed(s, e, local, outcome):
            return
        self._rewrite(s, e, outcome, reduced, text if text is not None else self.text(s, e))

    def _placed(self, s: int, e: int, local: bytes, spans: Sequence[tuple[int, int, int]]) -> bool:
        """Rewrite the value string at [s, e) in its bytes when every hit takes a fixed placeholder
        (redact) and its text is ASCII without escapes (its bytes are its text, and are what
        orjson would write): no decoding, no encoding. False: nothing done, take ``_rewrite``."""
        view = self.view
        placeholders = view.splice_reduced_placeholders
        if placeholders is None or not local.isascii() or BACKSLASH in local:
            return False
        pieces = [b'"']
        last = 0
        for start, end, det in spans:
            placeholder = placeholders[det]
            if placeholder is None:
                return False
            pieces.append(local[last:start])
            pieces.append(placeholder)
            last = end
        pieces.append(local[last:])
        pieces.append(b'"')
        counts = view.splice_reduced_counts
        records = self.records
        for start, end, det in spans:
            records.append((s - 1, counts[det], start, end))
        out = b"".join(pieces)
        if out != self.body[s - 1 : e + 1]:
            self.edits.append((s - 1, e + 1, out))
        return True

    def _decide_pending(self) -> None:
        """Scan the value strings not seen before in one pass of the reduced detectors, then apply
        and remember each one's hits (a pass per string cost more than the scan itself)."""
        pending = self.pending
        reduced = self.reduced
        assert reduced is not None
        spans: list[list[tuple[int, int, int]]] = [[] for _ in pending]
        for hit in reduced.detectors.scan([p[2] for p in pending], [""] * len(pending), remember=False):
            spans[hit.which].append((hit.start, hit.end, hit.detector))
        cache = self.view.splice_strings
        body = self.body
        for (s, e, text, key), found in zip(pending, spans):
            store(cache, key, tuple(found))
            if found and not self._placed(s, e, body[s:e], found):
                self._rewrite(s, e, found, reduced, text)
