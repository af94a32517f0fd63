"""Rewrite a JSON body in place: only the covered values change, byte for byte.

Used when the route's rules need no selectors (the default policy, and any
policy of classify/scan rules without ``under`` or ``allow.fields``), the body
has no backslash and its root is an object or array. Classified keys are found
by the view's key trigger, detector hits by ``raw_json``, big numbers by a scan
of the blanked structure; each covered value is replaced where it stands and
its path comes from ``raw_structure``. Everything else (spacing, number
spelling, key order, even duplicate keys) is left exactly as sent.

Whenever a case needs the parsed tree (a key holding a finding, a ``drop``,
limits to enforce), this returns None and the caller takes the tree path, which
gives the same redaction. ``tests/rules/test_raw_json.py`` checks both agree.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from veil.rules.json_walk import redact_document, render_path
from veil.rules.plan_types import Finding
from veil.rules.raw_json import RawHits
from veil.rules.raw_structure import Structure
from veil.rules.view import ScanScope, View

# Digit runs long enough to be a number >= 100000 (json_walk's threshold).
_BIG_NUMBER_TOKEN = re.compile(rb"-?[0-9]{6,}(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_EXPONENT = re.compile(rb"[0-9][eE]")  # over the blanked body: only numbers remain
_NUMBER_CHARS = frozenset(b"-+.eE0123456789")
_BIG_NUMBER = 100_000
_WS = b" \t\r\n"

Edit = tuple[int, int, bytes]


def redact_json_raw(
    view: View, body: bytes, scope: ScanScope, hits: RawHits
) -> tuple[bytes, list[Finding], bool] | None:
    """(output, findings, changed), or None when the tree path must decide."""
    if any(is_key for _, _, is_key, _, _, _ in hits.tokens):
        return None  # renaming keys (and their collisions) is the tree's job
    head = body.lstrip()[:1]
    if head not in (b"{", b"["):
        return None
    structure = Structure(body)
    limits = view.limits
    if (
        structure.depth > limits.max_depth
        or structure.longest_string > limits.max_string_bytes
        or _EXPONENT.search(structure.blank) is not None
    ):
        return None  # the tree path raises the limit error, or reads 1e15 as the number it is
    findings: list[Finding] = []
    edits: list[Edit] = []
    covered: list[tuple[int, int]] = []
    if view.classifier is not None and view.classify_bindings and view.class_trigger is not None:
        if not _classified(view, body, structure, findings, edits, covered):
            return None
    allows = view.allows
    for s, e, _, _, text, spans in hits.tokens:
        if _inside(covered, s) or text in view.allow_values:
            continue
        new, applied = scope.rewrite(text, spans, allows)
        node = structure.node(s - 1)
        path = render_path(node)
        for entity, b, start, end in applied:
            findings.append(Finding(entity, b.rule, b.action_name, "body", path, b.mode, start, end))
        if new is None:
            return None
        if new != text:
            edits.append((s - 1, e + 1, orjson.dumps(new)))
    if not _numbers(view, body, structure, scope, findings, edits, covered):
        return None
    if not edits:
        return body, findings, False
    edits.sort()
    out: list[bytes] = []
    last = 0
    for start, end, replacement in edits:
        out.append(body[last:start])
        out.append(replacement)
        last = end
    out.append(body[last:])
    return b"".join(out), findings, True


def _inside(covered: list[tuple[int, int]], pos: int) -> bool:
    return any(start <= pos < end for start, end in covered)


def _classified(
    view: View, body: bytes, structure: Structure, findings: list[Finding], edits: list[Edit],
    covered: list[tuple[int, int]],
) -> bool:
    classifier = view.classifier
    trigger = view.class_trigger
    assert classifier is not None and trigger is not None
    blank = structure.blank
    for m in trigger.finditer(body):
        q = body.find(b'"', m.start())
        if q < 0 or blank[m.start()] != 0x20:
            continue  # the words are not inside a string
        ks = body.rfind(b'"', 0, q) + 1
        if _inside(covered, ks):
            continue  # an enclosing value is covered already
        key = body[ks:q].decode("utf-8")
        entity = classifier.classify(key, structure.parent_key(ks))
        binding = view.classify_bindings.get(entity) if entity else None
        if binding is None or entity is None:
            continue
        v = body.index(b":", q) + 1
        while body[v] in _WS:
            v += 1
        first = body[v]
        if first == 0x22:  # a string
            e = body.index(b'"', v + 1)
            text = body[v + 1 : e].decode("utf-8")
            end = e + 1
        elif first in b"-0123456789":
            end = v
            while end < len(body) and body[end] in _NUMBER_CHARS:
                end += 1
            value = orjson.loads(body[v:end])
            if -_BIG_NUMBER < value < _BIG_NUMBER:
                covered.append((v, end))
                continue  # small numbers carry no covered data (as in json_walk)
            text = repr(value) if type(value) is float else str(value)
        elif first in b"{[":
            c = structure.container_at(v)
            end = structure.closes[c] + 1
            sub = orjson.loads(body[v:end])
            new_sub, sub_findings, changed = redact_document(
                view, sub, cover=(entity, binding), node=structure.node(v)
            )
            findings.extend(sub_findings)
            covered.append((v, end))
            if changed:
                edits.append((v, end, orjson.dumps(new_sub)))
            continue
        else:
            continue  # true, false, null
        covered.append((v, end))
        if view.allows(text):
            continue
        findings.append(Finding(entity, binding.rule, binding.action_name, "body",
                                render_path(structure.node(v)), binding.mode))
        if not binding.enforced:
            continue
        if binding.action.removes:
            return False
        new = binding.action.apply(text, entity)
        if new != text or first != 0x22:
            edits.append((v, end, orjson.dumps(new)))
    return True


def _numbers(
    view: View, body: bytes, structure: Structure, scope: ScanScope, findings: list[Finding],
    edits: list[Edit], covered: list[tuple[int, int]],
) -> bool:
    memo: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for m in _BIG_NUMBER_TOKEN.finditer(structure.blank):
        start, end = m.span()
        if start > 0 and body[start - 1] in _NUMBER_CHARS or _inside(covered, start):
            continue
        value: Any = orjson.loads(body[start:end])
        if -_BIG_NUMBER < value < _BIG_NUMBER:
            continue
        text = repr(value) if type(value) is float else str(value)
        field = structure.field_of(start)
        spans = memo.get((text, field))
        if spans is None:
            spans = [(h.start, h.end, h.detector) for h in scope.detectors.scan([text], [field])]
            memo[(text, field)] = spans
        if not spans:
            continue
        new, applied = scope.rewrite(text, spans, view.allows)
        path = render_path(structure.node(start))
        for entity, b, s, e in applied:
            findings.append(Finding(entity, b.rule, b.action_name, "body", path, b.mode, s, e))
        if new is None:
            return False
        if new != text:
            edits.append((start, end, orjson.dumps(new)))
    return True
