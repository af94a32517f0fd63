"""The runner's output: markdown tables of the measured latencies and budget verdicts, and the plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests.budgets import MEASURES, Budget, Check, Limit, overhead_ms, overhead_pct, ratio
from loadtests.stats import Samples, Summary, summarize


@dataclass(frozen=True)
class Verdict:
    """One budget applied to one request name."""

    budget: Budget
    request: str
    config: Summary
    baseline: Summary
    checks: tuple[Check, ...]  # empty when there were no samples to compare
    rounds: tuple[tuple[Summary, Summary], ...] = ()
    """(config, baseline) of each round both have samples in: the checks hold their medians."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def triple(s: Summary) -> str:
    return f"{ms(s.p50)} / {ms(s.p95)} / {ms(s.p99)}"


def overhead_cell(config: Summary, baseline: Summary, metric: str) -> str:
    if config.n == 0 or baseline.n == 0:
        return "-"
    return (f"{overhead_ms(config, baseline, metric):+.2f} ms ({overhead_pct(config, baseline, metric):+.0f}%, "
            f"{ratio(config, baseline, metric):.2f}x)")


def requests_table(samples: dict[str, Samples], names: Sequence[str]) -> list[str]:
    """Every (configuration, request) row: count, failures, leaks, percentiles."""
    lines = ["| config | request | n | failed | leaked | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for config, s in samples.items():
        for name in names:
            summ = s.summary(name)
            lines.append(f"| {config} | {name} | {summ.n} | {s.failed(name)} | {s.leaks[name]} | {ms(summ.p50)} | "
                         f"{ms(summ.p95)} | {ms(summ.p99)} | {ms(summ.max)} |")
    return lines


def _round_values(v: Verdict, limit: Limit) -> str:
    """The per-round values a check is the median of, in the limit's unit."""
    return " ".join(limit.number(MEASURES[limit.kind](c, b, limit.metric)) for c, b in v.rounds)


def verdict_cell(v: Verdict) -> str:
    """Each limit's median over rounds (what is checked), with the rounds it is the median of."""
    if not v.checks:
        return "-"
    cells = []
    for c in v.checks:
        rounds = f" ({_round_values(v, c.limit)})" if len(v.rounds) > 1 else ""
        cells.append(f"{c.limit.metric} {c.limit.show(c.actual)}{rounds}")
    return "; ".join(cells)


def budget_table(verdicts: Sequence[Verdict], gated: bool) -> list[str]:
    lines = ["| budget | config vs baseline | request | n (baseline / config) | baseline p50 / p95 / p99 | config p50 / p95 / p99 | "
             "p95 overhead, merged | p99 overhead, merged | checked: median of rounds (each round) | limits | result |",
             "|---|---|---|---:|---|---|---|---|---|---|---|"]
    for v in verdicts:
        limits = ", ".join(limit.describe() for limit in v.budget.limits)
        if not v.checks:
            result = "NO DATA"
        elif v.ok:
            result = "PASS"
        else:
            breached = "; ".join(c.describe() for c in v.checks if not c.ok)
            result = f"BREACH ({breached})" if gated else f"BREACH (not gated in --smoke: {breached})"
        lines.append(f"| {v.budget.name} | {v.budget.config} vs {v.budget.baseline} | {v.request} | "
                     f"{v.baseline.n} / {v.config.n} | {triple(v.baseline)} | {triple(v.config)} | "
                     f"{overhead_cell(v.config, v.baseline, 'p95')} | {overhead_cell(v.config, v.baseline, 'p99')} | "
                     f"{verdict_cell(v)} | {limits} | {result} |")
    return lines


def rounds_table(samples: dict[str, Samples], names: Sequence[str]) -> list[str]:
    """p95 of each round, to judge drift and noise (the budgets check the median of per-round overheads)."""
    rounds = max((len(s.per_round) for s in samples.values()), default=0)
    if rounds < 2:
        return []
    head = " | ".join(f"round {i + 1}" for i in range(rounds))
    lines = [f"| config | request | {head} |", "|---|---|" + "---:|" * rounds]
    for config, s in samples.items():
        for name in names:
            cells = " | ".join(ms(summarize(r.get(name, ())).p95) for r in s.per_round)
            lines.append(f"| {config} | {name} | {cells} |")
    return lines


UNSTEADY = 2.0
"""A configuration whose p95 in one round is this many times its p95 in another did not see the same machine."""


def unsteady_notes(samples: dict[str, Samples], names: Sequence[str]) -> list[str]:
    """A warning for each configuration whose p95 moved more than UNSTEADY-fold between rounds.

    Every configuration does the same work in every round, so a swing that large is the
    host, not the code: its rounds, and any budget it is part of, measure the machine.
    """
    notes = []
    for config, s in samples.items():
        for name in names:
            p95s = [summarize(r.get(name, ())).p95 for r in s.per_round]
            p95s = [p for p in p95s if not math.isnan(p)]
            if len(p95s) >= 2 and max(p95s) > UNSTEADY * min(p95s):
                notes.append(f"{config} {name}: p95 from {ms(min(p95s))} to {ms(max(p95s))} ms between rounds: "
                             "the machine was not steady (other load on the host?); the numbers measure it too")
    return notes


def cpu_table(samples: dict[str, Samples], baselines: dict[str, str]) -> list[str]:
    """Server CPU per request of each configuration, and against its baseline; empty when none was measured."""
    per_request = {config: s.cpu_ms_per_request for config, s in samples.items()}
    if all(v is None for v in per_request.values()):
        return []
    lines = ["| config | requests | server CPU s | CPU ms per request | vs baseline |", "|---|---:|---:|---:|---|"]
    for config, s in samples.items():
        own = per_request[config]
        base_name = baselines.get(config)
        base = per_request.get(base_name) if base_name else None
        versus = "-"
        if own is not None and base is not None and base > 0:
            versus = f"{own - base:+.3f} ms ({own / base:.2f}x {base_name})"
        cpu_s = "-" if s.cpu_s is None else f"{s.cpu_s:.1f}"
        lines.append(f"| {config} | {s.sent} | {cpu_s} | {'-' if own is None else f'{own:.3f}'} | {versus} |")
    return lines


def plot(samples: dict[str, Samples], names: Sequence[str], path: Path, title: str) -> None:
    """Latency CDFs per configuration, one panel per budgeted request, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.6 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        for config, s in samples.items():
            values = sorted(s.latencies.get(name, ()))
            if not values:
                continue
            p95 = summarize(values).p95
            ys = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, ys, where="post", label=f"{config} (p95 {p95:.2f} ms, n={len(values)})")
        ax.set_xscale("log")
        ax.axhline(0.95, color="grey", linewidth=0.6, linestyle=":")
        ax.axhline(0.99, color="grey", linewidth=0.6, linestyle=":")
        ax.set_xlabel("latency (ms, log scale)")
        ax.set_ylabel("fraction of requests")
        ax.set_title(name)
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
