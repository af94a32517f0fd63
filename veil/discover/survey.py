"""Which personal data the samples carry where, and whether the policy covers it.

Every exchange runs through two plans: a *discovery* plan (one detect-mode rule
that classifies field names and runs every detector but URL, with the input
policy's own detectors, field names, allow lists and limits) finds what is
there; the *input* plan says what the policy already acts on. A finding is
covered when the input plan has an enforced finding at the same place (route,
location, value-free path). Rows hold rule ids, types and counts, never values.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from veil.discover.samples import Exchange, FindingRecord, Sample
from veil.errors import RedactionError
from veil.rules.compiler import compile_policy
from veil.rules.plan import Plan
from veil.rules.plan_types import Finding, Route
from veil.rules.sampling import never_sampled

ANY_ROUTE = "*"
"""The route of a body whose route the sample does not say (an NDJSON line)."""

_INDEX = re.compile(r"\[(?:\d+|<key>)\]")
_KEEP_SEGMENT = re.compile(r"[A-Za-z][A-Za-z_-]{0,39}|v\d{1,3}")
"""A URL path segment kept in a route template: a word (``users``, ``order-items``) or a
version (``v2``); any other segment (ids, e-mails, hashes) is data and becomes ``*``."""

_SKIPPED_DETECTORS = frozenset({"URL"})
"""Not run by discovery: plain URLs are rarely personal (builtin:strict leaves them out too)."""

Place = tuple[str, str, str]
"""(route template, location, folded path)."""


def route_template(path: str) -> str:
    """``/users/42/orders`` -> ``/users/*/orders``: a glob veil's ``match.paths`` accepts,
    with every segment that is not a plain word or version folded to ``*``."""
    if not path:
        return ANY_ROUTE
    segments = path.split("/")
    return "/".join(s if not s or _KEEP_SEGMENT.fullmatch(s) else "*" for s in segments)


def fold_path(location: str, path: str) -> str:
    """A finding's path without indices or masked keys (``$.items[0].card`` -> ``$.items[*].card``);
    names of headers, which compare case-insensitively, in lower case."""
    if location in ("body", "key"):
        return _INDEX.sub("[*]", path)
    return path.lower() if location in ("header", "cookie") else path


@dataclass(slots=True)
class Row:
    """What was found at one place: types with counts, and the rules that cover it."""

    route: str
    location: str
    path: str
    types: Counter[str] = field(default_factory=Counter)
    whole_values: int = 0
    """Findings that covered a whole value (a field name said it), as opposed to spans a detector found."""
    enforced_by: set[str] = field(default_factory=set)
    detected_by: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return sum(self.types.values())

    @property
    def coverage(self) -> str:
        """``yes`` (an enforce rule acts), ``detect`` (only detect-mode rules see it) or ``no``."""
        if self.enforced_by:
            return "yes"
        return "detect" if self.detected_by else "no"


@dataclass(slots=True)
class Survey:
    """Rows by place, plus the samples that could not be processed (by where and reason)."""

    rows: dict[Place, Row] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    exchanges: int = 0
    records: int = 0

    def uncovered(self) -> list[Row]:
        return [row for row in self.rows.values() if row.coverage != "yes"]


def discovery_plan(policy_data: Mapping[str, Any] | None) -> Plan:
    """The detect-everything plan, with ``policy_data``'s detectors, field names, allow and limits."""
    base = {k: v for k, v in (policy_data or {}).items() if k in ("detectors", "field_names", "allow", "limits")}
    probe = compile_policy({**base, "version": 1, "rules": [{"scan": True}]}, source="<discovery>")
    detectors = [name for name in probe.catalog if name not in _SKIPPED_DETECTORS]
    rule = {"id": "veil-discover", "mode": "detect", "classify": {}, "scan": {"detectors": detectors}}
    return compile_policy({**base, "version": 1, "rules": [rule]}, source="<discovery>")


def survey(samples: Iterable[Sample], found_by: Plan, policy: Plan | None) -> Survey:
    """Run ``found_by`` (the discovery plan) and ``policy`` over ``samples``."""
    # The policy's side says what its rules cover: a sampled pass would add chance (and rule-less) findings.
    policy = never_sampled(policy) if policy is not None else None
    result = Survey()
    for sample in samples:
        if isinstance(sample, FindingRecord):
            result.records += 1
            row = _row(result, (sample.route, sample.location, fold_path(sample.location, sample.path)))
            row.types[sample.type] += 1
            if sample.coverage != "no":
                (row.enforced_by if sample.coverage == "yes" else row.detected_by).add(sample.rule)
            continue
        result.exchanges += 1
        route = Route(sample.direction, sample.method, sample.host, sample.path, sample.content_type)
        template = route_template(sample.path)
        try:
            found = _findings(found_by, sample, route)
            known = _findings(policy, sample, route) if policy is not None else []
        except RedactionError as exc:
            result.skipped.append(f"{sample.where}: {exc}")
            continue
        for f in found:
            row = _row(result, (template, f.location, fold_path(f.location, f.path)))
            row.types[f.type] += 1
            row.whole_values += f.start < 0
        for f in known:
            row_ = result.rows.get((template, f.location, fold_path(f.location, f.path)))
            if row_ is not None:
                (row_.enforced_by if f.mode == "enforce" else row_.detected_by).add(f.rule)
    return result


def _row(result: Survey, place: Place) -> Row:
    row = result.rows.get(place)
    if row is None:
        row = result.rows[place] = Row(*place)
    return row


def _findings(plan: Plan, sample: Exchange, route: Route) -> list[Finding]:
    out: list[Finding] = []
    if sample.body:
        out += plan.redact_body(sample.body, sample.content_type, route).report.findings
    if sample.headers:
        out += plan.redact_headers(sample.headers, route)[1].findings
    if sample.query:
        out += plan.redact_query(sample.query, route)[1].findings
    if sample.direction == "request" and sample.path:
        out += plan.redact_path(sample.path, route)[1].findings
    return out
