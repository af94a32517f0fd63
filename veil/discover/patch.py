"""Proposed rules for uncovered findings, appended to the input policy's own text.

One rule per route template with uncovered findings, placed at the end of the
``rules:`` list so the patch reads as an addition in a diff: the input's text,
comments and order stay as they were. Each rule redacts (the default action):

- a value a field name gave away (a whole value) -> ``fields: [{path, entity}]``;
- a header, query parameter, cookie or form field -> a name target;
- spans detectors found inside strings -> ``scan`` with those detectors, ``under`` the
  paths they were found at (or everywhere, for text bodies, URL path segments and
  names that were masked because they are data).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import yaml

from veil.discover.survey import ANY_ROUTE, Row

_NAME_LOCATIONS = {"header": "headers", "query": "query", "cookie": "cookies", "form": "form"}


def proposed_rules(rows: list[Row], taken_ids: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(comment, rule) for each route of the uncovered ``rows``, in route order."""
    by_route: dict[str, list[Row]] = {}
    for row in rows:
        by_route.setdefault(row.route, []).append(row)
    out = []
    for route in sorted(by_route):
        group = sorted(by_route[route], key=lambda r: (r.location, r.path))
        rule = _rule_for(route, group, taken_ids)
        types = Counter[str]()
        for row in group:
            types.update(row.types)
        listed = ", ".join(f"{t} x{n}" for t, n in sorted(types.items()))
        comment = (f"veil discover: {sum(types.values())} uncovered findings on {route} ({listed}); "
                   "review the action (redact by default)")
        out.append((comment, rule))
    return out


def _rule_for(route: str, rows: list[Row], taken_ids: set[str]) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": _unique_id(route, taken_ids)}
    if route != ANY_ROUTE:
        rule["match"] = {"paths": [route]}
    fields: list[dict[str, str]] = []
    names: dict[str, list[dict[str, str]]] = {}
    scan_types: set[str] = set()
    under: set[str] = set()
    everywhere = False
    for row in rows:
        top_type = row.types.most_common(1)[0][0]
        if row.location == "body" and row.path != "$" and row.whole_values == row.count:
            fields.append({"path": row.path, "entity": top_type})
            continue
        if row.location in _NAME_LOCATIONS and not row.path.startswith("<"):
            names.setdefault(_NAME_LOCATIONS[row.location], []).append({"name": row.path, "entity": top_type})
            continue
        scan_types.update(row.types)
        if row.location in ("body", "key") and row.path != "$":
            under.add(row.path)
        else:
            everywhere = True
    if fields:
        rule["fields"] = fields
    for target in ("headers", "query", "cookies", "form"):
        if target in names:
            rule[target] = names[target]
    if scan_types:
        scan: dict[str, Any] = {"detectors": sorted(scan_types)}
        if under and not everywhere:
            scan["under"] = sorted(under)
        rule["scan"] = scan
    return rule


def _unique_id(route: str, taken: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", route.replace("*", "x")).strip("-") or "any-route"
    base = f"discovered-{slug}"[:60]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def rule_ids(policy_data: Any) -> set[str]:
    """The ids the input policy's rules have, given or implied (``rule-N``)."""
    rules = policy_data.get("rules") if isinstance(policy_data, dict) else None
    if not isinstance(rules, list):
        return set()
    return {str(r.get("id") or f"rule-{i + 1}") if isinstance(r, dict) else f"rule-{i + 1}"
            for i, r in enumerate(rules)}


def patched_text(text: str, rules: list[tuple[str, dict[str, Any]]]) -> str:
    """``text`` with ``rules`` appended to its ``rules:`` list (a new policy when ``text`` is empty).

    Raises ValueError when the list cannot be appended to in place (written in flow style,
    ``rules: [...]``, or missing).
    """
    if not text.strip():
        return "version: 1\nrules:\n" + _render(rules, 2)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = None
    if isinstance(root, yaml.MappingNode):
        node = next((v for k, v in root.value if getattr(k, "value", None) == "rules"), None)
    if not isinstance(node, yaml.SequenceNode) or not node.value or node.flow_style:
        raise ValueError("the policy's 'rules:' must be a block list ('- ...' lines) to append rules to it")
    lines = text.splitlines(keepends=True)
    first = node.value[0].start_mark
    dash = lines[first.line].rfind("-", 0, first.column)
    indent = dash if dash >= 0 else first.column
    end = node.value[-1].end_mark
    at = end.line if end.column == 0 else end.line + 1  # the line after the last rule
    while at > 0 and at <= len(lines) and not lines[at - 1].strip():
        at -= 1  # before the blank lines that end the list, so the addition reads as one block
    head = "".join(lines[:at])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + _render(rules, indent) + "".join(lines[at:])


def _render(rules: list[tuple[str, dict[str, Any]]], indent: int) -> str:
    pad = " " * indent
    out = []
    for comment, rule in rules:
        out.append(f"{pad}# {comment}\n")
        body = yaml.safe_dump([rule], sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
        out.extend(pad + line + "\n" for line in body.splitlines())
    return "".join(out)
