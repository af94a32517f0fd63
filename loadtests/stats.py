"""Exact latency percentiles from the per-request samples the locustfile writes.

Locust's own percentiles are rounded (to whole milliseconds below 100 ms), too
coarse for a 1 ms budget, so the locustfile records every request's
``response_time`` as a float and the runner computes percentiles here.

Sample file: one line per request, tab-separated: seconds since the test started,
request name, latency in ms, outcome (``ok``, ``leak``, or ``fail:<reason>``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OK = "ok"
LEAK = "leak"
FAIL = "fail"


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of sorted values, interpolating between closest ranks.

    The same definition as numpy's default and ``statistics.quantiles(method="inclusive")``:
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Latency summary of one request name in one configuration, in ms."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float

    def get(self, metric: str) -> float:
        """``p50``, ``p95`` or ``p99`` by name."""
        if metric not in ("p50", "p95", "p99"):
            raise ValueError(f"unknown metric {metric!r}")
        return float(getattr(self, metric))


def summarize(latencies: Iterable[float]) -> Summary:
    ordered = sorted(latencies)
    if not ordered:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    return Summary(len(ordered), percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99), ordered[-1])


@dataclass
class Samples:
    """Every kept sample of one configuration, merged over rounds."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    leaks: Counter[str] = field(default_factory=Counter)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    per_round: list[dict[str, list[float]]] = field(default_factory=list)
    dropped_warmup: int = 0
    sent: int = 0
    """Requests of every outcome in every round, warm-up included: what the server CPU time was spent on."""
    cpu_s: float | None = 0.0
    """Server CPU seconds over all rounds (:mod:`loadtests.cpu`); None once a round could not be measured."""

    def add_round(self, lines: Iterable[str], warmup_s: float) -> None:
        """Merge one Locust run; samples in its first ``warmup_s`` seconds are dropped (ramp-up, new connections)."""
        this_round: dict[str, list[float]] = {}
        for raw in lines:
            parts = raw.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            t, name, ms, outcome = float(parts[0]), parts[1], float(parts[2]), parts[3]
            self.sent += 1
            if t < warmup_s:
                self.dropped_warmup += 1
                if outcome == OK:
                    continue
            if outcome == OK:
                self.latencies.setdefault(name, []).append(ms)
                this_round.setdefault(name, []).append(ms)
            elif outcome == LEAK:
                self.leaks[name] += 1  # leaks and failures count even during warm-up
            else:
                self.failures[(name, outcome.removeprefix(FAIL + ":"))] += 1
        self.per_round.append(this_round)

    def add_file(self, path: Path, warmup_s: float) -> None:
        with open(path, encoding="utf-8") as fh:
            self.add_round(fh, warmup_s)

    def add_cpu(self, seconds: float | None) -> None:
        self.cpu_s = None if seconds is None or self.cpu_s is None else self.cpu_s + seconds

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_s is None or not self.sent:
            return None
        return self.cpu_s * 1000 / self.sent

    def summary(self, name: str) -> Summary:
        return summarize(self.latencies.get(name, ()))

    def round_summaries(self, name: str) -> list[Summary]:
        return [summarize(r.get(name, ())) for r in self.per_round]

    def failed(self, name: str) -> int:
        return sum(n for (req, _), n in self.failures.items() if req == name)

    def names(self) -> list[str]:
        seen = set(self.latencies) | set(self.leaks) | {name for name, _ in self.failures}
        return sorted(seen)
