"""Prometheus metrics for every adapter, with the same names everywhere.

    from veil.observe.prometheus import Metrics      # or veil.integrations.prometheus: the same class
    metrics = Metrics()
    app.add_middleware(ASGIMiddleware, observer=metrics)
    app.mount("/metrics", metrics.asgi_app())     # or metrics.wsgi_app() for WSGI

Metrics (labels are bounded: they come from the plan and the adapter only):

- ``veil_bodies_total{adapter,direction,outcome}``: bodies handled; outcome is
  rewritten, unchanged, skipped (binary or unknown type) or error.
- ``veil_errors_total{adapter,direction,reason}``: bodies veil could not process.
- ``veil_findings_total{adapter,direction,type,rule,action}``: findings.
- ``veil_processing_seconds{adapter,direction}``: time spent redacting a body.
- ``veil_bytes_total{adapter,direction}``: body bytes processed.
- ``veil_policy_reloads_total{outcome}``: policy hot reloads (``veil proxy``): ok or error.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory) before the workers start; ``asgi_app``/``wsgi_app`` then aggregate
every worker's samples, as prometheus-client documents for multiprocess mode.
"""

from __future__ import annotations

import os
from typing import Any

from veil.rules.plan_types import Report

try:
    import prometheus_client as prom
    from prometheus_client import multiprocess
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("veil.observe.prometheus needs prometheus-client: install veil[metrics]") from exc


class Metrics:
    """An :class:`veil.observe.Observer` that records Prometheus metrics."""

    def __init__(self, registry: prom.CollectorRegistry | None = None, namespace: str = "veil") -> None:
        self.registry = registry if registry is not None else prom.REGISTRY
        kw: dict[str, Any] = {"namespace": namespace, "registry": self.registry}
        self.bodies = prom.Counter("bodies_total", "Bodies handled, by outcome.", ["adapter", "direction", "outcome"], **kw)
        self.errors = prom.Counter("errors_total", "Bodies veil could not process.", ["adapter", "direction", "reason"], **kw)
        self.findings = prom.Counter(
            "findings_total", "Findings, by type, rule and action.", ["adapter", "direction", "type", "rule", "action"], **kw
        )
        self.seconds = prom.Histogram(
            "processing_seconds", "Time spent redacting one body.", ["adapter", "direction"],
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0), **kw,
        )
        self.bytes = prom.Counter("bytes_total", "Body bytes processed.", ["adapter", "direction"], **kw)
        self.policy_reloads = prom.Counter(
            "policy_reloads_total", "Policy hot reloads (proxy), by outcome: ok or error.", ["outcome"], **kw
        )

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
            child(self.findings, adapter, direction, etype, rule, action).inc(count)
        child(self.seconds, adapter, direction).observe(seconds)
        child(self.bytes, adapter, direction).inc(size)

    def _exposition_registry(self) -> prom.CollectorRegistry:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return registry
        return self.registry

    def asgi_app(self) -> Any:
        """An ASGI app serving the metrics (mount it at /metrics)."""
        return prom.make_asgi_app(registry=self._exposition_registry())

    def wsgi_app(self) -> Any:
        """A WSGI app serving the metrics."""
        return prom.make_wsgi_app(registry=self._exposition_registry())


__all__ = ["Metrics"]
