"""The rules that apply to one route, merged into what the engine needs.

Precedence, written down once: for the same value, an explicit ``fields``
selector beats field-name classification, which beats detector scanning.
Between rules, enforcing rules beat ``detect`` rules, then earlier rules in
the file beat later ones. ``allow`` entries of every active rule (and the
policy's top-level ``allow``) exempt a value from all rules.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson

from veil.rules.classify import Classifier
from veil.rules.compiled import (
    EMPTY_NAMES,
    AllowConfig,
    Binding,
    CompiledRule,
    NameTargets,
)
from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.matching import CompiledDetector, context_needles
from veil.rules.detectors.verdicts import new_cache
from veil.rules.regex import Pattern, compile_re2
from veil.rules.protected import Protected
from veil.rules.restore import Restorer
from veil.rules.normalize import TRIGGER as NORMALIZE_TRIGGER
from veil.rules.scanner import DetectorSet, alternatives
from veil.rules.actions.keys import Keyring
from veil.rules.schema import Limits
from veil.rules.selectors import Selector, initial_states

BIG_NUMBER = 100_000
"""Smaller numbers hold nothing a built-in detector finds (``View.number_floor``)."""
ROLE_FIELD = 0
ROLE_ALLOW = 1
ROLE_UNDER = 2


Applied = tuple[str, Binding, int, int]
"""A finding made by a rewrite: (entity, binding, start, end)."""


@dataclass(frozen=True, slots=True)
class ScanScope:
    """Detectors and their bindings for strings that one set of scan rules covers."""

    detectors: DetectorSet
    bindings: tuple[Binding, ...]
    """Parallel to ``detectors.detectors``."""

    def rewrite(
        self, text: str, spans: Sequence[tuple[int, int, int]], allows: Callable[[str], bool]
    ) -> tuple[str | None, list[Applied]]:
        """Apply the bindings to the detector hits ``(start, end, detector)`` in ``text``.

        Returns the new text, or None when every enforced hit is a ``drop`` and
        nothing is left (the caller removes the whole item), and the findings.
        Allowed spans are neither rewritten nor reported.
        """
        applied: list[Applied] = []
        pieces: list[str] = []
        last = 0
        removes_only = True
        for start, end, det in spans:
            found = text[start:end]
            if allows(found):
                continue
            binding = self.bindings[det]
            entity = self.detectors.names[det]
            applied.append((entity, binding, start, end))
            if not binding.enforced:
                continue
            removes_only = removes_only and binding.action.removes
            pieces.append(text[last:start])
            pieces.append(binding.action.apply(found, entity))
            last = end
        if not pieces:
            return text, applied
        pieces.append(text[last:])
        new = "".join(pieces)
        return (None if not new and removes_only else new), applied


class View:
    """Immutable after construction except for a memo of scan scopes."""

    def __init__(
        self,
        rules: tuple[CompiledRule, ...],
        *,
        catalog: dict[str, CompiledDetector],
        classifier: Classifier | None,
        global_allow: AllowConfig,
        protected: tuple[Protected, ...],
        limits: Limits,
    ) -> None:
        ordered = tuple(sorted(rules, key=lambda r: r.mode != "enforce"))  # stable: file order kept
        self.rules = ordered
        self.restorer = _restorer(rules)
        """What the reply to a request on this view may have restored (``Plan.restorer``)."""
        self.limits = limits
        self._catalog = catalog
        self._protected = protected

        # A detect-mode rule observes: it must never stop an enforcing rule from acting. Its
        # fields, names and classes cover a value, and a covered value is decided by its cover
        # alone, never scanned; so where an enforcing scan applies, they cover nothing (the
        # scan's findings are reported instead of the observation).
        enforcing_scan = any(r.mode == "enforce" and r.scan is not None for r in ordered)
        covering = tuple(r for r in ordered if r.mode == "enforce" or not enforcing_scan)

        headers = query = cookies = form = EMPTY_NAMES
        for rule in reversed(covering):
            headers = rule.headers.merged(headers)
            query = rule.query.merged(query)
            cookies = rule.cookies.merged(cookies)
            form = rule.form.merged(form)
        self.headers: NameTargets = headers
        self.query: NameTargets = query
        self.cookies: NameTargets = cookies
        self.form: NameTargets = form

        selectors: list[Selector] = []
        roles: list[tuple[int, object]] = []
        # Nor may a detect rule's field pre-empt an enforcing rule's field class (a field beats a class).
        enforcing_classes = any(r.mode == "enforce" and r.classify is not None for r in ordered)
        for rule in covering:
            if rule.mode != "enforce" and enforcing_classes:
                continue
            for field_rule in rule.fields:
                selectors.append(field_rule.selector)
                roles.append((ROLE_FIELD, field_rule))
        allows = [global_allow] + [r.allow for r in ordered]
        for allow in allows:
            for sel in allow.fields:
                selectors.append(sel)
                roles.append((ROLE_ALLOW, None))
        self.scan_rules = tuple(r for r in ordered if r.scan is not None)
        everywhere: list[int] = []
        for index, rule in enumerate(self.scan_rules):
            assert rule.scan is not None
            if not rule.scan.under:
                everywhere.append(index)
            for sel in rule.scan.under:
                selectors.append(sel)
                roles.append((ROLE_UNDER, index))
        self.selectors = tuple(selectors)
        self.roles = tuple(roles)
        self.start_states = initial_states(len(selectors))
        self.everywhere = frozenset(everywhere)
        # A number smaller than BIG_NUMBER holds nothing a built-in detector finds (a card, a phone
        # or an SSN has more digits), so the walk and the splice skip it; a policy's own detector
        # may find one (an employee number), and then every number is scanned.
        scanned = {name for rule in self.scan_rules if rule.scan is not None for name in rule.scan.detectors}
        builtin = all(catalog[n].spec is BUILTIN_DETECTORS.get(n) for n in scanned if n in catalog)
        self.number_floor = BIG_NUMBER if builtin else 0
        """Numbers with ``-number_floor < value < number_floor`` are never scanned."""

        self.allow_values = frozenset().union(*(a.values for a in allows))
        patterns = [a.pattern.pattern.decode() for a in allows if a.pattern is not None]
        self.allow_pattern: Pattern | None = (
            compile_re2("^(?:" + "|".join(f"(?:{p})" for p in patterns) + ")$", allow_empty=True) if patterns else None
        )

        self.classifier = None
        self.classify_bindings: dict[str, Binding] = {}
        classify_rules = [r for r in covering if r.classify is not None]
        if classify_rules and classifier is not None:
            self.classifier = classifier
            for entity in classifier.entities:
                for rule in classify_rules:
                    assert rule.classify is not None
                    binding = rule.classify.binding_for(entity)
                    if binding is not None:
                        self.classify_bindings[entity] = binding
                        break

        self.clean_headers: dict[bytes, bool] = new_cache()
        """Digests of header (name, value) pairs the detectors found nothing in (``Plan.redact_headers``)."""
        self.clean_header_lists: dict[bytes, bool] = new_cache()
        """Digests of whole header lists that came out unchanged and without findings."""
        self.clean_header_names: dict[bytes, bool] = new_cache()
        """Digests of lists of header names the detectors found nothing in (``plan._without_named_findings``)."""
        self.clean_paths: dict[bytes, bool] = new_cache()
        """Digests of request paths (with their query) that came out unchanged and without findings (``Plan.redact_path``)."""
        self._scopes: dict[frozenset[int], ScanScope] = {}
        self._reduced: dict[frozenset[str], ScanScope] = {}
        self._lock = threading.Lock()
        self.prefilter, self.always_walk = self._build_prefilter()
        # Every string is scanned by the same detectors (no `under` scopes), so
        # hits can be found in the raw body (raw_json) instead of a scan queue.
        self.raw_scannable = bool(self.everywhere) and len(self.everywhere) == len(self.scan_rules)
        self._build_gate()
        self._build_splice()

    # -- scanning -----------------------------------------------------------

    def scope(self, key: frozenset[int]) -> ScanScope:
        """Detectors and bindings for strings covered by the scan rules in ``key``."""
        scope = self._scopes.get(key)
        if scope is None:
            with self._lock:
                scope = self._scopes.get(key) or self._build_scope(key)
                self._scopes[key] = scope
        return scope

    def raw_scope(self, body: bytes) -> ScanScope:
        """The everywhere scope for ``body``, minus detectors that cannot fire in it.

        A detector that needs context can only accept a candidate when one of
        its context words is in the same string or in its key, so when none of
        its needles occurs anywhere in the raw body it is left out: dates and
        ids then stop being candidates at all. Only for bodies without escapes.
        """
        if self._gate is None or self._gate.search(body) is None:
            off = self._gated
        else:
            off = frozenset(name for name, needle in self._needles if needle.search(body) is None)
        return self._everywhere_without(off)

    def _everywhere_without(self, off: frozenset[str]) -> ScanScope:
        """The everywhere scope without the detectors named in ``off`` (cached per ``off``)."""
        if not off:
            return self.scope(self.everywhere)
        scope = self._reduced.get(off)
        if scope is None:
            with self._lock:
                scope = self._reduced.get(off) or self._build_scope(self.everywhere, off)
                self._reduced[off] = scope
        return scope

    def _build_gate(self) -> None:
        self._needles: tuple[tuple[str, Pattern], ...] = ()
        self._gated: frozenset[str] = frozenset()
        self._gate: Pattern | None = None
        self._key_words: frozenset[str] = frozenset()
        if not self.everywhere:
            return
        needles = []
        key_words: set[str] = set()
        for det in self.scope(self.everywhere).detectors.detectors:
            spec = det.spec
            key_words.update(spec.not_in_field)  # a field-name veto needs the value scanned with its key
            words = context_needles(spec.context) if spec.context_required or spec.with_context else ()
            key_words.update(words)
            if words and spec.context_required:
                needles.append((spec.name, "|".join(re.escape(w) for w in words)))
        if needles:
            self._needles = tuple((n, compile_re2(a, case_insensitive=True)) for n, a in needles)
            self._gated = frozenset(n for n, _ in needles)
            self._gate = compile_re2("|".join(a for _, a in needles), case_insensitive=True)
        # Words that, as a word of a key, make its value be scanned whole with the key as context:
        # context words (of detectors that need one, and of weaker candidates, ``with_context``)
        # and field-name vetoes (``not_in_field``). In a value string a weak candidate's own
        # trigger picks the string, and its context is read from the text.
        self._key_words = frozenset(key_words)

    def _build_scope(self, key: frozenset[int], off: frozenset[str] = frozenset()) -> ScanScope:
        chosen: dict[str, Binding] = {}
        for index in sorted(key):
            scan = self.scan_rules[index].scan
            assert scan is not None
            for name in scan.detectors:
                chosen.setdefault(name, scan.binding_for(name))
        names = [n for n in self._catalog if n in chosen and n not in off]  # catalog order is priority order
        detectors = tuple(self._catalog[n] for n in names)
        return ScanScope(DetectorSet(detectors, self._protected), tuple(chosen[n] for n in names))

    def allows(self, value: str) -> bool:
        if value in self.allow_values:
            return True
        pattern = self.allow_pattern
        return pattern is not None and pattern.search(value.encode("utf-8", "surrogatepass")) is not None

    # -- the raw-bytes fast path ---------------------------------------------

    def _build_prefilter(self) -> tuple[Pattern | None, bool]:
        """A pattern that finds *something* in every JSON body this view could change.

        If it finds nothing in the raw bytes, the body is provably left as is:
        - any backslash triggers (escapes could hide text from a raw scan);
        - a number in exponent form triggers (its digits are not written out);
        - a selector's last key name, or a classified key word, followed by ``":``;
        - every detector's pattern, except detectors that need context: for
          those, their context words (a finding needs one in the string or in
          its key, and both are in the raw bytes).
        """
        always = False
        parts: list[str] = [r"\\", r"[:,\[][ \t\r\n]*-?[0-9]+(?:\.[0-9]+)?[eE]"]
        names: set[str] = set()
        for sel, (role, _) in zip(self.selectors, self.roles):
            if role == ROLE_ALLOW:
                continue
            last = sel.steps[-1].names
            if last is None:
                always = True
            else:
                names |= set(last)
        for name in sorted(names):
            parts.append('"' + re.escape(name) + '"')
        keys = self._classified_keys()
        if keys:
            parts.append(keys)
        if self.scan_rules:
            key = frozenset(range(len(self.scan_rules)))
            context_words: set[str] = set()
            plain = []
            for det in self.scope(key).detectors.detectors:
                if det.spec.context_required:
                    context_words.update(context_needles(det.spec.context))  # the words has_context looks for
                else:
                    plain.append(det)
            parts += alternatives(tuple(plain), edge='"', triggers=True)  # strings' edges are quotes here
            parts.append(NORMALIZE_TRIGGER)  # obfuscated text is scanned normalized
            if context_words:
                parts.append("(?i:" + "|".join(re.escape(w) for w in sorted(context_words)) + ")")
        if always:
            return None, True
        return compile_re2("(?:" + ")|(?:".join(parts) + ")"), False

    def _classified_keys(self) -> str | None:
        """A pattern found in every key whose words classify it (``"customerEmail":``), if any can."""
        if self.classifier is None or not self.classify_bindings:
            return None
        # A key is classified by its trailing words, whatever separates them
        # (camelCase, snake_case, kebab-case) or follows them (``email_``); ambiguous words alone.
        sep = '[^"A-Za-z0-9]*'
        phrases = {sep.join(re.escape(w) for w in rule.words) for rule in self.classifier.rules}
        phrases |= {re.escape(w) for w in self.classifier.ambiguous}
        # A phrase starts where ``split_words`` starts a word: after a byte that is not
        # a letter or digit, or at a capital right after a lower-case letter or digit
        # (``customerEmail``). Tying matches to word starts keeps RE2 from following
        # every "ip" and "tel" inside free text: the pass runs about 15% faster.
        # Words are [a-z0-9]+ (``split_words``); one starting with a digit only
        # starts after a separator.
        after_lower = _capitalized(phrases)
        return (f'(?:(?:^|[^A-Za-z0-9])(?i:{"|".join(sorted(phrases))})|[a-z0-9](?:{after_lower}))'
                f'{sep}"[ \\t\\r\\n]*:')

    def _build_splice(self) -> None:
        """The events pattern of :mod:`veil.rules.json_splice`, for views whose selectors it can follow (``_splices``)."""
        self.splice_keys: dict[bytes, Any] = new_cache()
        """A key's keyed digest -> ``splice_keys.KeyInfo``, kept across bodies; a key holding a detector
        hit is never kept (``splice_keys.cache_key``)."""
        self.splice_strings: dict[bytes, Any] = new_cache()
        """Digest of a value string -> its detector hits as offsets, never text (``splice_values.ValueDecisions._value_string``)."""
        self.splice_gate: Pattern | None = self._gate
        self.splice_key_words: frozenset[str] = self._key_words
        """Words (as ``split_words`` splits a key) that make a key's value be scanned whole with the key as
        context (``"nino":``, ``"app_version":``)."""
        # Class -> what its enforced action writes for any string value (redact): made once.
        self.splice_placeholders: dict[str, bytes] = {
            entity: out for entity, b in self.classify_bindings.items() if (out := _fixed_output(entity, b)) is not None
        }
        self.splice_reduced: ScanScope | None = None
        self.splice_reduced_placeholders: tuple[bytes | None, ...] | None = None
        """Per detector of ``splice_reduced``: what its enforced, value-free action writes inside a
        JSON string (redact), else None; None as a whole when an allow list must see each value."""
        self.splice_reduced_counts: tuple[tuple[str, str, str, str], ...] = ()
        """Per detector of ``splice_reduced``: what its findings are counted under."""
        self.splice_events: Pattern | None = None
        self.splice_field_names: frozenset[str] = frozenset()
        """The names of the keys a field selector may end at: each such key is an event, and its path decides."""
        self.splice_field_raw: frozenset[bytes] = frozenset()
        """Those names as they stand in a body written without escapes (the others always hold one)."""
        self.splice_field_anywhere: dict[str, int] = {}
        self.splice_ready = all(role == ROLE_FIELD and _splices(sel) for sel, (role, _) in zip(self.selectors, self.roles))
        if not self.splice_ready:
            return
        fields = sorted({name for sel in self.selectors for name in sel.steps[-1].names or ()})
        self.splice_field_names = frozenset(fields)
        # A name only one selector ends at, and that one is ``$..name``: it ends at every key so named,
        # whatever the path (no need to read it back).
        ending = [(name, sid) for sid, sel in enumerate(self.selectors) for name in sel.steps[-1].names or ()]
        enders = Counter(name for name, _ in ending)
        self.splice_field_anywhere = {
            name: sid for name, sid in ending
            if enders[name] == 1 and len(self.selectors[sid].steps) == 1 and self.selectors[sid].steps[0].anywhere_below
        }
        self.splice_field_raw = frozenset(n.encode("utf-8") for n in fields if orjson.dumps(n)[1:-1] == n.encode("utf-8"))
        # A key holding an object or a list whose name ends in a qualifying word
        # (``"customers": [``): without one, no parent can change any key's class.
        self.splice_parents: Pattern | None = None
        qualifying = self.classifier.qualifying_parents if self.classifier is not None else frozenset()
        if qualifying and self.classify_bindings:
            words = "|".join(re.escape(w) for w in sorted(qualifying))
            self.splice_parents = compile_re2(f'(?i:{words})s?[^"A-Za-z0-9]*"[ \\t\\r\\n]*:[ \\t\\r\\n]*[\\[{{]')
        # Numbers the walk scans (``number_floor``): at least 6 integer digits (|n| >= 100000), or an
        # exponent; every number when a policy's own detector may find a smaller one.
        number = "[0-9]" if self.number_floor == 0 else "(?:[0-9]{6}|[0-9]+(?:\\.[0-9]+)?[eE])"
        parts = [r"[:,\[][ \t\r\n]*-?" + number]
        keys = self._classified_keys()
        if keys:
            parts.append(keys)
        if fields:
            parts.append('"(?:' + "|".join(re.escape(n) for n in fields) + ')"[ \\t\\r\\n]*:')
        if self.everywhere:
            # Detectors that need a context word are left out: their context words
            # are events instead, and a string or key holding one is scanned whole.
            reduced = self._everywhere_without(self._gated)
            self.splice_reduced = reduced
            names = reduced.detectors.names
            self.splice_reduced_counts = tuple(
                (name, b.rule, b.action_name, b.mode) for name, b in zip(names, reduced.bindings)
            )
            if not self.allow_values and self.allow_pattern is None:
                self.splice_reduced_placeholders = tuple(
                    None if (out := _fixed_output(name, b)) is None else out[1:-1]
                    for name, b in zip(names, reduced.bindings)
                )
            parts += [p.pattern for p in self._protected] + alternatives(reduced.detectors.detectors, edge='"', triggers=True)
            parts.append(NORMALIZE_TRIGGER)  # a string holding obfuscated text is scanned normalized
            if self._gate is not None:
                parts.append(f"(?i:{self._gate.pattern.decode()})")
            if self._key_words:  # only in keys: in values the weak candidates' triggers pick the string
                parts.append(_key_word_pattern(self._key_words))
        self.splice_events = compile_re2("(?:" + ")|(?:".join(parts) + ")")


def _splices(selector: Selector) -> bool:
    """Whether the splice path can tell where ``selector`` ends from a key's path alone: it ends at
    a named key, and no step counts list items (an index or a slice needs the list's length)."""
    return selector.steps[-1].names is not None and all(
        step.indices is None and step.slice_ is None for step in selector.steps
    )


def _capitalized(patterns: Iterable[str]) -> str:
    """An alternation of ``patterns`` (escaped words or phrases) written as a camelCase key
    starts a word: the first letter a capital, the rest in any case (``Email`` in
    ``customerEmail``); grouped by first letter, so RE2 settles each with one byte."""
    camel: dict[str, list[str]] = {}
    for pattern in sorted(patterns):
        if pattern[0].isalpha():
            camel.setdefault(pattern[0].upper(), []).append(pattern[1:])
    return "|".join(f"{first}(?i:{'|'.join(rests)})" for first, rests in camel.items())


def _key_word_pattern(words: frozenset[str]) -> str:
    """Found in every key holding one of ``words`` as a word, as ``split_words`` splits it (a
    superset: the key's decision splits it exactly). A word starts after a byte that is not a
    letter (digits split from letters: ``2ssn``), or capitalized after any letter (``customerNino``,
    ``HTTPServer``); it ends before anything but a lower-case letter (``ssn1``, ``SSN_NO``)."""
    escaped = [re.escape(w) for w in words]
    after_letter = _capitalized(escaped)
    alternation = "|".join(sorted(escaped))
    start = f"(?:^|[^A-Za-z])(?i:{alternation})"
    if after_letter:
        start = f"(?:{start}|[A-Za-z](?:{after_letter}))"
    return f'{start}(?:[^a-z"][^"]*)?"[ \t\r\n]*:'


def _fixed_output(entity: str, binding: Binding) -> bytes | None:
    """What ``binding`` writes for any value of ``entity``, JSON-encoded, if it writes the same
    for every value and keeps the item (an enforced redact); else None."""
    action = binding.action
    if binding.enforced and action.value_free and not action.removes:
        return orjson.dumps(action.apply("", entity))
    return None


def _restorer(rules: tuple[CompiledRule, ...]) -> Restorer | None:
    """The keys and scopes of these rules' ``tokenize`` actions with ``restore: true``; None if none."""
    scopes: dict[Keyring, list[str]] = {}
    for rule in rules:
        for ring, scope in rule.restores:
            if scope not in scopes.setdefault(ring, []):
                scopes[ring].append(scope)
    return Restorer(tuple((ring, tuple(found)) for ring, found in scopes.items())) if scopes else None
