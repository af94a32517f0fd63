"""Decide a JSON body's keys, the values they cover, and its numbers, in its bytes.

Part of the splice path (:mod:`veil.rules.json_splice` runs the events): a key is classified
by its words (and its parent's, found by scanning back), the value it covers is rewritten
whole, a number big enough to hold an entity is scanned with its field as context.
"""

from __future__ import annotations

import re

import orjson

from veil.rules.classify import KeyClass, person_shaped
from veil.rules.compiled import FieldRule
from veil.rules.detectors.matching import split_words
from veil.rules.detectors.verdicts import digest, store
from veil.rules.json_bytes import WS, Undecidable, key_before, skip_ws, skip_ws_back
from veil.rules.json_paths import TOKEN
from veil.rules.json_walk import number_text
from veil.rules.opaque import holds_personal_data, keeps_opaque_credential, unkept
from veil.rules.raw_json import NUMBER_CHARS, NUMBER_START
from veil.rules.selectors import State, advance
from veil.rules.splice_state import COLON, QUOTE, Count, Cover, SpliceState, count_of

# Parent lookups cost a backward scan each; past 16, more than one per 512 bytes means the walk is cheaper.
_LOOKUPS_FREE = 16
_LOOKUP_BYTES = 512
# In a masked body: a key holding an escape, and an object or a list as its value.
_ESCAPED_HOLDER = re.compile(rb'[\x01\\][^"]*"[ \t\r\n]*:[ \t\r\n]*[\[{]')
_NOT_COVERED: Count = ("", "", "", "")  # what a key without a cover would count under: never counted


class KeyInfo:
    """What a key's own text says, kept per view across bodies under its keyed digest (``cache_key``)."""

    __slots__ = ("count", "cover", "hits", "needle", "parent_matters", "placeholder", "shaped")

    def __init__(self, cover: Cover | None, parent_matters: bool, needle: bool, hits: bool,
                 placeholder: bytes | None, shaped: bool = False) -> None:
        self.cover = cover
        """Its field-name class and that class's binding (None if none, or if the parent decides)."""
        self.shaped = shaped
        """The cover holds only for strings shaped like a name (a role word: ``json_walk.Shaped``)."""
        self.count: Count = count_of(cover) if cover is not None else _NOT_COVERED
        self.placeholder = placeholder
        """What the cover writes for any string value, JSON-encoded (``View.splice_placeholders``)."""
        self.parent_matters = parent_matters
        self.needle = needle
        """It holds a context word of a detector that needs one."""
        self.hits = hits
        """A detector finds something in the key itself."""


def cache_key(raw: bytes) -> bytes:
    """What the key cache files ``raw`` under: its keyed digest, whatever its shape.

    A key shaped like a name is still data as often as not: a user name, an account or an
    order id as a map key (``{"emails": {"jdoe": ...}}``), and the cache outlives the body.
    A key a detector finds something in is not kept at all (the body takes the walk)."""
    return digest(raw)


def known_key(keys: dict[bytes, KeyInfo], raw: bytes) -> KeyInfo | None:
    """The cached ``KeyInfo`` of the key ``raw``."""
    return keys.get(digest(raw))


class KeyDecisions(SpliceState):
    """The key, cover and number steps of a splice."""

    __slots__ = ()

    def _key_event(self, s: int, e: int, colon_end: int, info: KeyInfo | None) -> int:
        """Handle the key at [s, e); return where the search resumes."""
        body = self.body
        frame = self.frame
        if info is None:
            info = self._key_info(s, e)
        if info.hits:
            raise Undecidable
        cover = info.cover
        shaped = info.shaped
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
            found = classifier.key_class(self.text(s, e), parent)
            cover = self._class_cover(found)
            shaped = found is not None and found.shaped
        vs = colon_end
        while frame[vs] in WS:
            vs += 1
        if shaped and cover is not None:
            cover = self._shaped_cover(vs, cover)
        if cover is not None:
            if frame[vs] == QUOTE:
                ve = frame.find(b'"', vs + 1)
                self._cover_string(vs, ve, cover)
            else:
                ve = self._cover(vs, cover)
            return ve + 1
        if info.needle and frame[vs] == QUOTE:
            ve = frame.find(b'"', vs + 1)
            self._scan_whole(vs + 1, ve, self.text(vs + 1, ve), self.text(s, e))
            return ve + 1
        return e + 1

    def _field_event(self, s: int, e: int, colon_end: int) -> int:
        """The key at [s, e), named as a field selector's last step: where the search resumes once the
        first field rule whose selector ends at it has covered its value, or -1 when none does (the key
        is then decided as any other). As in the walk, a field rule beats the key's class, and a field
        rule without an entity names the key's class, else ``FIELD``."""
        view = self.view
        key = self.text(s, e)
        anywhere = view.splice_field_anywhere.get(key)
        if anywhere is not None:
            done: tuple[int, ...] = (anywhere,)
        else:
            states = self._states_in(self.parents().object_of_key(s - 1))
            if not states:
                return -1
            done = advance(view.selectors, states, key, 1)[1]
        rule = next((view.roles[sid][1] for sid in done), None)  # a view that splices has field roles only
        if rule is None:
            return -1
        assert isinstance(rule, FieldRule)
        if (known_key(view.splice_keys, self.body[s:e]) or self._key_info(s, e)).hits:
            raise Undecidable  # the walk renames a key holding a finding
        entity = rule.entity
        if entity is None and view.classifier is not None:
            entity = view.classifier.classify(key, self.parents().of_key(s - 1))
        cover = (entity or "FIELD", rule.binding)
        vs = skip_ws(self.frame, colon_end)
        if self.frame[vs] == QUOTE:
            ve = self.frame.find(b'"', vs + 1)
            self._cover_string(vs, ve, cover)
            return ve + 1
        if self.frame[vs] in b"{[":
            raise Undecidable  # a selector or a class below may override the cover there: the walk decides
        return self._cover(vs, cover) + 1

    def _states_in(self, opener: int) -> frozenset[State]:
        """The selectors' states inside the container that opens at ``opener``, as the walk carries them
        down: each container's found once per body, from its holder's (a key costs one step then)."""
        memo, parents, selectors = self.field_states, self.parents(), self.view.selectors
        chain: list[tuple[int, str | None]] = []  # (container, its step from its holder), innermost first
        while True:
            states = memo.get(opener)
            if states is not None:
                break
            up = parents.step_of(opener)
            if up is None:  # the document's top
                states = self.view.start_states
                break
            chain.append((opener, up[1]))
            opener = up[0]
        for container, step in reversed(chain):
            if states:
                states = advance(selectors, states, 0 if step is None else step, 1)[0]
            memo[container] = states
        return states

    def _class_cover(self, found: KeyClass | None) -> Cover | None:
        """The field-name class ``found`` and the binding the view gives it, if any."""
        binding = self.view.classify_bindings.get(found.entity) if found is not None else None
        return (found.entity, binding) if found is not None and binding is not None else None

    def _shaped_cover(self, vs: int, cover: Cover) -> Cover | None:
        """What a shaped ``cover`` (a role key's) covers of the value at ``vs``, as the walk's
        ``Shaped.of`` decides: a string shaped like a name, whole. In a flat list (no object or
        list among its items), each string shaped like one is covered here, and the events that
        fall in it later are skipped (``named``); the rest of the list is left to the events."""
        frame = self.frame
        if frame[vs] == QUOTE:
            ve = frame.find(b'"', vs + 1)
            return cover if person_shaped(self.text(vs + 1, ve)) else None
        if frame[vs] != 0x5B:  # [
            return None
        names: list[tuple[int, int]] = []
        for m in TOKEN.finditer(frame, vs + 1):
            c = frame[m.start()]
            if c == QUOTE:
                qs, qe = m.start(), m.end() - 1
                if person_shaped(self.text(qs + 1, qe)):
                    names.append((qs, qe))
            elif c == 0x5D:  # ]: the list was flat
                for qs, qe in names:
                    self._cover_string(qs, qe, cover)
                    self.named.add(qs)
                return None
            elif c == 0x5B or c == 0x7B:  # not flat: its items are decided as any others
                return None
        raise AssertionError("unbalanced JSON passed the parser")  # pragma: no cover

    def _key_info(self, s: int, e: int) -> KeyInfo:
        view = self.view
        key = self.text(s, e)
        classifier = view.classifier if view.classify_bindings else None
        parent_matters = classifier is not None and classifier.parent_matters(key)
        cover = None
        shaped = False
        if classifier is not None and not parent_matters:
            found = classifier.key_class(key, None)
            cover = self._class_cover(found)
            shaped = found is not None and found.shaped
        needle = bool(self.key_words) and not self.key_words.isdisjoint(split_words(key))
        hits = False
        if self.full is not None:
            hits = any(not view.allows(key[h.start : h.end]) for h in self.full.detectors.scan([key], [""]))
        placeholder = view.splice_placeholders.get(cover[0]) if cover is not None and not hits and not shaped else None
        info = KeyInfo(cover, parent_matters, needle, hits, placeholder, shaped)
        if not hits:  # a key holding a finding is payload: never kept (the body takes the walk anyway)
            store(view.splice_keys, cache_key(self.body[s:e]), info)
        return info

    def _cover_string(self, vs: int, ve: int, cover: Cover) -> None:
        """Apply ``cover`` to the string whose quotes are at ``vs`` and ``ve``."""
        view = self.view
        text = None
        if view.allow_values or view.allow_pattern is not None:
            text = self.text(vs + 1, ve)
            if view.allows(text):
                return
        if keeps_opaque_credential(*cover) and holds_personal_data(view, text if text is not None else self.text(vs + 1, ve)):
            raise Undecidable  # personal data under a kept credential's name: the walk scans it (veil.rules.opaque)
        self.records.append((vs, count_of(cover), -1, -1))
        binding = cover[1]
        if not binding.enforced:
            return
        action = binding.action
        if action.removes:
            raise Undecidable
        # The same bytes for every value (a class's redact); a field rule's binding is its own.
        out = view.splice_placeholders.get(cover[0]) if view.classify_bindings.get(cover[0]) is binding else None
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
        if self.view.selectors:
            raise Undecidable  # a field selector ending inside it beats the cover there: the walk knows which
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
            elif c == COLON:
                expect_key = False
            elif expect_key:
                ks, ke = m.start() + 1, m.end() - 1
                info = known_key(self.view.splice_keys, self.body[ks:ke]) or self._key_info(ks, ke)
                if info.hits:
                    raise Undecidable
            elif c == QUOTE:
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
        if unkept(self.view, *cover, text):
            raise Undecidable  # as in _cover_string
        entity, binding = cover
        self.records.append((vs, count_of(cover), -1, -1))
        if not binding.enforced:
            return
        if binding.action.removes:
            raise Undecidable
        self.edits.append((vs, ve, orjson.dumps(binding.action.apply(text, entity))))

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
        floor = self.view.number_floor
        if -floor < value < floor:
            return ne
        text = number_text(value)
        before = skip_ws_back(frame, ns - 1)
        if frame[before] == COLON:  # a member: its key is the context
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
