"""Rewrite a JSON body in its bytes, without walking the parsed document.

For a view with no path selectors (the default policy, and any policy that
only classifies field names and scans with detectors), what changes in a body
is decided by things visible in its raw bytes: a key whose words classify it,
a detector candidate inside a string, a number big enough to hold an entity,
a context word. One RE2 pass over the body (``View.splice_events``) finds all
of them; each match is an *event*, and everything between events is never
looked at by Python. Each changed value is replaced in place, so every byte
the policy does not cover stays byte-identical, whitespace included.

Semantics are those of :mod:`veil.rules.json_walk` (the test suite runs both
on random documents and compares): the same values are covered, the same
detector hits found, the same text written, the same findings made. Where
the bytes alone cannot decide cheaply, :func:`splice_json` returns None and
the caller walks the parsed document instead:
- a backslash anywhere (escapes change the text a raw scan would see);
- nesting deeper than ``limits.max_depth`` (the walk reports the error);
- a body larger than ``limits.max_string_bytes`` (a string might be too long);
- a top-level scalar;
- a detector hit inside a key (the walk renames keys), or a rewrite that
  removes a whole value (``drop``: container sizes change);
- parent-key lookups that would cost more than a walk (many ambiguous keys,
  ``name``, under keys like ``customers`` that can qualify them).

A body is rewritten only once ``valid_json`` has accepted it (simdjson, no Python objects).
Findings are handed over in a :class:`Report` that makes them on first read.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, insort
from functools import cache, partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson
import simdjson

from veil.rules.json_walk import BIG_NUMBER, PathNode, render_path
from veil.rules.plan_types import Finding, Report
from veil.rules.detectors.verdicts import digest, store
from veil.rules.raw_json import NUMBER_CHARS, NUMBER_START, WS, key_before, role_of

if TYPE_CHECKING:
    from veil.rules.compiled import Binding
    from veil.rules.view import ScanScope, View

_QUOTE = 0x22
# Parent lookups cost a backward scan each; past 16, more than one per 512 bytes means the walk is cheaper.
_LOOKUPS_FREE = 16
_LOOKUP_BYTES = 512

# A fixed, backtracking-free pattern over the body's own structure (not user
# input): Python's ``re`` iterates it faster than pyre2 does.
_TOKEN = re.compile(rb'"[^"]*"|[{}\[\],:]|[^\s{}\[\],:"]+')

Cover = tuple[str, "Binding"]
Count = tuple[str, str, str, str]
"""What a finding is counted under: (type, rule, action, mode), as ``Report.counts`` keys it."""


_ALLOWED = ("allowed",)  # outcomes of a value string besides (rewritten JSON or None, findings)
_NEEDS_FIELD = ("needs its field",)


class Fallback(Exception):
    """This body needs the walk."""


class KeyInfo:
    """What a key's own text says, kept per view across bodies."""

    __slots__ = ("count", "cover", "hits", "key", "needle", "parent_matters", "placeholder")

    def __init__(self, key: str, cover: Cover | None, parent_matters: bool, needle: bool, hits: bool,
                 placeholder: bytes | None) -> None:
        self.key = key
        self.cover = cover
        """Its field-name class and that class's binding (None if none, or if the parent decides)."""
        self.count = _count(cover) if cover is not None else None
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
    start = _skip_ws(body, 0)
    if (
        body[start : start + 1] not in (b"{", b"[")
        or b"\\" in body
        or len(body) > limits.max_string_bytes
        or not valid_json(body)
        or not _depth_within(body, limits.max_depth)
    ):
        return None
    try:
        return _Splice(view, body).run()
    except Fallback:
        return None


class _Splice:
    __slots__ = (
        "view", "body", "full", "reduced", "gate", "edits", "records",
        "_parents", "numbers", "qualified", "lookups",
    )

    def __init__(self, view: View, body: bytes) -> None:
        self.view = view
        self.body = body
        self.full: ScanScope | None = view.scope(view.everywhere) if view.everywhere else None
        self.reduced: ScanScope | None = view.splice_reduced
        self.gate = view.splice_gate
        self.edits: list[tuple[int, int, bytes]] = []
        # (offset of the value, what it counts as, start, end): made into findings on first read.
        self.records: list[tuple[int, Count, int, int]] = []
        self._parents: _Parents | None = None
        self.numbers: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        self.qualified: bool | None = None
        """Whether a parent key could change a class here (``View.splice_parents``)."""
        self.lookups = 0

    def parents(self) -> _Parents:
        """Made on first use: most bodies need no parent key."""
        if self._parents is None:
            self._parents = _Parents(self.body)
        return self._parents

    # -- the event loop ------------------------------------------------------

    def run(self) -> tuple[bytes, Report, bool]:
        # The search always resumes outside strings, so the parity of the quotes
        # between there and an event says whether the event is inside a string.
        # It resumes past a covered value, never inside one: the cover decided it whole.
        # The body is valid JSON with a container at the top: a string is always
        # followed by another byte, so no index below runs past the end.
        body = self.body
        events = self.view.splice_events
        n = len(body)
        pos = 0
        keys = self.view.splice_keys
        records = self.records
        edits = self.edits
        open_values = not self.view.allow_values and self.view.allow_pattern is None
        while events is not None and pos < n:
            m = events.search(body, pos)
            if m is None:
                break
            p = m.start()
            if not body.count(b'"', pos, p) & 1:  # outside strings
                if body[p] != _QUOTE:
                    pos = self._number_event(p)
                    continue
                s = p + 1
            else:
                s = body.rfind(b'"', 0, p) + 1
            e = body.find(b'"', s)
            after = e + 1
            if body[after] != 0x3A:
                while body[after] in WS:
                    after += 1
            if body[after] == 0x3A:  # ':' follows: a key
                # The common case inline: a known key whose class writes the same bytes
                # for every string value (redact), and no allow-list to consult.
                info = keys.get(body[s:e])
                if info is not None and info.placeholder is not None and open_values:
                    vs = after + 1
                    if body[vs] != _QUOTE:
                        while body[vs] in WS:
                            vs += 1
                    if body[vs] == _QUOTE:
                        ve = body.find(b'"', vs + 1)
                        records.append((vs, info.count, -1, -1))
                        if body[vs : ve + 1] != info.placeholder:
                            edits.append((vs, ve + 1, info.placeholder))
                        pos = ve + 1
                        continue
                pos = self._key_event(s, e, after + 1)
                continue
            self._value_string(s, e)
            pos = e + 1
        return self._finish()

    def _value_string(self, s: int, e: int) -> None:
        """Scan the value string at [s, e) whole, its outcome remembered across bodies.

        Without a context word in the string, the outcome depends only on its bytes
        (no detector left in the reduced set reads the field name): it is kept under
        a keyed digest, like the validators' verdicts, so a value seen before costs a
        lookup. An outcome holds the rewritten string and where its findings are:
        never a covered value in clear (one with a detect-mode hit is not kept).
        """
        reduced = self.reduced
        if reduced is None:  # no detectors: a value string changes only under a covered key
            return
        body = self.body
        local = body[s:e]
        key = digest(local)
        cache = self.view.splice_strings
        outcome: Any = cache.get(key)
        if outcome is None:
            text = local.decode("utf-8")
            gate = self.gate
            if text in self.view.allow_values:
                outcome = _ALLOWED
            elif gate is not None and gate.search(local) is not None:
                outcome = _NEEDS_FIELD
            else:
                hits = reduced.detectors.scan([text], [""])
                new, made = reduced.rewrite(text, [(h.start, h.end, h.detector) for h in hits], self.view.allows)
                if new is None:
                    raise Fallback  # every hit a drop: the walk removes the item
                outcome = (orjson.dumps(new) if new != text else None,
                           tuple((_count((entity, binding)), start, end) for entity, binding, start, end in made))
                if any(not binding.enforced for _, binding, _, _ in made):
                    # A detect-mode hit stays in the text in clear: used, never kept.
                    key = b""
            if key:
                store(cache, key, outcome)
        if outcome is _ALLOWED:
            return
        if outcome is _NEEDS_FIELD:
            # A context word in the string: every detector may fire, with the field as context.
            self._scan_whole(s, e, local.decode("utf-8"), role_of(body, s, e)[1])
            return
        out, applied = outcome
        at = s - 1
        for count, start, end in applied:
            self.records.append((at, count, start, end))
        if out is not None:
            self.edits.append((at, e + 1, out))

    def _scan_whole(self, s: int, e: int, text: str, fname: str) -> None:
        full = self.full
        if full is None or text in self.view.allow_values:
            return
        hits = full.detectors.scan([text], [fname])
        if hits:
            self._rewrite(s, e, [(h.start, h.end, h.detector) for h in hits], full)

    # -- keys ----------------------------------------------------------------

    def _key_event(self, s: int, e: int, colon_end: int) -> int:
        """Handle the key at [s, e); return where the search resumes."""
        body = self.body
        raw = body[s:e]
        info = self.view.splice_keys.get(raw) or self._key_info(raw)
        key = info.key
        if info.hits:
            raise Fallback
        cover = info.cover
        if info.parent_matters:
            classifier = self.view.classifier
            assert classifier is not None
            if self.qualified is None:  # asked once per body, on its first key whose parent matters
                parents = self.view.splice_parents
                self.qualified = parents is not None and parents.search(self.body) is not None
            parent = None
            if self.qualified:
                self.lookups += 1
                if self.lookups > _LOOKUPS_FREE and self.lookups * _LOOKUP_BYTES > len(self.body):
                    raise Fallback  # the walk knows every parent for free: cheaper when they are this dense
                parent = self.parents().of_key(s - 1)
            entity = classifier.classify(key, parent)
            binding = self.view.classify_bindings.get(entity) if entity else None
            cover = (entity, binding) if entity and binding is not None else None
        vs = colon_end
        while body[vs] in WS:
            vs += 1
        if cover is not None:
            if body[vs] == _QUOTE:
                ve = body.find(b'"', vs + 1)
                self._cover_string(vs, ve, cover)
            else:
                ve = self._cover(vs, cover)
            return ve + 1
        if info.needle and body[vs] == _QUOTE:
            ve = body.find(b'"', vs + 1)
            text = body[vs + 1 : ve].decode("utf-8")
            self._scan_whole(vs + 1, ve, text, key)
            return ve + 1
        return e + 1

    def _key_info(self, raw: bytes) -> KeyInfo:
        view = self.view
        key = raw.decode("utf-8")
        classifier = view.classifier if view.classify_bindings else None
        parent_matters = classifier is not None and classifier.parent_matters(key)
        cover = None
        if classifier is not None and not parent_matters:
            entity = classifier.classify(key, None)
            binding = view.classify_bindings.get(entity) if entity else None
            cover = (entity, binding) if entity and binding is not None else None
        needle = self.gate is not None and self.gate.search(key.encode("utf-8")) is not None
        hits = False
        if self.full is not None:
            hits = any(not view.allows(key[h.start : h.end]) for h in self.full.detectors.scan([key], [""]))
        placeholder = view.splice_placeholders.get(cover[0]) if cover is not None and not hits else None
        info = KeyInfo(key, cover, parent_matters, needle, hits, placeholder)
        store(view.splice_keys, raw, info)
        return info

    # -- covered values ------------------------------------------------------

    def _cover_string(self, vs: int, ve: int, cover: Cover) -> None:
        """Apply ``cover`` to the string whose quotes are at ``vs`` and ``ve``."""
        body = self.body
        view = self.view
        text = None
        if view.allow_values or view.allow_pattern is not None:
            text = body[vs + 1 : ve].decode("utf-8")
            if view.allows(text):
                return
        self.records.append((vs, _count(cover), -1, -1))
        binding = cover[1]
        if not binding.enforced:
            return
        action = binding.action
        if action.removes:
            raise Fallback
        out = view.splice_placeholders.get(cover[0])  # the same bytes for every value (redact)
        if out is None:
            out = orjson.dumps(action.apply(text if text is not None else body[vs + 1 : ve].decode("utf-8"), cover[0]))
        if out != body[vs : ve + 1]:  # no escapes in the body: equal bytes, equal text
            self.edits.append((vs, ve + 1, out))

    def _cover(self, vs: int, cover: Cover) -> int:
        """Apply ``cover`` to the non-string value at ``vs`` and every scalar inside it; return its last byte."""
        body = self.body
        c = body[vs]
        if c != 0x7B and c != 0x5B:  # { [
            end = vs
            while end < len(body) and body[end] not in b",}] \t\r\n":
                end += 1
            self._cover_scalar(vs, end, cover)
            return end - 1
        # A container: every scalar inside is covered; its keys are only scanned.
        if cover[1].mode == "enforce" and cover[1].action.removes:
            raise Fallback  # the walk drops empty containers and list items
        objects: list[bool] = []  # per open container: is it an object
        expect_key = False
        for m in _TOKEN.finditer(body, vs):
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
            elif c == 0x3A:  # :
                expect_key = False
            elif expect_key:
                key = t[1:-1]
                if (self.view.splice_keys.get(key) or self._key_info(key)).hits:
                    raise Fallback
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
            raise Fallback
        self.edits.append((vs, ve, orjson.dumps(binding.action.apply(text, entity))))

    # -- numbers ---------------------------------------------------------------

    def _number_event(self, p: int) -> int:
        """An event outside strings: a number big enough to scan, or nothing."""
        body = self.body
        ns = p
        if body[p] in NUMBER_CHARS:
            while ns > 0 and body[ns - 1] in NUMBER_CHARS:
                ns -= 1
        else:
            ns = _skip_ws(body, p + 1)
            if ns >= len(body) or body[ns] not in NUMBER_START:
                return p + 1
        if body[ns] not in NUMBER_START:  # a letter of true/false/null
            return p + 1
        ne = ns
        while ne < len(body) and body[ne] in NUMBER_CHARS:
            ne += 1
        if self.full is None:
            return ne
        value = orjson.loads(body[ns:ne])
        if -BIG_NUMBER < value < BIG_NUMBER:
            return ne
        text = repr(value) if type(value) is float else str(value)
        before = _skip_ws_back(body, ns - 1)
        if body[before] == 0x3A:  # a member: its key is the context
            field = key_before(body, before)
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

    # -- output ----------------------------------------------------------------

    def _rewrite(self, s: int, e: int, spans: list[tuple[int, int, int]], scope: ScanScope,
                 text: str | None = None, number: bool = False) -> None:
        """Apply detector hits in the string at [s, e) (or the number at [s, e) reading ``text``)."""
        if text is None:
            text = self.body[s:e].decode("utf-8")
        new, applied = scope.rewrite(text, spans, self.view.allows)
        at = s if number else s - 1
        for entity, binding, start, end in applied:
            self.records.append((at, _count((entity, binding)), start, end))
        if new is None:
            raise Fallback
        if new != text:
            self.edits.append((at, e if number else e + 1, orjson.dumps(new)))

    def _finish(self) -> tuple[bytes, Report, bool]:
        records = self.records
        records.sort(key=_AT)
        changed = bool(self.edits)
        report = Report.deferred([r[1] for r in records], partial(_findings, records, _PathIndex(self.body)), changed)
        edits = self.edits
        if not edits:
            return self.body, report, False
        edits.sort()  # edits never overlap: their starts differ
        body = self.body
        out: list[bytes] = []
        last = 0
        for start, end, new in edits:
            out.append(body[last:start])
            out.append(new)
            last = end
        out.append(body[last:])
        return b"".join(out), report, True


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"{}[]')
_AS_PARENS = bytes.maketrans(b"{}[]", b"()()")


_parsers = threading.local()


def valid_json(body: bytes) -> bool:
    """Whether ``body`` is one JSON document, checked without building Python objects.

    simdjson validates in C at several GB/s, 4-5x faster than ``orjson.loads`` on
    10 KB; the splice path needs only the verdict. A parser is reused per thread
    (simdjson parsers are not thread-safe) and keeps a buffer as large as the
    largest body it saw. It refuses integers beyond 64 bits, which orjson and the
    stdlib accept: those bodies take the walk, whose parser has the last word.
    """
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = simdjson.Parser()
    try:
        parser.parse(body)
    except (ValueError, RuntimeError):  # invalid JSON, bad UTF-8; BIGINT_ERROR is a RuntimeError
        return False
    return True


# Below this many bytes per allowed level, counting brackets usually settles the depth at once.
_COUNT_FIRST_BYTES_PER_LEVEL = 64


def _depth_within(body: bytes, limit: int) -> bool:
    """Whether ``body`` (valid JSON, no backslashes) nests at most ``limit`` containers deep."""
    if len(body) <= _COUNT_FIRST_BYTES_PER_LEVEL * limit and _few_openers(body, limit):
        return True
    return _within_by_parser(body, limit) or _counted_depth_within(body, limit)


def _few_openers(body: bytes, limit: int) -> bool:
    """At most ``limit`` brackets open outside strings: no need to count levels."""
    return body.translate(_AS_PARENS, _NOT_STRUCTURE).count(b"(") <= limit


def _within_by_parser(body: bytes, limit: int) -> bool:
    """True when simdjson proves ``body`` (valid JSON) at most ``limit`` deep; False: undecided.

    simdjson refuses documents nesting more than a fixed number of non-empty
    containers (an empty one at the bottom opens no level of its own, so the real
    depth may be one more). Wrapped in enough arrays that it accepts only bodies
    whose non-empty containers nest at most ``limit - 1`` deep, the body is at most
    ``limit`` deep if it parses. One parse in C, instead of a pass per level in
    Python: for a 100 KB body 3x faster than counting.
    """
    levels = _parser_levels()
    if levels is None:
        return False
    pad = levels - (limit - 1)
    if pad <= 0:
        return True  # the parser accepted the body, so it is within the parser's depth, and so within the limit
    return valid_json(b"[" * pad + body + b"]" * pad)


def _counted_depth_within(body: bytes, limit: int) -> bool:
    # Quotes and brackets only, one kind of pair (one pass over the body).
    nest = body.translate(_AS_PARENS, _NOT_STRUCTURE)
    # Two adjacent quotes have no bracket between them, so dropping them keeps
    # every structural bracket and the quotes' parity; what is left between
    # quotes is inside strings.
    nest = nest.replace(b'""', b"")
    if b'"' in nest:
        nest = b"".join(nest.split(b'"')[::2])
    for _ in range(limit):  # each pass removes exactly the innermost level
        nest = nest.replace(b"()", b"")
        if not nest:
            return True
    return False


@cache
def _parser_levels() -> int | None:
    """How many non-empty arrays simdjson nests (1023 in pysimdjson 7), found once by bisection;
    None if it takes the deepest probe (then its refusals prove nothing)."""
    low, high = 0, _DEEPEST_PROBE
    while low < high:
        mid = (low + high + 1) // 2
        if valid_json(b"[" * mid + b"0" + b"]" * mid):
            low = mid
        else:
            high = mid - 1
    return low if low < _DEEPEST_PROBE else None


_DEEPEST_PROBE = 1 << 14


_AT = itemgetter(0)


def _count(cover: Cover) -> Count:
    entity, b = cover
    return entity, b.rule, b.action_name, b.mode


def _findings(records: list[tuple[int, Count, int, int]], paths: _PathIndex) -> tuple[Finding, ...]:
    paths.wanted = {r[0] for r in records}
    return tuple(
        Finding(entity, rule, action, "body", partial(paths.render, at), mode, start, end)
        for at, (entity, rule, action, mode), start, end in records
    )


def _skip_ws(body: bytes, i: int) -> int:
    n = len(body)
    while i < n and body[i] in WS:
        i += 1
    return i


def _skip_ws_back(body: bytes, i: int) -> int:
    while i > 0 and body[i] in WS:
        i -= 1
    return i


class _Parents:
    """The walk's parent key for a position, found by scanning backwards.

    The parent of a key is the key holding its object; an object (or list) in
    a list takes the key holding that list. Every member (or item) already
    resolved is remembered with its container: a scan that reaches one at
    depth 0 has found a sibling, and stops there. So the items of a list are
    each scanned back only to the one before, and a body is scanned about
    once. Scans are still bounded: past the budget the body takes the walk.
    """

    __slots__ = ("body", "budget", "known", "lists")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.budget = 64 + len(body) // 8
        # per opener byte: (sorted starts of resolved members or items, start -> their container's opener)
        self.known: dict[int, tuple[list[int], dict[int, int]]] = {0x7B: ([], {}), 0x5B: ([], {})}
        self.lists: dict[int, str | None] = {}  # '[' position -> key holding it

    def of_key(self, q: int) -> str | None:
        """Parent key for the key whose opening quote is at ``q``."""
        return self._holder(self._enclosing(q, 0x7B, 0x7D))

    def of_item(self, q: int) -> str | None:
        """The key holding the list whose item starts at ``q``."""
        return self._list_holder(self._enclosing(q, 0x5B, 0x5D))

    def _holder(self, opener: int) -> str | None:
        """The key holding the container that opens at ``opener``."""
        body = self.body
        j = _skip_ws_back(body, opener - 1)
        if opener <= 0 or body[j] not in b":,[":
            return None
        if body[j] == 0x3A:
            return key_before(body, j)
        return self._list_holder(self._enclosing(opener, 0x5B, 0x5D))

    def _list_holder(self, bracket: int) -> str | None:
        if bracket < 0:
            return None
        if bracket not in self.lists:
            self.lists[bracket] = self._holder(bracket)
        return self.lists[bracket]

    def _enclosing(self, q: int, opener: int, closer: int) -> int:
        """Position of the unclosed ``opener`` before ``q`` (outside strings), or -1.

        ``q`` starts a member (``{``) or an item (``[``) directly in that container.
        Brackets of the other kind are skipped: containers between are balanced in both.
        Each search for a bracket stops at the nearest member or item already resolved,
        so a list's items are not rescanned from every later one.
        """
        starts, owner = self.known[opener]
        found = owner.get(q)
        if found is not None:
            return found
        body = self.body
        open_b = bytes((opener,))
        close_b = bytes((closer,))
        depth = 0
        j = q
        quotes = 0  # quotes in [j, q): odd means j is inside a string
        while True:
            self.budget -= 1
            if self.budget < 0:
                raise Fallback
            i = bisect_left(starts, j) - 1
            x = starts[i] if i >= 0 else -1  # the nearest resolved start before j
            k = body.rfind(open_b, max(x, 0), j)
            k = max(k, body.rfind(close_b, k + 1, j))
            if x > k:  # no bracket between x and j
                if depth == 0:  # x is a sibling of q's
                    found = owner[x]
                    break
                quotes += body.count(b'"', x, j)
                j = x
                continue
            if k < 0:
                found = -1
                break
            quotes += body.count(b'"', k, j)
            j = k
            if quotes & 1:
                continue
            if body[k] == closer:
                depth += 1
            elif depth == 0:
                found = k
                break
            else:
                depth -= 1
                if depth == 0 and k in owner:  # a sibling that is itself a container of this kind
                    found = owner[k]
                    break
        insort(starts, q)
        owner[q] = found
        return found


class _PathIndex:
    """JSONPath of findings' offsets, computed in one pass over the body on first use.

    Findings are mostly counted, not read: the pass runs only when a path is.
    """

    __slots__ = ("body", "wanted", "done")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.wanted: set[int] = set()
        self.done: dict[int, str] | None = None

    def render(self, at: int) -> str:
        if self.done is None:
            self.done = {at: render_path(node) for at, node in _nodes(self.body, self.wanted).items()}
        return self.done[at]


def _nodes(body: bytes, wanted: set[int]) -> dict[int, PathNode]:
    """Path nodes (as json_walk builds them) of the values starting at the ``wanted`` offsets."""
    out: dict[int, PathNode] = {}
    # frame: [is object, node of the container, current key or index, expecting a key]
    stack: list[list[Any]] = []
    for m in _TOKEN.finditer(body):
        t = m.group()
        c = t[0]
        start = m.start()
        if c == 0x7B or c == 0x5B:
            node: PathNode = None
            if stack:
                top = stack[-1]
                node = (top[1], top[2])
            if start in wanted:
                out[start] = node
            stack.append([c == 0x7B, node, None if c == 0x7B else 0, c == 0x7B])
        elif c == 0x7D or c == 0x5D:
            stack.pop()
        elif c == 0x2C:
            top = stack[-1]
            if top[0]:
                top[3] = True
            else:
                top[2] += 1
        elif c == 0x3A:
            continue
        else:
            top = stack[-1]
            if top[0] and top[3]:
                top[2] = t[1:-1].decode("utf-8")
                top[3] = False
            elif start in wanted:
                out[start] = (top[1], top[2])
    return out
