"""Rewrite a JSON body in its bytes, without walking the parsed document.

For a view with no path selectors (the default policy, and any policy that
only classifies field names and scans with detectors), what changes in a body
is decided by things visible in its bytes: a key whose words classify it,
a detector candidate inside a string, a number big enough to hold an entity,
a context word, an escape. The body's way through, in order:

1. **Check** (:mod:`veil.rules.json_bytes`): one valid document (simdjson),
   within the depth limit; escapes masked so its structure can be read with
   ``find`` and quote parity.
2. **Locate**: one RE2 pass over the masked body (``View.splice_events``) finds
   the events; every string holding an escape is an event too (an escape can
   hide text from a pass over bytes). Everything between events is never
   looked at by Python.
3. **Decide**: at each event, the string, key or number it falls in is read
   (decoded where it holds an escape) and decided: field-name class,
   detectors with their validators, allow lists, rule precedence.
4. **Rewrite**: each changed value is replaced in place (``_finish``), so every
   byte the policy does not cover stays byte-identical, whitespace and escapes
   included; a changed string is written as ``orjson`` writes it.

Semantics are those of the reference walk (:mod:`veil.rules.json_walk`; the
test suite runs both on random documents, escapes included, and compares):
the same values are covered, the same detector hits found, the same text
written, the same findings made. Where the bytes alone cannot decide cheaply,
:func:`splice_json` returns None and the caller walks the parsed document:
- nesting deeper than ``limits.max_depth`` (the walk reports the error);
- a body larger than ``limits.max_string_bytes`` (a string might be too long);
- a top-level scalar, or a document simdjson refuses (the parser's error, with
  its position, or integers beyond 64 bits);
- a detector hit inside a key (the walk renames keys), or a rewrite that
  removes a whole value (``drop``: container sizes change);
- parent-key lookups that would cost more than a walk (many ambiguous keys,
  ``name``, under keys like ``customers`` that can qualify them).

Findings are handed over in a :class:`Report` that makes them on first read,
from the output body (never the input).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import partial
from itertools import accumulate
from operator import itemgetter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from veil.rules.detectors.verdicts import digest, store
from veil.rules.json_bytes import (
    WS, Undecidable, depth_within, mask_escapes, skip_ws, skip_ws_back, string_text, valid_json,
)
from veil.rules.json_paths import TOKEN, Parents, PathIndex, key_before
from veil.rules.json_walk import BIG_NUMBER
from veil.rules.plan_types import Finding, Report
from veil.rules.raw_json import NUMBER_CHARS, NUMBER_START

if TYPE_CHECKING:
    from veil.rules.compiled import Binding
    from veil.rules.view import ScanScope, View

__all__ = ["KeyInfo", "splice_json"]

_QUOTE = 0x22
_COLON = 0x3A
_BACKSLASH = b"\\"
# Parent lookups cost a backward scan each; past 16, more than one per 512 bytes means the walk is cheaper.
_LOOKUPS_FREE = 16
_LOOKUP_BYTES = 512
# Keys of this shape (an ASCII letter, then letters, digits, '_' or '-') are a schema's
# names, not payload text: the key cache holds them as they are; any other key
# (``jane@example.com``, ``078-05-1120``, free text) by its keyed digest. A key a detector
# finds something in is never kept at all (the body takes the walk).
_IDENTIFIER_MAX = 64
# In a masked body: a key holding an escape, and an object or a list as its value.
_ESCAPED_HOLDER = re.compile(rb'[\x01\\][^"]*"[ \t\r\n]*:[ \t\r\n]*[\[{]')

Cover = tuple[str, "Binding"]
Count = tuple[str, str, str, str]
"""What a finding is counted under: (type, rule, action, mode), as ``Report.counts`` keys it."""


_ALLOWED = ("allowed",)  # what a value string may be remembered as, besides its hits
_NEEDS_FIELD = ("needs its field",)
_NOT_COVERED: Count = ("", "", "", "")  # what a key without a cover would count under: never counted


class KeyInfo:
    """What a key's own text says, kept per view across bodies, under the key if it is
    shaped like a name, else under its digest (``_cache_key``)."""

    __slots__ = ("count", "cover", "hits", "needle", "parent_matters", "placeholder")

    def __init__(self, cover: Cover | None, parent_matters: bool, needle: bool, hits: bool,
                 placeholder: bytes | None) -> None:
        self.cover = cover
        """Its field-name class and that class's binding (None if none, or if the parent decides)."""
        self.count: Count = _count(cover) if cover is not None else _NOT_COVERED
        self.placeholder = placeholder
        """What the cover writes for any string value, JSON-encoded (``View.splice_placeholders``)."""
        self.parent_matters = parent_matters
        self.needle = needle
        """It holds a context word of a detector that needs one."""
        self.hits = hits
        """A detector finds something in the key itself."""


def splice_json(view: View, body: bytes) -> tuple[bytes, Report, bool] | None:
    """(output, report, changed) for ``body``; None: parse and walk it instead (also when invalid,
    so that the parser reports the error with its position)."""
    limits = view.limits
    start = skip_ws(body, 0)
    if (
        body[start : start + 1] not in (b"{", b"[")
        or len(body) > limits.max_string_bytes
        or not valid_json(body)
    ):
        return None
    frame = mask_escapes(body)
    if not depth_within(body, frame, limits.max_depth):
        return None
    try:
        return _Splice(view, body, frame).run()
    except Undecidable:
        return None


def _is_name(raw: bytes) -> bool:
    return len(raw) <= _IDENTIFIER_MAX and raw[:1].isalpha() and raw.replace(b"_", b"a").replace(b"-", b"a").isalnum()


def _cache_key(raw: bytes) -> bytes:
    """What the key cache files ``raw`` under: itself for a schema-like name, else its digest."""
    return raw if _is_name(raw) else digest(raw)


def _known_key(keys: dict[bytes, KeyInfo], raw: bytes) -> KeyInfo | None:
    """The cached ``KeyInfo`` of the key ``raw``. Looked up as it stands first: only names are
    filed so, and a digest (16 bytes of a keyed hash) is no key's bytes but by chance."""
    info = keys.get(raw)
    if info is None and not _is_name(raw):
        info = keys.get(digest(raw))
    return info


class _Splice:
    __slots__ = (
        "view", "body", "frame", "escaped", "full", "reduced", "gate", "edits", "records", "pending",
        "_parents", "numbers", "qualified", "lookups",
    )

    def __init__(self, view: View, body: bytes, frame: bytes) -> None:
        self.view = view
        self.body = body
        self.frame = frame
        """``body`` with its escapes masked (``body`` itself without any): read for structure."""
        self.escaped = _BACKSLASH in body
        self.full: ScanScope | None = view.scope(view.everywhere) if view.everywhere else None
        self.reduced: ScanScope | None = view.splice_reduced
        self.gate = view.splice_gate
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
        escape = body.find(_BACKSLASH) if self.escaped else -1
        escaped: list[tuple[int, int]] = []  # value strings holding an escape
        m: Any = None
        exhausted = False  # no event left after pos: only escapes remain
        while pos < n:
            if not exhausted and (m is None or m.start() < pos):
                m = events.search(frame, pos)
                exhausted = m is None
            if 0 <= escape < pos:
                escape = body.find(_BACKSLASH, pos)
            p = m.start() if m is not None else n
            if 0 <= escape < p:
                p = escape  # always inside a string
            elif m is None:
                break
            if not frame.count(b'"', pos, p) & 1:  # outside strings
                if frame[p] != _QUOTE:
                    pos = self._number_event(p)
                    continue
                s = p + 1
            else:
                s = frame.rfind(b'"', 0, p) + 1
            e = frame.find(b'"', s)
            after = e + 1
            if frame[after] != _COLON:
                while frame[after] in WS:
                    after += 1
            if frame[after] == _COLON:  # a key
                # The common case inline: a known key whose class writes the same bytes
                # for every string value (redact), and no allow-list to consult.
                raw = body[s:e]
                info = keys.get(raw)  # a name, filed as it stands (see _known_key)
                if info is None and not _is_name(raw):
                    info = keys.get(digest(raw))
                if info is not None and info.placeholder is not None and open_values:
                    vs = after + 1
                    if frame[vs] != _QUOTE:
                        while frame[vs] in WS:
                            vs += 1
                    if frame[vs] == _QUOTE:
                        ve = frame.find(b'"', vs + 1)
                        records.append((vs, info.count, -1, -1))
                        out = info.placeholder
                        if body[vs : ve + 1] != out and (not self.escaped or self._differs(vs, ve, out)):
                            edits.append((vs, ve + 1, out))
                        pos = ve + 1
                        continue
                pos = self._key_event(s, e, after + 1, info)
                continue
            pos = e + 1
            if self.escaped and body.find(_BACKSLASH, s, e) >= 0:
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

    def _differs(self, vs: int, ve: int, out: bytes) -> bool:
        """Whether the string with quotes at ``vs`` and ``ve`` holds other text than ``out`` (JSON)."""
        raw = self.body[vs : ve + 1]
        if raw == out:
            return False
        if raw.find(_BACKSLASH) < 0:
            return True  # no escapes: equal bytes, equal text
        return bool(self.text(vs + 1, ve) != orjson.loads(out))

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
        if placeholders is None or not local.isascii() or _BACKSLASH in local:
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

    def _field_of(self, s: int, e: int) -> str:
        """The field name holding the value string at [s, e): its key, or "" in a list."""
        frame = self.frame
        j = skip_ws_back(frame, s - 2)
        if frame[j] == _COLON:
            return key_before(self.body, frame, j)
        return ""

    def _scan_whole(self, s: int, e: int, text: str, fname: str) -> None:
        full = self.full
        if full is None or text in self.view.allow_values:
            return
        hits = full.detectors.scan([text], [fname])
        if hits:
            self._rewrite(s, e, [(h.start, h.end, h.detector) for h in hits], full, text)

    # -- decide: keys --------------------------------------------------------------

    def _key_event(self, s: int, e: int, colon_end: int, info: KeyInfo | None) -> int:
        """Handle the key at [s, e); return where the search resumes."""
        body = self.body
        frame = self.frame
        if info is None:
            info = self._key_info(s, e)
        if info.hits:
            raise Undecidable
        cover = info.cover
        if info.parent_matters:
            classifier = self.view.classifier
            assert classifier is not None
            if self.qualified is None:  # asked once per body, on its first key whose parent matters
                parents = self.view.splice_parents
                self.qualified = parents is not None and (
                    parents.search(frame) is not None
                    # a key written with escapes may spell a qualifying word the pattern cannot see
                    or (self.escaped and _ESCAPED_HOLDER.search(frame) is not None)
                )
            parent = None
            if self.qualified:
                self.lookups += 1
                if self.lookups > _LOOKUPS_FREE and self.lookups * _LOOKUP_BYTES > len(body):
                    raise Undecidable  # the walk knows every parent for free: cheaper when they are this dense
                parent = self.parents().of_key(s - 1)
            entity = classifier.classify(self.text(s, e), parent)
            binding = self.view.classify_bindings.get(entity) if entity else None
            cover = (entity, binding) if entity and binding is not None else None
        vs = colon_end
        while frame[vs] in WS:
            vs += 1
        if cover is not None:
            if frame[vs] == _QUOTE:
                ve = frame.find(b'"', vs + 1)
                self._cover_string(vs, ve, cover)
            else:
                ve = self._cover(vs, cover)
            return ve + 1
        if info.needle and frame[vs] == _QUOTE:
            ve = frame.find(b'"', vs + 1)
            self._scan_whole(vs + 1, ve, self.text(vs + 1, ve), self.text(s, e))
            return ve + 1
        return e + 1

    def _key_info(self, s: int, e: int) -> KeyInfo:
        view = self.view
        key = self.text(s, e)
        classifier = view.classifier if view.classify_bindings else None
        parent_matters = classifier is not None and classifier.parent_matters(key)
        cover = None
        if classifier is not None and not parent_matters:
            entity = classifier.classify(key, None)
            binding = view.classify_bindings.get(entity) if entity else None
            cover = (entity, binding) if entity and binding is not None else None
        needle = self.gate is not None and self.gate.search(key.encode("utf-8", "surrogatepass")) is not None
        hits = False
        if self.full is not None:
            hits = any(not view.allows(key[h.start : h.end]) for h in self.full.detectors.scan([key], [""]))
        placeholder = view.splice_placeholders.get(cover[0]) if cover is not None and not hits else None
        info = KeyInfo(cover, parent_matters, needle, hits, placeholder)
        if not hits:  # a key holding a finding is payload: never kept (the body takes the walk anyway)
            store(view.splice_keys, _cache_key(self.body[s:e]), info)
        return info

    # -- decide: covered values ------------------------------------------------------

    def _cover_string(self, vs: int, ve: int, cover: Cover) -> None:
        """Apply ``cover`` to the string whose quotes are at ``vs`` and ``ve``."""
        view = self.view
        text = None
        if view.allow_values or view.allow_pattern is not None:
            text = self.text(vs + 1, ve)
            if view.allows(text):
                return
        self.records.append((vs, _count(cover), -1, -1))
        binding = cover[1]
        if not binding.enforced:
            return
        action = binding.action
        if action.removes:
            raise Undecidable
        out = view.splice_placeholders.get(cover[0])  # the same bytes for every value (redact)
        if out is None:
            out = orjson.dumps(action.apply(text if text is not None else self.text(vs + 1, ve), cover[0]))
        if self._differs(vs, ve, out):
            self.edits.append((vs, ve + 1, out))

    def _cover(self, vs: int, cover: Cover) -> int:
        """Apply ``cover`` to the non-string value at ``vs`` and every scalar inside it; return its last byte."""
        frame = self.frame
        c = frame[vs]
        if c != 0x7B and c != 0x5B:  # { [
            end = vs
            while end < len(frame) and frame[end] not in b",}] \t\r\n":
                end += 1
            self._cover_scalar(vs, end, cover)
            return end - 1
        # A container: every scalar inside is covered; its keys are only scanned.
        if cover[1].mode == "enforce" and cover[1].action.removes:
            raise Undecidable  # the walk drops empty containers and list items
        objects: list[bool] = []  # per open container: is it an object
        expect_key = False
        for m in TOKEN.finditer(frame, vs):
            t = m.group()
            c = t[0]
            if c == 0x7B or c == 0x5B:
                objects.append(c == 0x7B)
                expect_key = c == 0x7B
            elif c == 0x7D or c == 0x5D:
                objects.pop()
                if not objects:
                    return m.start()
            elif c == 0x2C:  # ,
                expect_key = objects[-1]
            elif c == _COLON:
                expect_key = False
            elif expect_key:
                ks, ke = m.start() + 1, m.end() - 1
                info = _known_key(self.view.splice_keys, self.body[ks:ke]) or self._key_info(ks, ke)
                if info.hits:
                    raise Undecidable
            elif c == _QUOTE:
                self._cover_string(m.start(), m.end() - 1, cover)
            else:
                self._cover_scalar(m.start(), m.end(), cover)
        raise AssertionError("unbalanced JSON passed the parser")  # pragma: no cover

    def _cover_scalar(self, vs: int, ve: int, cover: Cover) -> None:
        """A covered number or boolean: written as the string the walk would make of it."""
        raw = self.body[vs:ve]
        if raw == b"null":
            return
        value = orjson.loads(raw)
        text = ("true" if value else "false") if type(value) is bool else repr(value) if type(value) is float else str(value)
        if self.view.allows(text):
            return
        entity, binding = cover
        self.records.append((vs, _count(cover), -1, -1))
        if not binding.enforced:
            return
        if binding.action.removes:
            raise Undecidable
        self.edits.append((vs, ve, orjson.dumps(binding.action.apply(text, entity))))

    # -- decide: numbers -------------------------------------------------------------

    def _number_event(self, p: int) -> int:
        """An event outside strings: a number big enough to scan, or nothing."""
        frame = self.frame  # a number reads the same in the body and in its masked copy
        ns = p
        if frame[p] in NUMBER_CHARS:
            while ns > 0 and frame[ns - 1] in NUMBER_CHARS:
                ns -= 1
        else:
            ns = skip_ws(frame, p + 1)
            if ns >= len(frame) or frame[ns] not in NUMBER_START:
                return p + 1
        if frame[ns] not in NUMBER_START:  # a letter of true/false/null
            return p + 1
        ne = ns
        while ne < len(frame) and frame[ne] in NUMBER_CHARS:
            ne += 1
        if self.full is None:
            return ne
        value = orjson.loads(frame[ns:ne])
        if -BIG_NUMBER < value < BIG_NUMBER:
            return ne
        text = repr(value) if type(value) is float else str(value)
        before = skip_ws_back(frame, ns - 1)
        if frame[before] == _COLON:  # a member: its key is the context
            field = key_before(self.body, frame, before)
            if not field:  # an empty key: as in the walk, the key holding the object
                ke = frame.rfind(b'"', 0, before)
                field = self.parents().of_key(frame.rfind(b'"', 0, ke)) or ""
        else:  # a list item: the key holding the list
            field = self.parents().of_item(ns) or ""
        memo_key = (text, field)
        spans = self.numbers.get(memo_key)
        if spans is None:
            spans = [(h.start, h.end, h.detector) for h in self.full.detectors.scan([text], [field])]
            self.numbers[memo_key] = spans
        if spans:
            self._rewrite(ns, ne, spans, self.full, text, number=True)
        return ne

    # -- rewrite ---------------------------------------------------------------------

    def _rewrite(self, s: int, e: int, spans: Sequence[tuple[int, int, int]], scope: ScanScope,
                 text: str, number: bool = False) -> None:
        """Apply detector hits in the string at [s, e) (or the number at [s, e)) whose text is ``text``."""
        new, applied = scope.rewrite(text, spans, self.view.allows)
        at = s if number else s - 1
        for entity, binding, start, end in applied:
            self.records.append((at, _count((entity, binding)), start, end))
        if new is None:
            raise Undecidable
        if new != text:
            self.edits.append((at, e if number else e + 1, orjson.dumps(new)))

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
        # The report renders paths from the output, the bytes that cross the boundary anyway
        # (the input itself only when nothing changed, so that it crosses as it is); the
        # records' offsets move to the output only if a finding is read.
        report = Report.deferred([r[1] for r in records], partial(_findings, records, edits, PathIndex(out)), bool(edits))
        return out, report, bool(edits)


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


def _count(cover: Cover) -> Count:
    entity, b = cover
    return entity, b.rule, b.action_name, b.mode


def _findings(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]],
              paths: PathIndex) -> tuple[Finding, ...]:
    if edits:
        _shift(records, edits)
    paths.wanted = {r[0] for r in records}
    return tuple(
        Finding(entity, rule, action, "body", partial(paths.render, at), mode, start, end)
        for at, (entity, rule, action, mode), start, end in records
    )
