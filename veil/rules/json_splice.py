"""Rewrite a JSON body in its bytes, without walking the parsed document.

For a view whose path selectors are ``fields`` ending at a named key and
counting no list items (``$.customer.email``, ``$..ssn``, ``$.items[*].card``;
the default policy has none), what changes in a body is decided by things
visible in its bytes: a key a field selector names (its path, read back from
the key, decides), a key whose words classify it, a detector candidate inside a
string, a number big enough to hold an entity, a context word, an escape.
Views with ``allow.fields``, ``scan.under``, or selectors with indices, slices
or a wildcard last step are walked (``View.splice_ready``). The body's way
through, in order:

1. **Check** (:mod:`veil.rules.json_bytes`): one valid document (simdjson),
   within the depth limit; escapes masked so its structure can be read with
   ``find`` and quote parity.
2. **Locate**: one RE2 pass over the masked body (``View.splice_events``) finds
   the events; every string holding an escape is an event too (an escape can
   hide text from a pass over bytes). Everything between events is never
   looked at by Python.
3. **Decide**: at each event, the string, key or number it falls in is read
   (decoded where it holds an escape) and decided: field-name class,
   detectors with their validators, allow lists, rule precedence. Value
   strings are decided here; keys, the values they cover and numbers in
   :mod:`veil.rules.splice_keys`; what every step shares (the body, its masked
   copy, the edits and findings) lives in :mod:`veil.rules.splice_state`.
4. **Rewrite**: each changed value is replaced in place (``_finish``), so every
   byte the policy does not cover stays byte-identical, whitespace and escapes
   included; a changed string is written as ``orjson`` writes it.

Semantics are those of the reference walk (:mod:`veil.rules.json_walk`; the
test suite runs both on random documents, escapes included, and compares):
the same values are covered, the same detector hits found, the same text
written, the same findings made. Where the bytes alone cannot decide cheaply,
:func:`splice_json` returns None and the caller walks the parsed document:
- nesting deeper than ``limits.max_depth`` (the walk reports the error);
- a body with a string longer as written than ``limits.max_string_bytes`` (the
  walk reports it if it would read it);
- a top-level scalar, or a document simdjson refuses (the parser's error, with
  its position, or integers beyond 64 bits);
- a detector hit inside a key (the walk renames keys), or a rewrite that
  removes a whole value (``drop``: container sizes change);
- parent-key lookups that would cost more than a walk (many ambiguous keys,
  ``name``, under keys like ``customers`` that can qualify them);
- in a view with field selectors, a selector or a class that covers an object
  or a list (a selector ending below it may override the cover there).

Findings are handed over in a :class:`Report` that makes them on first read,
from the output body (or a copy of it without the values found, when some are left in it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import partial
from itertools import accumulate
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from veil.rules.detectors.verdicts import digest, store
from veil.rules.json_bytes import WS, Undecidable, depth_within, mask_escapes, skip_ws, strings_within, valid_json
from veil.rules.json_paths import TOKEN, PathIndex
from veil.rules.plan_types import Finding, Report
from veil.rules.splice_keys import KeyDecisions, KeyInfo
from veil.rules.splice_state import BACKSLASH, COLON, QUOTE, Count

if TYPE_CHECKING:
    from veil.rules.view import View

__all__ = ["KeyInfo", "splice_json"]

_ALLOWED = ("allowed",)  # what a value string may be remembered as, besides its hits
_NEEDS_FIELD = ("needs its field",)


def splice_json(view: View, body: bytes) -> tuple[bytes, Report, bool] | None:
    """(output, report, changed) for ``body``; None: parse and walk it instead (also when invalid,
    so that the parser reports the error with its position)."""
    limits = view.limits
    start = skip_ws(body, 0)
    if body[start : start + 1] not in (b"{", b"[") or not valid_json(body):
        return None
    frame = mask_escapes(body)
    if not strings_within(frame, limits.max_string_bytes) or not depth_within(body, frame, limits.max_depth):
        return None
    try:
        return _Splice(view, body, frame).run()
    except Undecidable:
        return None


class _Splice(KeyDecisions):
    """Runs one body's events (locate), its value strings (decide) and its edits (rewrite)."""

    __slots__ = ()

    # -- locate ----------------------------------------------------------------

    def run(self) -> tuple[bytes, Report, bool]:
        # The search always resumes outside strings, so the parity of the quotes
        # between there and an event says whether the event is inside a string.
        # It resumes past a covered value, never inside one: the cover decided it whole.
        # The body is valid JSON with a container at the top: a string is always
        # followed by another byte, so no index below runs past the end.
        body = self.body
        frame = self.frame
        events = self.view.splice_events
        if events is None:  # pragma: no cover  # a view ready to splice always has its pattern
            raise Undecidable
        n = len(body)
        pos = 0
        keys = self.view.splice_keys
        records = self.records
        edits = self.edits
        open_values = not self.view.allow_values and self.view.allow_pattern is None
        # The next backslash: the string holding it is an event whatever the pass finds.
        escape = body.find(BACKSLASH) if self.escaped else -1
        escaped: list[tuple[int, int]] = []  # value strings holding an escape
        named = self.named
        fields, field_names = self.view.splice_field_raw, self.view.splice_field_names
        seen_keys: dict[bytes, KeyInfo] = {}
        has_escapes = self.escaped
        at = -1  # where the pass's next event starts; n: none left after pos, only escapes remain
        while pos < n:
            if at < pos:
                m = events.search(frame, pos)
                at = n if m is None else m.start()
            if 0 <= escape < pos:
                escape = body.find(BACKSLASH, pos)
            p = at
            if 0 <= escape < p:
                p = escape  # always inside a string
            elif at == n:
                break
            if p != escape and not frame.count(b'"', pos, p) & 1:  # outside strings (a backslash never is)
                if frame[p] != QUOTE:
                    pos = self._number_event(p)
                    continue
                s = p + 1
            else:
                s = frame.rfind(b'"', 0, p) + 1
            e = frame.find(b'"', s)
            after = e + 1
            if frame[after] != COLON:
                while frame[after] in WS:
                    after += 1
            if frame[after] == COLON:  # a key
                raw = body[s:e]
                if field_names and (raw in fields or (BACKSLASH in raw and self.text(s, e) in field_names)):
                    resume = self._field_event(s, e, after + 1)
                    if resume >= 0:
                        pos = resume
                        continue
                # The common case inline: a known key whose class writes the same bytes
                # for every string value (redact), and no allow-list to consult.
                # A body repeats its keys: each is digested once per body (this dict dies with the call).
                info = seen_keys.get(raw)
                if info is None:
                    info = keys.get(digest(raw))  # as splice_keys.known_key: filed by digest, never as text
                    if info is not None:
                        seen_keys[raw] = info
                if info is not None and info.placeholder is not None and open_values:
                    vs = after + 1
                    if frame[vs] != QUOTE:
                        while frame[vs] in WS:
                            vs += 1
                    if frame[vs] == QUOTE:
                        ve = frame.find(b'"', vs + 1)
                        records.append((vs, info.count, -1, -1))
                        out = info.placeholder
                        was = body[vs : ve + 1]
                        if was != out and (BACKSLASH not in was or self._differs(vs, ve, out)):
                            edits.append((vs, ve + 1, out))
                        pos = ve + 1
                        continue
                pos = self._key_event(s, e, after + 1, info)
                continue
            pos = e + 1
            if named and s - 1 in named:  # a list item a role key covered as a name
                continue
            if has_escapes and (p == escape or body.find(BACKSLASH, s, e) >= 0):
                escaped.append((s, e))  # read through its escapes below, with the others
                continue
            self._value_string(s, e)
        if escaped:
            self._escaped_values(escaped)
        if self.pending:
            self._decide_pending()
        return self._finish()

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


    # -- decide: value strings -----------------------------------------------------

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


    # -- decide: keys --------------------------------------------------------------


    # -- decide: covered values ------------------------------------------------------


    # -- decide: numbers -------------------------------------------------------------


    # -- rewrite ---------------------------------------------------------------------


    def _finish(self) -> tuple[bytes, Report, bool]:
        records = self.records
        records.sort(key=_AT)
        edits = self.edits
        if not edits:
            out = self.body
        else:
            edits.sort()  # edits never overlap: their starts differ
            body = self.body
            pieces: list[bytes] = []
            last = 0
            for start, end, new in edits:
                pieces.append(body[last:start])
                pieces.append(new)
                last = end
            pieces.append(body[last:])
            out = b"".join(pieces)
        # The report renders paths, if one is read, from the output: the bytes that cross the
        # boundary anyway, with every finding rewritten. Never from the input (the report may
        # outlive the call), nor from an output that still holds a finding (detect mode, keep):
        # then from a copy with those values blanked (``_blanked``).
        changed = bool(edits)
        counts = [r[1] for r in records]
        if records and not _all_rewritten(records, edits, changed):
            _shift(records, edits)
            edits = []
            held = _blanked(out, records)
        else:
            held = out
        report = Report.deferred(counts, partial(_findings, records, edits, PathIndex(held)), changed)
        return out, report, changed


def _shift(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]]) -> None:
    """Move the records' offsets (both lists sorted) from the input to the output.

    A record sits at the start of an edited value or outside every edit, so its
    offset moves by the growth of the edits that start before it.
    """
    shift = 0
    i = 0
    n = len(edits)
    for r, (at, count, start, end) in enumerate(records):
        while i < n and edits[i][0] < at:
            edit_start, edit_end, new = edits[i]
            shift += len(new) - (edit_end - edit_start)
            i += 1
        if shift:
            records[r] = (at + shift, count, start, end)


_AT = itemgetter(0)


def _all_rewritten(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]],
                   changed: bool) -> bool:
    """Whether every record's value was rewritten by an enforced action (edits start where records do)."""
    if not changed:
        return False
    starts = {edit[0] for edit in edits}
    return all(at in starts and count[3] == "enforce" and count[2] != "keep" for at, count, _, _ in records)


def _blanked(out: bytes, records: list[tuple[int, Count, int, int]]) -> bytes:
    """A copy of ``out`` with the value at each record's offset (in ``out``) overwritten by ``*``.

    Same length, same structure and keys: paths render from it as from ``out``, and no
    value a finding was made for is in it."""
    frame = mask_escapes(out)
    pieces: list[bytes] = []
    last = 0
    for at in sorted({r[0] for r in records}):
        if frame[at] == QUOTE:
            start, end = at + 1, frame.find(b'"', at + 1)
        else:  # a number or a literal
            start, end = at, TOKEN.match(frame, at).end()  # type: ignore[union-attr]
        pieces.append(out[last:start])
        pieces.append(b"*" * (end - start))
        last = end
    pieces.append(out[last:])
    return b"".join(pieces)


def _findings(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]],
              paths: PathIndex) -> tuple[Finding, ...]:
    if edits:
        _shift(records, edits)
    paths.wanted = {r[0] for r in records}
    return tuple(
        Finding(entity, rule, action, "body", partial(paths.render, at), mode, start, end)
        for at, (entity, rule, action, mode), start, end in records
    )
