"""How adapters report what they did, without depending on a metrics library.

Every adapter calls ``observer.observe(...)`` once per body it handles (a
streamed body once, when it ends or fails); the Prometheus observer
(``veil.observe.prometheus.Metrics``, needs ``veil[metrics]``) is one. Labels come only from the plan and the adapter (rule ids, detector
types, actions, outcomes, reasons): never from payloads.
"""

from __future__ import annotations

from typing import Protocol

from veil.rules.plan_types import Report

__all__ = ["OUTCOMES", "NullObserver", "Observer"]

OUTCOMES = ("rewritten", "unchanged", "skipped", "error")


class Observer(Protocol):
    def observe(
        self,
        *,
        adapter: str,
        direction: str,
        outcome: str,
        report: Report,
        seconds: float,
        size: int,
        reason: str = "",
    ) -> None:
        """One body handled: ``outcome`` is one of OUTCOMES; ``reason`` set for errors."""
        ...


class NullObserver:
    """The default: observes nothing."""

    def observe(self, **_: object) -> None:
        return None
