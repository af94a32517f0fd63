"""Free text, headers, query strings, cookies and urlencoded forms.

Each of these is a list of (name, value) pairs or one string. Parameters are
split on the raw text and only the ones that change are re-encoded, so
everything else stays byte-identical (order, duplicates, spelling of escapes).
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from veil.rules.compiled import Binding, NameTargets
from veil.rules.opaque import unkept
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
    """(handled, new value or None to remove) for a named item covered by a target.

    A credential kept as an opaque one that holds personal data is not handled: the
    caller scans it (:mod:`veil.rules.opaque`)."""
    rule = targets.lookup(name)
    if rule is None or unkept(view, rule.entity, rule.binding, value):
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
    if binding is None or entity is None or view.allows(value) or unkept(view, entity, binding, value):
        return False, value
    return True, _apply_binding(view, entity, binding, name, value, location, findings)


def scan_names_and_values(
    view: View, names: list[str], values: dict[int, str], location: str, findings: list[Finding],
    by_name: list[Finding],
) -> tuple[list[str | None], dict[int, str | None]]:
    """(new names, new values by index): one detector scan for every name and for the values
    no rule by name decided (``values``, by the index of their name).

    One scan for all: a scan per call costs more than its texts. Its findings and ``by_name``
    (those of the rules by name on these items) go to ``findings``; any in a name that holds
    a finding, or under such a name, is reported under ``<name>``: that name is payload.
    """
    n = len(names)
    order = list(values)
    found: list[Finding] = []
    hit: set[int] = set()
    scanned = scan_strings(
        view, names + [values[i] for i in order], [""] * n + [names[i] for i in order], location,
        [MASKED_NAME] * n + [name_label(names[i]) for i in order], found, hit,
    )
    masked = {name_label(names[i]) for i in hit if i < n}  # names holding a finding: never named
    findings.extend(f if f.path not in masked else
                    Finding(f.type, f.rule, f.action, f.location, MASKED_NAME, f.mode, f.start, f.end)
                    for f in (*by_name, *found))
    return scanned[:n], dict(zip(order, scanned[n:]))


def redact_pairs(
    view: View, raw: str, targets: NameTargets, location: str, findings: list[Finding],
    *, plus: bool, encoding: str = "utf-8",
) -> str:
    """Rewrite ``a=1&b=2`` text (query strings, urlencoded forms).

    Names are scanned by the detectors too: a bare ``?jane@example.com`` is all name. Percent-escapes
    are bytes in ``encoding`` (a form's declared charset: ``%D5%C5`` is one GBK character).
    """
    if not raw:
        return raw
    unq = unquote_plus if plus else unquote
    q = quote_plus if plus else quote
    parts = raw.split("&")
    decoded: list[tuple[str, str, bool]] = []
    for part in parts:
        name_raw, eq, value_raw = part.partition("=")
        decoded.append((unq(name_raw, encoding=encoding), unq(value_raw, encoding=encoding), bool(eq)))
    new_values: list[str | None] = []
    scan_idx: list[int] = []
    by_name: list[Finding] = []
    for i, (name, value, _) in enumerate(decoded):
        handled, new = apply_name_target(targets, name, value, location, by_name, view)
        if not handled:
            handled, new = apply_name_class(view, name, value, location, by_name)
        new_values.append(new)
        if not handled:
            scan_idx.append(i)
    new_names, scanned = scan_names_and_values(
        view, [d[0] for d in decoded], {i: decoded[i][1] for i in scan_idx}, location, findings, by_name
    )
    for i, new in scanned.items():
        new_values[i] = new
    out: list[str] = []
    for part, (name, value, had_eq), new, new_name in zip(parts, decoded, new_values, new_names):
        if new is None or new_name is None:
            continue
        if new == value and new_name == name:
            out.append(part)
            continue
        name_raw, eq, value_raw = part.partition("=")
        if new_name != name:
            name_raw = q(new_name, safe="[]:*", encoding=encoding)
        if new != value:
            value_raw = q(new, safe="[]:*", encoding=encoding)
        out.append(name_raw + eq + value_raw)
    return "&".join(out)


def redact_cookie_header(view: View, raw: str, findings: list[Finding]) -> str | None:
    """``Cookie: a=1; b=2``: cookie targets by name, detectors on names and values.

    A piece without ``=`` is a cookie with an empty name (RFC 6265bis; a browser sends one
    after ``document.cookie = "<jwt>"``): its value is judged as any other, by the rules
    for every name (``*``) and the detectors. A cookie whose NAME holds a finding
    (``jane@example.com=1``) is dropped, as a header's is: a name cannot hold a
    placeholder (``[``, ``:`` and spaces are not allowed in one); detect mode reports and
    keeps it. Cookies nothing changed keep their bytes; None when none is left.
    """
    pieces = [piece.strip() for piece in raw.split(";")]
    cookies = [_cookie(piece) for piece in pieces]
    new_values: list[str | None] = []
    undecided: dict[int, str] = {}
    by_name: list[Finding] = []
    for i, (name, value, _) in enumerate(cookies):
        handled, new = (True, value) if not name and not value else \
            apply_name_target(view.cookies, name, value, "cookie", by_name, view)
        new_values.append(new)
        if not handled:
            undecided[i] = unquote(value)
    names = [unquote(name) for name, _, _ in cookies]
    new_names, scanned = scan_names_and_values(view, names, undecided, "cookie", findings, by_name)
    kept: list[str] = []
    for i, (piece, (name, value, named)) in enumerate(zip(pieces, cookies)):
        new = new_values[i]
        if i in undecided:
            new = scanned[i]
            if new is not None:
                new = value if new == undecided[i] else quote(new, safe="[]:*")
        if new is None or new_names[i] != names[i]:
            continue
        kept.append(piece if new == value else f"{name}={new}" if named else new)
    return "; ".join(kept) if kept else None


def redact_set_cookie(view: View, raw: str, findings: list[Finding]) -> str | None:
    """``Set-Cookie: name=value; Path=/; HttpOnly``: the name and the value can be sensitive.

    As in :func:`redact_cookie_header`: a cookie without ``=`` has an empty name and its
    value is judged as any other; a name holding an enforced finding drops the header.
    """
    first, sep, attrs = raw.partition(";")
    name, value, named = _cookie(first.strip())
    by_name: list[Finding] = []
    handled, new = apply_name_target(view.cookies, name, value, "cookie", by_name, view)
    plain = unquote(name)
    new_names, scanned = scan_names_and_values(
        view, [plain], {} if handled else {0: value}, "cookie", findings, by_name
    )
    if new_names[0] != plain:
        return None
    if not handled:
        new = scanned[0]
    if new is None:
        return None
    if new == value:
        return raw
    new = quote(new, safe="[]:*")
    return f"{name}={new}{sep}{attrs}" if named else f"{new}{sep}{attrs}"


def _cookie(piece: str) -> tuple[str, str, bool]:
    """(name, value, whether it has a name) of ``name=value``; a piece without ``=`` is all value."""
    name, eq, value = piece.partition("=")
    return (name, value, True) if eq else ("", piece, False)
