"""Prometheus metrics of vault tokens.

- ``veil_vault_tokens_total{vault,outcome}``: tokenize calls that reached the
  vault (``issued``), fell back to a vaultless token (``fallback``) or failed the
  body closed (``blocked``) because the vault failed. Read from every live plan's
  counters at scrape time (the default registry, registered once).
- ``veil_token_resolve_total{outcome}``: tokens a detokenize service was asked to
  resolve, by outcome (ok, denied, unknown, expired, forgotten, error).
- ``veil_token_resolve_seconds``: time to answer one detokenize request;
  ``veil_token_vault_seconds``: time of one vault lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from veil.rules.actions.vault_token import LIVE_COUNTERS, OUTCOMES

try:
    import prometheus_client as prom
    from prometheus_client.core import CounterMetricFamily
except ImportError:  # pragma: no cover - metrics are optional
    prom = None  # type: ignore[assignment]

_registered = False
_lock = threading.Lock()


class _TokenCounters:
    """Collector over :data:`LIVE_COUNTERS`, summed by vault."""

    def collect(self) -> Iterator[Any]:
        family = CounterMetricFamily("veil_vault_tokens", "Vault tokenize calls by outcome", labels=["vault", "outcome"])
        sums: dict[tuple[str, str], int] = {}
        for counters in list(LIVE_COUNTERS):
            for outcome in ("issued", "fallback", "blocked"):
                key = (counters.vault, outcome)
                sums[key] = sums.get(key, 0) + getattr(counters, outcome)
        for (vault, outcome), value in sorted(sums.items()):
            family.add_metric([vault, outcome], value)
        yield family


def register_default() -> None:
    """Register the token counters on the default registry, once per process."""
    global _registered
    if prom is None:
        return
    with _lock:
        if not _registered:
            prom.REGISTRY.register(_TokenCounters())
            _registered = True


class ResolveMetrics:
    """The detokenize service's counters and histograms, on its own registry."""

    def __init__(self) -> None:
        if prom is None:
            raise RuntimeError("the detokenize service needs prometheus-client: pip install 'veil[vault]'")
        self.registry = prom.CollectorRegistry()
        self.resolved = prom.Counter("veil_token_resolve_total", "Tokens resolved, by outcome", ["outcome"],
                                     registry=self.registry)
        for outcome in OUTCOMES:
            self.resolved.labels(outcome)
        self.requests = prom.Counter("veil_detokenize_requests_total", "Detokenize requests, by HTTP status",
                                     ["status"], registry=self.registry)
        self.latency = prom.Histogram("veil_token_resolve_seconds", "Time to answer one detokenize request",
                                      registry=self.registry)
        self.vault_latency = prom.Histogram("veil_token_vault_seconds", "Time of one vault lookup",
                                            registry=self.registry)
        self.registry.register(_TokenCounters())

    def exposition(self) -> bytes:
        return bytes(prom.generate_latest(self.registry))
