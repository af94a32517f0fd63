"""Latency budgets: parse ``loadtests/budgets.yaml`` and decide PASS or BREACH.

A budget compares a configuration with its baseline *measured in the same run*,
never with absolute times (those depend on the machine)::

    rate: 100                                  # req/s offered in total, the rate the budgets are stated at
    requests: ["GET /json/10KB/realistic"]     # the request names (rows) the budgets apply to
    budgets:
      asgi_middleware: {config: fastapi+veil, baseline: fastapi, p95_overhead_ms: 1.0}
      proxy: {config: veil-proxy, baseline: mitmdump, p95_ratio: 1.25}

Each limit is held against the median over rounds of the per-round value (a
round's configuration and baseline run back to back; see :func:`check_budget`).
Limits (every limit given must hold; at least one per budget):
``pNN_overhead_ms`` (config - baseline, ms), ``pNN_overhead_pct`` (that difference
as a % of the baseline), ``pNN_ratio`` (config / baseline), for NN = 95 or 99.
A budget whose configurations are not part of a run is skipped.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests.stats import Summary
from loadtests.yamlfile import ConfigFileError, parse_root

LIMIT_KEYS: dict[str, tuple[str, str]] = {
    f"{metric}_{kind}": (metric, kind)
    for metric in ("p95", "p99") for kind in ("overhead_ms", "overhead_pct", "ratio")
}


_UNITS = {"overhead_ms": " ms", "overhead_pct": "%", "ratio": "x"}


@dataclass(frozen=True)
class Limit:
    metric: str  # p95 | p99
    kind: str  # overhead_ms | overhead_pct | ratio
    value: float

    @property
    def key(self) -> str:
        return f"{self.metric}_{self.kind}"

    @property
    def unit(self) -> str:
        return _UNITS[self.kind]

    def number(self, measured: float) -> str:
        """A measured value without its unit: ``1.27`` for a ratio, signed ``+0.42`` for an overhead."""
        return f"{measured:.2f}" if self.kind == "ratio" else f"{measured:+.2f}"

    def show(self, measured: float) -> str:
        """A measured value in this limit's unit: ``1.27x``, ``+0.42 ms``, ``-3.00%``."""
        return self.number(measured) + self.unit

    def describe(self) -> str:
        if self.kind == "overhead_ms":
            return f"{self.metric} ≤ +{self.value:g} ms"
        if self.kind == "overhead_pct":
            return f"{self.metric} ≤ +{self.value:g}%"
        return f"{self.metric} ≤ {self.value:g}x"


@dataclass(frozen=True)
class Budget:
    name: str
    config: str
    baseline: str
    limits: tuple[Limit, ...]


@dataclass(frozen=True)
class Budgets:
    rate: float
    requests: tuple[str, ...]
    budgets: tuple[Budget, ...]
    source: str


def parse_budgets(text: str, source: str, known_configs: frozenset[str]) -> Budgets:
    """Validate a budgets file; a problem raises ConfigFileError ``file:line:col: field: message``."""
    root = parse_root(text, source)
    top = root.mapping(("rate", "requests", "budgets"), required=("rate", "requests", "budgets"))
    rate = top["rate"].number(minimum=0)
    requests = top["requests"].strings()
    budgets: list[Budget] = []
    for name, entry in top["budgets"].items():
        keys = entry.mapping(("config", "baseline", *LIMIT_KEYS), required=("config", "baseline"))
        config, baseline = keys["config"].string(), keys["baseline"].string()
        for field, value in (("config", config), ("baseline", baseline)):
            if value not in known_configs:
                raise keys[field].error(f"unknown configuration {value!r} (expected one of "
                                        f"{', '.join(sorted(known_configs))})")
        if config == baseline:
            raise keys["baseline"].error(f"a configuration cannot be its own baseline ({config!r})")
        limits = []
        for key, (metric, kind) in LIMIT_KEYS.items():
            if key in keys:
                # A ratio of 1.0 or an overhead of 0 is a legal (if strict) budget; a negative one is a typo.
                limits.append(Limit(metric, kind, keys[key].number(minimum=0, inclusive=kind != "ratio")))
        if not limits:
            raise entry.error(f"no limit given (expected at least one of {', '.join(LIMIT_KEYS)})")
        budgets.append(Budget(name, config, baseline, tuple(limits)))
    if not budgets:
        raise top["budgets"].error("expected at least one budget")
    return Budgets(rate, requests, tuple(budgets), source)


def load_budgets(path: Path, known_configs: frozenset[str]) -> Budgets:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(str(path), 1, 1, "", f"cannot read: {exc.strerror or exc}") from exc
    return parse_budgets(text, path.name if path.parent == Path(__file__).parent else str(path), known_configs)


@dataclass(frozen=True)
class Check:
    """One limit applied to one (budget, request): the measured value and whether it holds."""

    limit: Limit
    actual: float
    ok: bool

    def describe(self) -> str:
        return f"{self.limit.metric} {self.limit.show(self.actual)} > {self.limit.value:g}{self.limit.unit}"


def overhead_ms(config: Summary, baseline: Summary, metric: str) -> float:
    return config.get(metric) - baseline.get(metric)


def overhead_pct(config: Summary, baseline: Summary, metric: str) -> float:
    return 100.0 * overhead_ms(config, baseline, metric) / baseline.get(metric)


def ratio(config: Summary, baseline: Summary, metric: str) -> float:
    return config.get(metric) / baseline.get(metric)


MEASURES = {"overhead_ms": overhead_ms, "overhead_pct": overhead_pct, "ratio": ratio}
"""A limit's kind -> how its value is measured from (config, baseline, metric)."""


def check_budget(budget: Budget, rounds: Sequence[tuple[Summary, Summary]]) -> list[Check]:
    """Every limit of ``budget``, held against the median over rounds of its per-round value.

    ``rounds`` are (config, baseline) summaries of the same round: the two ran in
    that round (back to back in the default order), so each pair shares the
    machine's state of that moment.
    A round in which one of them has no samples is left out; with none left this
    raises ValueError. The median is robust to a disturbed round (a busy host, a
    noisy neighbour): with 5 rounds, two bad ones cannot move it past the good ones.
    """
    pairs = [(config, baseline) for config, baseline in rounds if config.n and baseline.n]
    if not pairs:
        raise ValueError(f"budget {budget.name}: no samples to compare")
    checks = []
    for limit in budget.limits:
        measure = MEASURES[limit.kind]
        actual = statistics.median(measure(config, baseline, limit.metric) for config, baseline in pairs)
        checks.append(Check(limit, actual, actual <= limit.value))
    return checks
