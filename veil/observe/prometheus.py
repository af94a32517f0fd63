"""Prometheus metrics for every adapter, with the same names everywhere.

    from veil.observe.prometheus import Metrics      # or veil.integrations.prometheus: the same class
    metrics = Metrics()
    app.add_middleware(VeilASGIMiddleware, observer=metrics)
    app.add_route("/metrics", metrics.asgi_app())  # GET /metrics answers 200 (a mount answers 307 to /metrics/)
    # WSGI: DispatcherMiddleware(app.wsgi_app, {"/metrics": metrics.wsgi_app()})

Metrics (labels are bounded: they come from the plan and the adapter only):

- ``veil_bodies_total{adapter,direction,outcome}``: bodies handled; outcome is
  rewritten, unchanged, skipped (binary or unknown type) or error.
- ``veil_errors_total{adapter,direction,reason}``: bodies veil could not process.
- ``veil_findings_total{adapter,direction,type,rule,action}``: findings.
- ``veil_processing_seconds{adapter,direction}``: time spent redacting a body.
- ``veil_bytes_total{adapter,direction}``: body bytes processed.
- ``veil_policy_reloads_total{outcome}``: policy hot reloads (``veil proxy``): ok or error.
- ``veil_uncovered_findings_total{route,type}``: personal data the sampled discovery pass
  (top-level ``sample:``, :mod:`veil.rules.sampling`) found where no rule acts. ``route`` is
  the path glob of the first rule in force on the route that has one, ``*`` when none has:
  a value of the plan, never a raw path.
- ``veil_sampled_findings_total{route,acted}``: every finding on those sampled messages,
  ``acted`` ``yes`` when a rule decided on it (enforce mode, ``keep`` included), else ``no``.
  Mask coverage per route is ``sum by (route) (rate(veil_sampled_findings_total{acted="yes"}[1h]))
  / sum by (route) (rate(veil_sampled_findings_total[1h]))``.

Every ``Metrics()`` on one registry (the default one, ``prometheus_client.REGISTRY``,
unless ``registry=`` says otherwise) and namespace shares one set of collectors: a
second one (a second app in the process, a test, a reloaded module) counts into the
same series instead of raising prometheus-client's ``Duplicated timeseries``.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory) before the workers start; ``asgi_app``/``wsgi_app`` then aggregate
every worker's samples, as prometheus-client documents for multiprocess mode.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from veil.rules.plan_types import Report
from veil.rules.sampling import UNCOVERED, SampledFinding, SampledReport

try:
    import prometheus_client as prom
    from prometheus_client import multiprocess
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("veil.observe.prometheus needs prometheus-client: install veil[metrics]") from exc


@dataclass(frozen=True, slots=True)
class _Collectors:
    """veil's collectors on one registry under one namespace (registered once, then shared)."""

    bodies: prom.Counter
    errors: prom.Counter
    findings: prom.Counter
    seconds: prom.Histogram
    bytes: prom.Counter
    policy_reloads: prom.Counter
    uncovered: prom.Counter
    sampled: prom.Counter

    @classmethod
    def register(cls, registry: prom.CollectorRegistry, namespace: str) -> _Collectors:
        kw: dict[str, Any] = {"namespace": namespace, "registry": registry}
        return cls(
            bodies=prom.Counter("bodies_total", "Bodies handled, by outcome.", ["adapter", "direction", "outcome"], **kw),
            errors=prom.Counter("errors_total", "Bodies veil could not process.", ["adapter", "direction", "reason"], **kw),
            findings=prom.Counter(
                "findings_total", "Findings, by type, rule and action.", ["adapter", "direction", "type", "rule", "action"],
                **kw,
            ),
            seconds=prom.Histogram(
                "processing_seconds", "Time spent redacting one body.", ["adapter", "direction"],
                buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0), **kw,
            ),
            bytes=prom.Counter("bytes_total", "Body bytes processed.", ["adapter", "direction"], **kw),
            policy_reloads=prom.Counter(
                "policy_reloads_total", "Policy hot reloads (proxy), by outcome: ok or error.", ["outcome"], **kw
            ),
            uncovered=prom.Counter(
                "uncovered_findings_total", "Personal data a sampled discovery pass found where no rule acts.",
                ["route", "type"], **kw,
            ),
            sampled=prom.Counter(
                "sampled_findings_total", "Findings on messages the discovery pass sampled, by whether a rule acted.",
                ["route", "acted"], **kw,
            ),
        )


# Weak keys: a test's or a worker's throwaway registry frees its collectors with it.
_registered: WeakKeyDictionary[prom.CollectorRegistry, dict[str, _Collectors]] = WeakKeyDictionary()
_registering = threading.Lock()


def _collectors(registry: prom.CollectorRegistry, namespace: str) -> _Collectors:
    with _registering:
        by_namespace = _registered.setdefault(registry, {})
        found = by_namespace.get(namespace)
        if found is None:
            found = by_namespace[namespace] = _Collectors.register(registry, namespace)
        return found


class Metrics:
    """An :class:`veil.observe.Observer` that records Prometheus metrics.

    Instances on the same ``registry`` and ``namespace`` share their collectors (see the module doc).
    """

    def __init__(self, registry: prom.CollectorRegistry | None = None, namespace: str = "veil") -> None:
        self.registry = registry if registry is not None else prom.REGISTRY
        shared = _collectors(self.registry, namespace)
        self.bodies, self.errors, self.findings = shared.bodies, shared.errors, shared.findings
        self.seconds, self.bytes, self.policy_reloads = shared.seconds, shared.bytes, shared.policy_reloads
        self.uncovered, self.sampled = shared.uncovered, shared.sampled

        # Labelled children by label values: ``labels()`` takes a lock and validates
        # on every call, several times per body. Label values come from the plan and
        # the adapter only, so these stay small.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(
        self, *, adapter: str, direction: str, outcome: str, report: Report, seconds: float, size: int,
        reason: str = "",
    ) -> None:
        child = self._child
        child(self.bodies, adapter, direction, outcome).inc()
        if outcome == "error":
            child(self.errors, adapter, direction, reason or "unknown").inc()
        for (etype, rule, action, _mode), count in report.counts().items():
            if rule:  # no rule: an uncovered finding, counted below
                child(self.findings, adapter, direction, etype, rule, action).inc(count)
        if type(report) is SampledReport:
            self._sampled(report)
        child(self.seconds, adapter, direction).observe(seconds)
        child(self.bytes, adapter, direction).inc(size)

    def _sampled(self, report: SampledReport) -> None:
        """Drift and coverage from a sampled message's findings (only a discovery pass sees them all)."""
        child = self._child
        for f in report.findings:
            if not isinstance(f, SampledFinding) or f.sampled_by != "policy":
                continue
            if f.rule == UNCOVERED:
                child(self.uncovered, f.route, f.type).inc()
            child(self.sampled, f.route, "yes" if f.acted else "no").inc()

    def _exposition_registry(self) -> prom.CollectorRegistry:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return registry
        return self.registry

    def asgi_app(self) -> Any:
        """An ASGI app serving the metrics: ``app.add_route("/metrics", metrics.asgi_app())`` answers
        ``GET /metrics`` itself (``app.mount`` works too, at ``/metrics/``: Starlette redirects ``/metrics``)."""
        return _RoutableASGI(prom.make_asgi_app(registry=self._exposition_registry()))

    def wsgi_app(self) -> Any:
        """A WSGI app serving the metrics."""
        return prom.make_wsgi_app(registry=self._exposition_registry())


class _RoutableASGI:
    """An ASGI app as an object, not a function: Starlette's ``Route`` (``add_route``) treats a plain
    function as a request handler and an object as an ASGI app, so the function prometheus-client
    makes cannot be routed as it is."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


__all__ = ["Metrics"]
