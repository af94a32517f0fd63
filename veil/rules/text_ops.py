"""Free text, headers, query strings, cookies and urlencoded forms.

Each of these is a list of (name, value) pairs or one string. Parameters are
split on the raw text and only the ones that change are re-encoded, so
everything else stays byte-identical (order, duplicates, spelling of escapes).
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from veil.rules.compiled import Binding, NameTargets
from veil.rules.plan_types import Finding
from veil.rules.view import View


# A parameter, header or cookie name written out in a finding's path; any other name
# (an e-mail or a number used as a name) is written ``<name>``, as keys are in JSONPaths.
_NAME_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,63}")
MASKED_NAME = "<name>"


def name_label(name: str) -> str:
    """What a finding's path says of the parameter, header or cookie ``name``."""
    return name if _NAME_LABEL.fullmatch(name) else MASKED_NAME


def scan_strings(
    view: View, texts: list[str], fields: list[str], location: str, paths: list[str],
    findings: list[Finding], found_in: set[int] | None = None,
) -> list[str | None]:
    """Detector-scan ``texts``; return the rewritten text, or None to remove the item.

    ``found_in``, if given, receives the indices of the texts where a detector found something.
    """
    out: list[str | None] = list(texts)
    if not view.everywhere or not texts:
        return out
    scope = view.scope(view.everywhere)
    if not scope.detectors:
        return out
    grouped: dict[int, list[tuple[int, int, int]]] = {}
    for hit in scope.detectors.scan(texts, fields):
        grouped.setdefault(hit.which, []).append((hit.start, hit.end, hit.detector))
    if found_in is not None:
        found_in.update(grouped)
    for index, spans in grouped.items():
        new, applied = scope.rewrite(texts[index], spans, view.allows)
        for entity, b, start, end in applied:
            findings.append(Finding(entity, b.rule, b.action_name, location, paths[index], b.mode, start, end))
        out[index] = new
    return out


def _apply_binding(
    view: View, entity: str, binding: Binding, name: str, value: str, location: str, findings: list[Finding]
) -> str | None:
    """Whole-value action on a named item; None means remove the item."""
    if view.allows(value):
        return value
    findings.append(Finding(entity, binding.rule, binding.action_name, location, name_label(name), binding.mode))
    if not binding.enforced:
        return value
    if binding.action.removes:
        return None
    return binding.action.apply(value, entity)


def apply_name_target(
    targets: NameTargets, name: str, value: str, location: str, findings: list[Finding], view: View
) -> tuple[bool, str | None]:
    """(handled, new value or None to remove) for a named item covered by a target."""
    rule = targets.lookup(name)
    if rule is None:
        return False, value
    return True, _apply_binding(view, rule.entity, rule.binding, name, value, location, findings)


def apply_name_class(
    view: View, name: str, value: str, location: str, findings: list[Finding]
) -> tuple[bool, str | None]:
    """Field-name classification for query and form parameters (``?email=...``)."""
    if view.classifier is None or not value:
        return False, value
    entity = view.classifier.classify(name, None)
    binding = view.classify_bindings.get(entity) if entity else None
    if binding is None or entity is None or view.allows(value):
        return False, value
    return True, _apply_binding(view, entity, binding, name, value, location, findings)


def redact_pairs(
    view: View, raw: str, targets: NameTargets, location: str, findings: list[Finding],
    *, plus: bool,
) -> str:
    """Rewrite ``a=1&b=2`` text (query strings, urlencoded forms).

    Names are scanned by the detectors too: a bare ``?jane@example.com`` is all name.
    """
    if not raw:
        return raw
    unq = unquote_plus if plus else unquote
    q = quote_plus if plus else quote
    parts = raw.split("&")
    decoded: list[tuple[str, str, bool]] = []
    for part in parts:
        name_raw, eq, value_raw = part.partition("=")
        decoded.append((unq(name_raw), unq(value_raw), bool(eq)))
    new_values: list[str | None] = []
    scan_idx: list[int] = []
    for i, (name, value, _) in enumerate(decoded):
        handled, new = apply_name_target(targets, name, value, location, findings, view)
        if not handled:
            handled, new = apply_name_class(view, name, value, location, findings)
        new_values.append(new)
        if not handled:
            scan_idx.append(i)
    # One scan for every name and every value no name decided (a scan per call costs more than its texts).
    n = len(decoded)
    found: list[Finding] = []
    hit: set[int] = set()
    scanned = scan_strings(
        view, [d[0] for d in decoded] + [decoded[i][1] for i in scan_idx],
        [""] * n + [decoded[i][0] for i in scan_idx], location,
        [MASKED_NAME] * n + [name_label(decoded[i][0]) for i in scan_idx], found, hit,
    )
    new_names = scanned[:n]
    for i, new in zip(scan_idx, scanned[n:]):
        new_values[i] = new
    masked = {name_label(decoded[i][0]) for i in hit if i < n}  # names holding a finding: never named
    findings.extend(f if f.path not in masked else
                    Finding(f.type, f.rule, f.action, f.location, MASKED_NAME, f.mode, f.start, f.end) for f in found)
    out: list[str] = []
    for part, (name, value, had_eq), new, new_name in zip(parts, decoded, new_values, new_names):
        if new is None or new_name is None:
            continue
        if new == value and new_name == name:
            out.append(part)
            continue
        name_raw, eq, value_raw = part.partition("=")
        if new_name != name:
            name_raw = q(new_name, safe="[]:*")
        if new != value:
            value_raw = q(new, safe="[]:*")
        out.append(name_raw + eq + value_raw)
    return "&".join(out)


def redact_cookie_header(view: View, raw: str, findings: list[Finding]) -> str | None:
    """``Cookie: a=1; b=2``: cookie targets by name, detectors on values."""
    pieces = raw.split(";")
    kept: list[str] = []
    for piece in pieces:
        name, eq, value = piece.strip().partition("=")
        if not eq:
            kept.append(piece.strip())
            continue
        handled, new = apply_name_target(view.cookies, name, value, "cookie", findings, view)
        if not handled:
            decoded = unquote(value)
            new = scan_strings(view, [decoded], [name], "cookie", [name_label(name)], findings)[0]
            if new == decoded:
                new = value
            elif new is not None:
                new = quote(new, safe="[]:*")
        if new is not None:
            kept.append(f"{name}={new}")
    return "; ".join(kept) if kept else None


def redact_set_cookie(view: View, raw: str, findings: list[Finding]) -> str | None:
    """``Set-Cookie: name=value; Path=/; HttpOnly``: only the value can be sensitive."""
    first, sep, attrs = raw.partition(";")
    name, eq, value = first.strip().partition("=")
    if not eq:
        return raw
    handled, new = apply_name_target(view.cookies, name, value, "cookie", findings, view)
    if not handled:
        new = scan_strings(view, [value], [name], "cookie", [name_label(name)], findings)[0]
    if new is None:
        return None
    if new == value:
        return raw
    return f"{name}={quote(new, safe='[]:*')}{sep}{attrs}"
