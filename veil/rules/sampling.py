"""Sampled detect mode: detect-mode passes over a fraction of the messages, apart from enforcement.

Two kinds of sample, both written ``sample: 0.05`` in the policy:

- a detect-mode rule with ``sample:`` runs on that fraction of the messages it matches;
- a top-level ``sample:`` runs a *discovery* pass on that fraction: every detector but URL
  and field-name classification, in detect mode, over the message as it came. What it finds
  where no enforcing rule acted (a finding of mode ``enforce``: ``keep`` is a decision too)
  is an *uncovered* finding: rule ``""``, action ``none``, mode ``detect``.

A sampled pass runs on a separate plan holding only its rules, over the original input, and
its output is thrown away: what is sent is byte for byte what an unsampled message gets (a
detect rule merged into the enforcing view could claim a field before an enforcing scan saw
it). Only buffered bodies, free text and JSON values are sampled (``redact_body``,
``redact_text``, ``redact_json``); streams (a buffered event stream too: its report is counts
only), headers, query strings and URL paths are not.
A multipart body is one draw, not one per part.

A sampled call returns a :class:`SampledReport`: every finding (the enforcing ones too) as a
:class:`SampledFinding` that carries the route template (the path glob of the first rule in
force on the route that has one, else ``*``; never the raw path), the policy digest, and
``sampled_by``: ``policy`` when the discovery pass ran (the findings are then all there is
on the message, so coverage can be computed), else ``rule``. Observers
(``veil.observe.records.FindingRecorder``, ``veil.observe.prometheus.Metrics``) read them.

Deterministic given the random source (``random``, a function returning floats in
[0, 1): ``random.Random(seed).random`` in tests); no I/O.
"""

from __future__ import annotations

import copy
import random as random_module
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from veil.errors import RedactionError
from veil.rules.compiled import CompiledRule
from veil.rules.globs import compile_globs, matches
from veil.rules.media import media_type
from veil.rules.plan import Plan, TextResult
from veil.rules.plan_types import Finding, Report, Result, Route
from veil.rules.regex import Pattern
from veil.rules.vault_plan import VaultPlan

UNCOVERED = ""
"""The rule of an uncovered finding: no rule acted on it."""
DISCOVERY_RULE = "veil-sample"
"""The id of the discovery pass's own rule (never in a report: its findings are relabelled)."""
ANY_ROUTE = "*"
"""The route template of a message no rule with a path glob applies to."""

RandomSource = Callable[[], float]

_NO_ROUTE = Route()

_inside: ContextVar[bool] = ContextVar("veil_sampling_inside", default=False)
"""Set while a sampled plan redacts: a multipart part or an SSE body redacted inside a call is
not drawn again."""


class SampledFinding(Finding):
    """A finding of a sampled call: a :class:`Finding` plus the route template, the policy digest
    and which pass sampled the call (``policy`` or ``rule``). Values are never in it."""

    __slots__ = ("route", "policy", "sampled_by")
    route: str
    policy: str
    sampled_by: str

    @classmethod
    def of(cls, finding: Finding, route: str, policy: str, sampled_by: str) -> SampledFinding:
        new = cls(finding.type, finding.rule, finding.action, finding.location, finding.unrendered_path,
                  finding.mode, finding.start, finding.end)
        set_ = object.__setattr__
        set_(new, "route", route)
        set_(new, "policy", policy)
        set_(new, "sampled_by", sampled_by)
        return new

    @property
    def acted(self) -> bool:
        """Whether a rule decided on it (enforce mode, ``keep`` included)."""
        return self.mode == "enforce"


class SampledReport(Report):
    """The report of a sampled call: its findings are :class:`SampledFinding` s. Merging it with
    another report gives a plain :class:`Report` (findings kept, the marker not)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class RouteTemplates:
    """Path globs of the policy's rules, by rule id, in the order each rule lists them."""

    globs: dict[str, tuple[tuple[str, Pattern | None], ...]]

    @classmethod
    def build(cls, rules: Sequence[tuple[str, Sequence[str]]]) -> RouteTemplates:
        """From (rule id, ``match.paths``) pairs (globs already checked by the compiler)."""
        return cls({rule_id: tuple((g, compile_globs([g], separator="/", case_insensitive=False)) for g in paths)
                    for rule_id, paths in rules if paths})

    def of(self, rules: Sequence[CompiledRule], path: str) -> str:
        """The first glob of the first rule in ``rules`` (those in force on the route) that matches
        ``path``; :data:`ANY_ROUTE` when none does."""
        for rule in rules:
            for glob, pattern in self.globs.get(rule.id, ()):
                if matches(pattern, path or "/"):
                    return glob
        return ANY_ROUTE


@dataclass(frozen=True, slots=True)
class Sampling:
    """What a plan samples: its sampled detect rules with their rates, the discovery rule and its
    rate (None: no policy-level sample), the route templates and the random source."""

    rules: tuple[tuple[CompiledRule, float], ...]
    discovery: tuple[CompiledRule, float] | None
    templates: RouteTemplates
    random: RandomSource

    def draw(self) -> tuple[tuple[CompiledRule, ...], bool]:
        """(the sampled rules that run on this call, whether the discovery pass runs)."""
        rand = self.random
        chosen = tuple(rule for rule, rate in self.rules if rand() < rate)
        return chosen, self.discovery is not None and rand() < self.discovery[1]


def sampled_rules(plan: Plan) -> tuple[CompiledRule, ...]:
    """The sampled detect rules of ``plan`` (not in ``plan.rules``: they never join the enforcing
    views), for an adapter deciding which routes to read at all (``veil.http.coverage``)."""
    sampling: Sampling | None = getattr(plan, "sampling", None)
    return () if sampling is None else tuple(rule for rule, _ in sampling.rules)


def never_sampled(plan: Plan) -> Plan:
    """``plan`` as it redacts when no draw succeeds: for tools whose answer must not depend on chance
    (``veil test`` cases, ``veil audit`` counts, the policy side of ``veil discover``). ``plan``
    itself when it samples nothing; else a shallow copy (its caches shared) that never draws."""
    sampling: Sampling | None = getattr(plan, "sampling", None)
    if sampling is None:
        return plan
    twin = copy.copy(plan)
    twin.sampling = replace(sampling, random=_never)  # type: ignore[attr-defined]
    return twin


def _never() -> float:
    return 1.0  # rand() < rate never holds: rates are at most 1


def default_random() -> RandomSource:
    """A random source of its own (seeded from the system), so plans do not share one state."""
    return random_module.Random().random


_T = TypeVar("_T")


class SamplingMixin(Plan):
    """The plan methods that draw a sample; mixed into :class:`Plan` and :class:`VaultPlan`."""

    sampling: Sampling

    def __init__(self, *, sampling: Sampling, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sampling = sampling
        self._passes: dict[tuple[str, ...], Plan] = {}

    def redact_body(self, body: bytes, content_type: str = "", route: Route | None = None, *,
                    rules_for: str = "", rules_also: str = "") -> Result:
        result = self._unsampled(
            lambda: super(SamplingMixin, self).redact_body(body, content_type, route, rules_for=rules_for, rules_also=rules_also))
        if _inside.get():
            return result
        media = rules_for or media_type(content_type or (route.content_type if route else ""))[0]
        report = self._sample(result.report, route, media,
                              lambda plan: plan.redact_body(body, content_type, route, rules_for=rules_for, rules_also=rules_also).report)
        return result if report is None else Result(result.output, report, result.kind)

    def redact_text(self, text: str, route: Route | None = None) -> TextResult:
        result = self._unsampled(lambda: super(SamplingMixin, self).redact_text(text, route))
        if _inside.get():
            return result
        report = self._sample(result.report, route, "text/plain", lambda plan: plan.redact_text(text, route).report)
        return result if report is None else TextResult(result.text, report)

    def redact_json(self, value: Any, route: Route | None = None) -> tuple[Any, Report]:
        new, report = self._unsampled(lambda: super(SamplingMixin, self).redact_json(value, route))
        if _inside.get():
            return new, report
        sampled = self._sample(report, route, "application/json", lambda plan: plan.redact_json(value, route)[1])
        return new, report if sampled is None else sampled

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        if self.sampling.rules:
            rates = [rate for _, rate in self.sampling.rules]
            described = self._pass(tuple(rule for rule, _ in self.sampling.rules)).summary()["rules"]
            out["rules"] += [{**rule, "sample": rate} for rule, rate in zip(described, rates)]
        out["sample"] = self.sampling.discovery[1] if self.sampling.discovery is not None else None
        return out

    # -- the passes ---------------------------------------------------------------------

    @staticmethod
    def _unsampled(call: Callable[[], _T]) -> _T:
        if _inside.get():
            return call()
        token = _inside.set(True)
        try:
            return call()
        finally:
            _inside.reset(token)

    def _sample(self, report: Report, route: Route | None, media: str,
                run: Callable[[Plan], Report]) -> SampledReport | None:
        """The sampled report of a call whose own report is ``report``; None when not drawn, and for
        a report of counts only (a buffered event stream): it has no findings to label, and a
        report of findings in its place would lose the counts."""
        if not report.findings and report.counts():
            return None
        chosen, discovery = self.sampling.draw()
        # A sampled rule runs on its fraction of the messages it matches: drawn elsewhere, nothing runs.
        chosen = tuple(rule for rule in chosen if rule.match.applies(route or _NO_ROUTE, media))
        if not chosen and not discovery:
            return None
        token = _inside.set(True)
        try:
            detected = run(self._pass(chosen)).findings if chosen else ()
            found = run(self._pass((self.sampling.discovery[0],))).findings if discovery else ()  # type: ignore[index]
        except RedactionError:
            return None  # the message itself was redacted; only its sample is lost
        finally:
            _inside.reset(token)
        by = "policy" if discovery else "rule"
        template = self.sampling.templates.of(self.view(route).rules, route.path if route else "")
        digest = self.digest
        findings = [SampledFinding.of(f, template, digest, by) for f in (*report.findings, *detected)]
        if found:
            acted = _Acted(report.findings)
            findings += [SampledFinding.of(Finding(f.type, UNCOVERED, "none", f.location, f.unrendered_path, "detect",
                                                   f.start, f.end), template, digest, by)
                         for f in found if not acted.covers(f)]
        sampled = SampledReport(tuple(findings), report.changed)
        return sampled

    def _pass(self, rules: tuple[CompiledRule, ...]) -> Plan:
        """A plain plan of ``rules`` alone, with this plan's detectors, classes, allow lists and limits."""
        key = tuple(r.id for r in rules)
        plan = self._passes.get(key)
        if plan is None:
            plan = self._passes[key] = Plan(
                rules=rules, catalog=self.catalog, classifier=self.classifier, global_allow=self._global_allow,
                protected=self._protected, limits=self.limits, on_error=self.on_error, source=self.source,
                lineage=self.lineage,
            )
        return plan


class _Acted:
    """Where a message's enforcing findings are: whole values by place, spans by place."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.whole: set[tuple[str, str]] = set()
        self.spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for f in findings:
            if f.mode != "enforce":
                continue
            place = (f.location, f.path)
            if f.start < 0:
                self.whole.add(place)
            else:
                self.spans.setdefault(place, []).append((f.start, f.end))

    def covers(self, f: Finding) -> bool:
        """Whether an enforcing finding is at ``f``'s place: its whole value, or a span that overlaps."""
        place = (f.location, f.path)
        if place in self.whole:
            return True
        spans = self.spans.get(place)
        if not spans:
            return False
        return f.start < 0 or any(start < f.end and f.start < end for start, end in spans)


class SampledPlan(SamplingMixin, Plan):
    """A :class:`Plan` whose policy samples (``sample:``)."""


class SampledVaultPlan(SamplingMixin, VaultPlan):
    """A vault plan whose policy samples (``sample:``)."""


__all__ = [
    "ANY_ROUTE", "DISCOVERY_RULE", "UNCOVERED", "RouteTemplates", "SampledFinding", "SampledPlan",
    "SampledReport", "SampledVaultPlan", "Sampling", "SamplingMixin", "default_random", "never_sampled",
    "sampled_rules",
]
