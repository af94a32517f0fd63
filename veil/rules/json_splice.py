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
   detectors with their validators, allow lists, rule precedence. Keys, the
   values they cover and numbers: :mod:`veil.rules.splice_keys`; value
   strings: :mod:`veil.rules.splice_values` (new ones wait and are scanned
   together at the end); what every step shares (the body, its masked copy,
   the edits and findings) lives in :mod:`veil.rules.splice_state`.
4. **Rewrite** (:mod:`veil.rules.splice_rewrite`): each changed value is
   replaced in place, so every byte the policy does not cover stays
   byte-identical, whitespace and escapes included; a changed string is
   written as ``orjson`` writes it.

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

from typing import TYPE_CHECKING

from veil.rules.detectors.verdicts import digest
from veil.rules.json_bytes import WS, Undecidable, depth_within, mask_escapes, skip_ws, strings_within, valid_json
from veil.rules.plan_types import Report
from veil.rules.splice_keys import KeyInfo
from veil.rules.splice_rewrite import finish
from veil.rules.splice_state import BACKSLASH, COLON, QUOTE
from veil.rules.splice_values import ValueDecisions

if TYPE_CHECKING:
    from veil.rules.view import View

__all__ = ["KeyInfo", "splice_json"]


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
    splice = _Splice(view, body, frame)
    try:
        splice.locate()  # deciding each event as it is found, and the new value strings at the end
    except Undecidable:
        return None
    return finish(body, splice.edits, splice.records)


class _Splice(ValueDecisions):
    """Locates one body's events and hands each to its decision (keys, covered values and
    numbers: :mod:`veil.rules.splice_keys`; value strings: :mod:`veil.rules.splice_values`)."""

    __slots__ = ()

    def locate(self) -> None:
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
