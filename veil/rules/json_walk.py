"""Apply a route's rules to a parsed JSON document in one walk plus one scan.

Order of work, and why:
1. Walk the tree once, iteratively (10,000 levels deep must not overflow the
   C stack), advancing every selector at each key and classifying keys. Values
   covered by a selector or a field-name class are rewritten on the spot.
2. Every other string (and every dict key, and every number big enough to be
   a card or phone) is queued for detector scanning instead of being scanned
   where it stands: one joined RE2 scan is far cheaper than one per string.
3. Rewrite only the strings with hits, then apply key renames and drops, which
   change container sizes and so cannot happen during the walk.
Numbers that hold a finding become strings: a card number must not survive
as a JSON number, and a placeholder cannot be one.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from veil.errors import RedactionError
from veil.rules.classify import person_shaped
from veil.rules.compiled import Binding, FieldRule
from veil.rules.opaque import unkept
from veil.rules.plan_types import Finding
from veil.rules.raw_json import RawHits
from veil.rules.selectors import State, advance
from veil.rules.view import ROLE_ALLOW, ROLE_FIELD, ROLE_UNDER, ScanScope, View

PathNode = tuple[Any, Any] | None
_NO_STATES: frozenset[State] = frozenset()

KIND_VALUE = 0
KIND_KEY = 1
KIND_NUMBER = 2


class Shaped:
    """The cover of a key whose class is shaped (a role word, ``classify.KeyClass.shaped``):
    it holds for a string shaped like a name, directly under the key or an item of a flat
    list under it (no object or list among its items), and for nothing else (an object
    under the key, or in a list under it, is classified key by key, with the key as its
    parent). The splice path decides the same (``splice_keys``): a flat list is read to its
    end, any other is known as such at its first object or list, so a list of a thousand
    objects costs nothing."""

    __slots__ = ("cover",)

    def __init__(self, cover: tuple[str, Binding]) -> None:
        self.cover = cover

    def of(self, value: Any) -> "tuple[str, Binding] | Shaped | None":
        """What covers ``value``, found under the key."""
        tv = type(value)
        if tv is str:
            return self.cover if person_shaped(value) else None
        if tv is not list:
            return None
        for item in value:
            if type(item) is dict or type(item) is list:
                return None
        return self if value else None


# A key shaped like a schema's name; paths write any other key as ``[<key>]`` (README,
# "Finding paths"): an e-mail, a number or a person's name as a map key is data.
_NAME_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
MASKED_KEY = "<key>"
"""What a path node holds instead of a key that may be data (it is no name: rendered ``[<key>]``)."""


def name_shaped(key: str) -> bool:
    """Whether ``key`` reads as a schema's field name, and so may be written in a path."""
    return (len(key) <= 64 and key.isascii() and key.isidentifier()) or _NAME_KEY.fullmatch(key) is not None


def path_key(key: Any) -> Any:
    """What a path node keeps of ``key``: an index or a name-shaped key as it is, else
    ``MASKED_KEY``, so that a finding's path never holds (nor keeps alive) a key that may be data."""
    return key if type(key) is int or name_shaped(key) else MASKED_KEY


def render_path(node: PathNode, hidden: frozenset[str] = frozenset()) -> str:
    """The JSONPath of ``node``: ``$.user.email``, ``$.items[0]``, ``$['first-name']``; a key
    that is not name-shaped, or is in ``hidden`` (it held a finding), as ``[<key>]``."""
    parts: list[str] = []
    while node is not None:
        node, key = node
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif not name_shaped(key) or key in hidden:
            parts.append("[" + MASKED_KEY + "]")
        elif "-" in key:
            parts.append(f"['{key}']")
        else:
            parts.append("." + key)
    return "$" + "".join(reversed(parts))


class _Walk:
    __slots__ = ("view", "findings", "changed", "queue", "drops", "renames", "raw", "raw_scope", "numbers", "hidden")

    def __init__(self, view: View, raw: tuple[RawHits, ScanScope] | None = None) -> None:
        self.view = view
        # With raw hits (see raw_json), strings are rewritten by lookup as the
        # walk meets them instead of being queued for a joined scan.
        self.raw = raw[0] if raw is not None else None
        self.raw_scope = raw[1] if raw is not None else None
        self.numbers: dict[str, list[tuple[int, int, int]]] = {}
        self.findings: list[Finding] = []
        self.changed = False
        # Strings waiting for the detector scan: (text, holder, key, path node, kind, field, scope).
        self.queue: list[tuple[str, Any, Any, PathNode, int, str, frozenset[int]]] = []
        self.drops: list[tuple[Any, Any]] = []
        self.renames: dict[int, tuple[dict[Any, Any], dict[Any, str]]] = {}
        self.hidden: set[str] = set()  # name-shaped keys a detector found something in


def redact_document(
    view: View, doc: Any, raw: tuple[RawHits, ScanScope] | None = None
) -> tuple[Any, list[Finding], bool]:
    """Rewrite ``doc`` in place where possible; return (doc, findings, changed).

    ``raw``: detector hits already found in the body's bytes (``raw_json``) and
    the scope that found them, which then scans every string of the document.
    """
    w = _Walk(view, raw if isinstance(doc, (dict, list)) else None)
    if isinstance(doc, (dict, list)):
        _walk(w, doc)
    else:
        holder = [doc]
        _visit_scalar(w, holder, 0, doc, None, None, view.everywhere, "")
        _scan(w)
        return holder[0], w.findings, w.changed
    _scan(w)
    _finish(w)
    if w.hidden:
        _hide_keys(w)
    return doc, w.findings, w.changed


_UNKNOWN: Any = object()


def _walk(w: _Walk, doc: Any) -> None:
    view = w.view
    max_depth = view.limits.max_depth
    classifier = view.classifier
    class_bindings = view.classify_bindings
    allow_values = view.allow_values
    str_limit = view.limits.max_string_bytes
    small = view.number_floor  # numbers closer to 0 hold nothing the scan could find
    queue_append = w.queue.append
    raw_scope = w.raw_scope
    raw_keys = w.raw.keys if w.raw is not None else None
    raw_texts = w.raw.values if w.raw is not None else None
    # Field-name classes depend on (key, parent key): memoized per parent key for this body
    # only, as any key may be data (a user name as a map key). Across bodies the classifier
    # remembers its answers under a keyed digest of the key and parent, never their text.
    class_memo: dict[Any, dict[str, tuple[str, Binding] | None]] = {}
    # frame: container, path node, selector states, inherited cover, parent key, depth, scan scope
    stack: list[tuple[Any, PathNode, frozenset[State], tuple[str, Binding] | Shaped | None, Any, int, frozenset[int]]]
    stack = [(doc, None, view.start_states, None, None, 1, view.everywhere)]
    pop = stack.pop
    push = stack.append
    while stack:
        container, node, states, inherited, parent_key, depth, scope = pop()
        if depth > max_depth:
            raise RedactionError("too_deep", f"JSON nesting deeper than the limit of {max_depth}")
        kmemo = None
        if type(container) is dict:
            items: Any = container.items()
            if inherited is None and classifier is not None:
                kmemo = class_memo.get(parent_key)
                if kmemo is None:
                    kmemo = class_memo[parent_key] = {}
        else:
            items = enumerate(container)
        for key, value in items:
            cover: Any = inherited
            child_states = _NO_STATES
            child_scope = scope
            if states:
                skip, child_states, field_cover, child_scope = _step(w, states, key, len(container), parent_key, scope)
                if skip:
                    continue
                if field_cover is not None:
                    cover = field_cover
            if kmemo is not None:  # a dict: keys are strings
                if cover is None:
                    cover = kmemo.get(key, _UNKNOWN)
                    if cover is _UNKNOWN:
                        found = classifier.key_class(key, parent_key if type(parent_key) is str else None)  # type: ignore[union-attr]
                        b = class_bindings.get(found.entity) if found is not None else None
                        if found is None or b is None:
                            cover = None
                        else:
                            cover = Shaped((found.entity, b)) if found.shaped else (found.entity, b)
                        kmemo[key] = cover
                if child_scope:
                    if raw_keys is None:
                        queue_append((key, container, key, node, KIND_KEY, "", child_scope))
                    elif raw_keys and key in raw_keys:
                        _rewrite(w, (key, container, key, node, KIND_KEY, "", child_scope), raw_keys[key], raw_scope)  # type: ignore[arg-type]
                field = key
            elif type(key) is str:  # a dict under a covered value: no classification needed
                if child_scope and raw_keys is None:
                    queue_append((key, container, key, node, KIND_KEY, "", child_scope))
                elif child_scope and raw_keys and key in raw_keys:
                    _rewrite(w, (key, container, key, node, KIND_KEY, "", child_scope), raw_keys[key], raw_scope)  # type: ignore[arg-type]
                field = key
            else:
                field = ""
            if type(cover) is Shaped:
                cover = cover.of(value)
            tv = type(value)
            if tv is str:
                if cover is None:
                    if not child_scope or value in allow_values:
                        continue
                    if len(value) * 4 > str_limit:
                        _check_length(value, str_limit)
                    if raw_texts is None:
                        queue_append((value, container, key, node, KIND_VALUE, field, child_scope))
                    elif value in raw_texts:
                        found = raw_texts[value].get(field)
                        if found is not None:
                            _rewrite(w, (value, container, key, node, KIND_VALUE, field, child_scope), found, raw_scope)  # type: ignore[arg-type]
                    continue
            elif tv is dict or tv is list:
                if value:
                    push((value, (node, path_key(key)), child_states, cover, key if type(key) is str else parent_key,
                          depth + 1, child_scope))
                elif cover is not None and cover[1].action.removes and cover[1].mode == "enforce":
                    _record(w, cover, (node, path_key(key)), -1, -1)
                    w.drops.append((container, key))
                continue
            elif cover is None and (
                value is None or tv is bool or ((tv is int or tv is float) and -small < value < small)
            ):
                continue  # too small to hold any entity; the common case, so decided inline
            _visit_scalar(w, container, key, value, node, cover, child_scope,
                          field or (parent_key if isinstance(parent_key, str) else ""))


def _step(
    w: _Walk, states: frozenset[State], key: Any, length: int, parent_key: Any, scope: frozenset[int]
) -> tuple[bool, frozenset[State], tuple[str, Binding] | None, frozenset[int]]:
    """Advance the selectors by ``key``: (allowed: skip, child states, field cover, scan scope)."""
    view = w.view
    child_states, done = advance(view.selectors, states, key, length)
    field_cover = None
    for sid in done:
        role, payload = view.roles[sid]
        if role == ROLE_ALLOW:
            return True, child_states, None, scope
        if role == ROLE_FIELD and field_cover is None:
            assert isinstance(payload, FieldRule)
            entity = payload.entity or _class_of(w, key, parent_key) or "FIELD"
            field_cover = (entity, payload.binding)
        elif role == ROLE_UNDER:
            assert isinstance(payload, int)
            scope = scope | {payload}
    return False, child_states, field_cover, scope


def _class_of(w: _Walk, key: Any, parent_key: Any) -> str | None:
    classifier = w.view.classifier
    if classifier is None or type(key) is not str:
        return None
    return classifier.classify(key, parent_key if isinstance(parent_key, str) else None)


def _visit_scalar(
    w: _Walk, holder: Any, key: Any, value: Any, node: PathNode,
    cover: tuple[str, Binding] | None, scope: frozenset[int], field: str,
) -> None:
    tv = type(value)
    if tv is str:
        text = value
        kind = KIND_VALUE
    elif (tv is int or tv is float) and (cover is not None or value >= w.view.number_floor or value <= -w.view.number_floor):
        text = repr(value) if tv is float else str(value)
        kind = KIND_NUMBER
    elif tv is bool and cover is not None:
        # A selector or field class covers the value whatever its type: {"zip": 94107}, {"vip": true}.
        text = "true" if value else "false"
        kind = KIND_NUMBER
    else:
        return  # null, and booleans and small numbers no rule covers, carry no data to scan
    _check_length(text, w.view.limits.max_string_bytes)
    if cover is not None and not w.view.allows(text) and unkept(w.view, cover[0], cover[1], text):
        cover = None  # personal data under a kept credential's name: scanned as any value (veil.rules.opaque)
    if cover is not None:
        entity, binding = cover
        if w.view.allows(text):
            return
        _record(w, cover, (node, path_key(key)), -1, -1)
        if binding.mode != "enforce" or not binding.action.changes:
            return
        if binding.action.removes:
            w.drops.append((holder, key))
            return
        new = binding.action.apply(text, entity)
        if new != value:
            holder[key] = new
            w.changed = True
        return
    if not scope:
        return
    if tv is int or tv is float:
        text = number_text(value)
    if w.raw_scope is None:
        w.queue.append((text, holder, key, node, kind, field, scope))
        return
    # Numbers are few and their raw form may differ from their text (4.1e15): scan each.
    spans = w.numbers.get(text)
    if spans is None:
        spans = [(h.start, h.end, h.detector) for h in w.raw_scope.detectors.scan([text], [field])]
        w.numbers[text] = spans
    if spans:
        _rewrite(w, (text, holder, key, node, kind, field, scope), spans, w.raw_scope)


def number_text(value: int | float) -> str:
    """The text the detectors read in a JSON number: its digits without the sign. A minus is no part
    of a card number or an SSN, and the detectors read one before digits as a separator
    (``ref-4111...``), so ``-4111111111111111`` crossed; a number with a finding becomes a
    placeholder string anyway."""
    text = repr(value) if type(value) is float else str(value)
    return text[1:] if text[:1] == "-" else text


def _check_length(text: str, limit: int) -> None:
    # Characters bound bytes from below and above (1 to 4 each): encode only when unsure.
    if len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit):
        raise RedactionError("string_too_long", f"a string is longer than the limit of {limit} bytes")


def _record(w: _Walk, cover: tuple[str, Binding], node: PathNode, start: int, end: int,
            location: str = "body") -> None:
    entity, b = cover
    w.findings.append(Finding(entity, b.rule, b.action_name, location, partial(render_path, node), b.mode, start, end))


def _hide_keys(w: _Walk) -> None:
    """Render every finding's path now, with the name-shaped keys that held a finding masked.

    Rare (a secret or a name as a map key), so done eagerly: the findings then hold strings,
    not the path nodes, which held those keys."""
    hidden = frozenset(w.hidden)
    w.findings = [
        Finding(f.type, f.rule, f.action, f.location, _rendered(f, hidden), f.mode, f.start, f.end) for f in w.findings
    ]
    w.hidden.clear()


def _rendered(finding: Finding, hidden: frozenset[str]) -> str:
    path = finding.unrendered_path
    return render_path(path.args[0], hidden) if isinstance(path, partial) else finding.path


def _scan(w: _Walk) -> None:
    queue = w.queue
    if not queue:
        return
    view = w.view
    first_scope = queue[0][6]
    if all(item[6] is first_scope or item[6] == first_scope for item in queue):
        groups = {first_scope: queue}
    else:
        groups = {}
        for item in queue:
            groups.setdefault(item[6], []).append(item)
    for scope_key, items in groups.items():
        scope = view.scope(scope_key)
        if not scope.detectors:
            continue
        hits = scope.detectors.scan([item[0] for item in items], [item[5] for item in items])
        if not hits:
            continue
        grouped: dict[int, list[tuple[int, int, int]]] = {}
        for hit in hits:
            grouped.setdefault(hit.which, []).append((hit.start, hit.end, hit.detector))
        for index, spans in grouped.items():
            _rewrite(w, items[index], spans, scope)


def _rewrite(w: _Walk, item: tuple[str, Any, Any, PathNode, int, str, frozenset[int]],
             spans: list[tuple[int, int, int]], scope: ScanScope) -> None:
    text, holder, key, node, kind, _, _ = item
    new, applied = scope.rewrite(text, spans, w.view.allows)
    path_node: PathNode = node if kind == KIND_KEY else (node, path_key(key))
    location = "key" if kind == KIND_KEY else "body"
    if kind == KIND_KEY and applied and path_key(key) is key:
        w.hidden.add(key)  # a name-shaped key holding a finding: masked in every path (``_hide_keys``)
    for entity, binding, start, end in applied:
        _record(w, (entity, binding), path_node, start, end, location)
    if new == text:
        return
    w.changed = True
    if kind == KIND_KEY:
        # A key is renamed, never dropped: dropping it would silently drop its value.
        entry = w.renames.setdefault(id(holder), (holder, {}))
        entry[1][key] = new or ""
    elif new is None:
        w.drops.append((holder, key))
    else:
        holder[key] = new


def _finish(w: _Walk) -> None:
    # Drops first: they name keys as they were before any rename.
    if w.drops:
        w.changed = True
        by_list: dict[int, tuple[list[Any], list[int]]] = {}
        for holder, key in w.drops:
            if type(holder) is dict:
                holder.pop(key, None)
            else:
                by_list.setdefault(id(holder), (holder, []))[1].append(key)
        for holder, idx in by_list.values():
            for k in sorted(set(idx), reverse=True):
                del holder[k]
    for holder, mapping in w.renames.values():
        items = list(holder.items())
        holder.clear()
        for k, v in items:
            nk = mapping.get(k, k)
            if nk in holder:
                n = 2
                while f"{nk}#{n}" in holder:
                    n += 1
                nk = f"{nk}#{n}"
            holder[nk] = v
