"""Engine benchmark: the compiled default plan vs an orjson round trip (and a naive stdlib-re walker).

    python bench/engine.py [--quick] [--seed N]

Every size (1 KB .. 1 MB) x body shape (escape-free, escaped) x variant
(realistic, pii_free) is timed with three kinds of values: ``repeated`` (one
body again and again: warm caches), ``cold`` (the same body, every veil cache
emptied before each call) and ``fresh`` (a pool of documents generated in this
run, each redacted once). Then each validator's cost per candidate, new and cached.
Standalone script, not a test. Exits 1 if a seeded PII value survives in the
plan's output, in the raw bytes or in any decoded string (a "LEAK" line is
printed for each). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402
import re2  # noqa: E402

import veil  # noqa: E402
from payloads import SHAPES, SIZES, VALIDATOR_CANDIDATES, VARIANTS, Payload, build, pool  # noqa: E402
from veil.rules.detectors import BUILTIN_DETECTORS  # noqa: E402
from veil.rules.detectors.matching import value_group_names  # noqa: E402
from veil.rules.detectors.verdicts import MAX_ENTRIES, forget_verdicts  # noqa: E402
from veil.rules.regex import compile_re2  # noqa: E402

JSON = "application/json"
SEED = 20240601

# Fresh pools: every body is redacted once, so a pool bounds its cell's calls. Sized so a
# pool's values outnumber a verdict cache (MAX_ENTRIES) where generation time allows.
POOL = {"1KB": 3000, "10KB": 800, "100KB": 80, "1MB": 8}
POOL_QUICK = {"1KB": 1000, "10KB": 600, "100KB": 16, "1MB": 3}

# (size, variant, target plan/orjson) for escaped bodies with fresh values; the first is the headline.
TARGETS = (("10KB", "realistic", 4.0), ("100KB", "realistic", 3.0), ("1MB", "realistic", 3.0),
           ("100KB", "pii_free", 1.5), ("1MB", "pii_free", 1.5))


# -- timing --------------------------------------------------------------------


@dataclass
class Timing:
    median_s: float  # per call
    best_s: float  # per call
    calls: int

    def us(self) -> float:
        return self.median_s * 1e6

    def mbps(self, nbytes: float) -> float:
        return nbytes / self.median_s / 1e6


def measure(fn: Callable[[], object], budget_s: float, min_rounds: int = 3) -> Timing:
    """Median and best per-call time of ``fn`` over ~``budget_s`` (see ``measure_interleaved``)."""
    t0 = time.perf_counter()
    fn()  # warm up (lazy scopes, caches); also the first estimate
    one = time.perf_counter() - t0
    if one >= budget_s and min_rounds <= 1:  # one call already fills the budget (--quick, 1 MB naive)
        return Timing(one, one, 1)
    return measure_interleaved({"fn": fn}, budget_s, min_rounds)["fn"]


def measure_interleaved(fns: dict[str, Callable[[], object]], budget_s: float, min_rounds: int = 3) -> dict[str, Timing]:
    """Median and best per-call time of each function over rounds of ``number`` calls, their rounds
    taking turns, ~``budget_s`` per function in total.

    ``number`` is picked so one round takes >= ~2 ms (keeps timer overhead out of
    the 1 KB cells); the round count fills the budget, with at least
    ``min_rounds`` rounds. GC stays enabled: the plan allocates, and so does real traffic.
    On a shared machine the speed moves by tens of percent from one second to
    the next; timing the plan and its baseline in alternating rounds puts them in
    the same phases, so their ratio holds even when the absolute times do not.
    """
    numbers: dict[str, int] = {}
    round_s = 0.0
    for name, fn in fns.items():
        fn()  # warm up
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        numbers[name] = max(1, int(0.002 / one))
        round_s += one * numbers[name]
    rounds = max(min_rounds, int(budget_s * len(fns) / round_s))
    per_call: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            number = numbers[name]
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            per_call[name].append((time.perf_counter() - t0) / number)
    return {name: Timing(statistics.median(v), min(v), rounds * numbers[name]) for name, v in per_call.items()}


def measure_fresh(plan_fn: Callable[[bytes], Any], base_fn: Callable[[bytes], object], bodies: list[bytes],
                  number: int, min_rounds: int, inspect: Callable[[int, Any], None]) -> tuple[Timing, Timing]:
    """Each body through ``plan_fn`` once and ``base_fn`` once, in rounds of ``number`` bodies.

    The two take turns on the same chunk of bodies, and which goes first flips every
    round: the first to touch a body reads it from memory, the second from the CPU cache.
    ``inspect(index, result)`` sees every result of ``plan_fn`` after its round's timer stops.
    """
    number = max(1, min(number, len(bodies) // min_rounds))
    plan_s: list[float] = []
    base_s: list[float] = []
    for k, start in enumerate(range(0, len(bodies), number)):
        chunk = bodies[start:start + number]
        if k % 2:
            base_s.append(_time_chunk(base_fn, chunk)[0])
        seconds, results = _time_chunk(plan_fn, chunk)
        plan_s.append(seconds)
        if not k % 2:
            base_s.append(_time_chunk(base_fn, chunk)[0])
        for i, result in enumerate(results):
            inspect(start + i, result)
    return (Timing(statistics.median(plan_s), min(plan_s), len(bodies)),
            Timing(statistics.median(base_s), min(base_s), len(bodies)))


def _time_chunk(fn: Callable[[bytes], Any], chunk: list[bytes]) -> tuple[float, list[Any]]:
    """Seconds per call of ``fn`` over ``chunk``, and its results."""
    results = []
    t0 = time.perf_counter()
    for body in chunk:
        results.append(fn(body))
    return (time.perf_counter() - t0) / len(chunk), results


# -- the naive walker ------------------------------------------------------------


def _to_stdlib(pattern: str) -> str:
    r"""RE2 -> stdlib ``re``: the only construct the built-ins need translated is ``\x{HHHH}``."""
    return re.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: "\\U%08X" % int(m.group(1), 16), pattern)


def naive_patterns() -> tuple[list[tuple[str, re.Pattern[str]]], list[str], list[str]]:
    """(compiled (type, regex) in priority order, names translated, names skipped)."""
    compiled: list[tuple[str, re.Pattern[str]]] = []
    translated: list[str] = []
    skipped: list[str] = []
    for name, spec in BUILTIN_DETECTORS.items():
        flags = re.IGNORECASE if spec.case_insensitive else 0
        try:
            compiled.append((name, re.compile(spec.pattern, flags)))
            continue
        except re.error:
            pass
        try:
            compiled.append((name, re.compile(_to_stdlib(spec.pattern), flags)))
            translated.append(name)
        except re.error:
            skipped.append(name)
    return compiled, translated, skipped


def make_naive(patterns: list[tuple[str, re.Pattern[str]]]) -> Callable[[bytes], bytes]:
    subs = [(rx, f"[REDACTED:{name}]") for name, rx in patterns]

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            for rx, repl in subs:
                node = rx.sub(repl, node)
            return node
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    def naive(body: bytes) -> bytes:
        return json.dumps(walk(json.loads(body))).encode("utf-8")

    return naive


# -- leak check ------------------------------------------------------------------


def strings_of(node: Any, out: list[str]) -> list[str]:
    """Every key and string value of a parsed JSON document."""
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            out.append(key)
            strings_of(value, out)
    elif isinstance(node, list):
        for value in node:
            strings_of(value, out)
    return out


def _literal(value: str) -> bytes:
    """``value``'s UTF-8 bytes as an RE2 (Latin-1 mode) literal: every byte but [A-Za-z0-9] as \\xHH."""
    return b"".join(bytes((c,)) if chr(c).isascii() and chr(c).isalnum() else b"\\x%02x" % c
                    for c in value.encode("utf-8"))


def _compile_literals(values: list[str]) -> Any:
    """One RE2 alternation of ``values``; raises rather than let pyre2 fall back to Python's ``re``."""
    re2.set_fallback_notification(re2.FALLBACK_EXCEPTION)
    try:
        compiled = re2.compile(b"|".join(_literal(v) for v in values), 0, 256 << 20)
    finally:
        re2.set_fallback_notification(re2.FALLBACK_QUIETLY)  # pyre2's default, which veil also restores
    if type(compiled) is not re2.Pattern:
        raise AssertionError("the leak check's pattern is not an RE2 pattern")
    return compiled


class LeakCheck:
    """Which seeded values of one payload appear in an output: in its raw bytes, or inside
    any key or string of the decoded document (so ``jane\\u0040example.com`` counts).

    One RE2 alternation of every value scans both texts: checking 2,000 values one by
    one over a 1 MB output costs ~1 s. Only when it hits are the values checked one by one.
    """

    def __init__(self, p: Payload) -> None:
        self.values = sorted(set(p.pii_substrings) | set(p.pii_values))
        self._any = None
        if self.values:
            self._any = _compile_literals(self.values)
            missed = [v for v in self.values if self._any.search(v.encode("utf-8")) is None]
            if missed:
                raise AssertionError(f"leak check cannot see {len(missed)} of its values")

    def found(self, output: bytes) -> list[str]:
        """The seeded values present in ``output``; an output that is not JSON is reported as one."""
        try:
            decoded = "\x00".join(strings_of(orjson.loads(output), []))  # no value holds \x00
        except orjson.JSONDecodeError:
            return ["<output is not valid JSON>"]
        if self._any is None:
            return []
        texts = (output, decoded.encode("utf-8", "surrogatepass"))
        hits = {m.group() for text in texts for m in self._any.finditer(text)}
        if not hits:
            return []
        # A value that overlaps one the alternation matched first is not among the hits: look for the rest one by one.
        return [v for v in self.values
                if v.encode("utf-8") in hits or v.encode("utf-8") in output or v in decoded]


def leak_lines(where: str, bad: list[str]) -> list[str]:
    return [f"  LEAK {where}: {v!r}" for v in bad]


# -- cells -----------------------------------------------------------------------


@dataclass
class Cell:
    """One (size, shape, variant, values) measurement: the plan and orjson on the same bodies."""

    label: str
    shape: str
    variant: str
    values: str  # "repeated" | "cold" | "fresh"
    nbytes: float  # body size (the pool's mean for fresh)
    plan: Timing
    orjson: Timing
    note: str = ""

    def ratio(self) -> float:
        return self.plan.median_s / self.orjson.median_s


@dataclass
class Reference:
    """The repeated body's extra columns: the naive walker and the RE2 pass over the raw bytes."""

    naive: Timing
    scan: Timing | None
    full: Timing | None


class Bench:
    """The plan, the options and everything measured so far."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.seed: int = args.seed
        self.quick: bool = args.quick
        self.budget = 0.15 if args.quick else 0.8
        self.min_rounds = 2 if args.quick else 3
        self.pools = POOL_QUICK if args.quick else POOL
        self.plan = veil.default_plan()
        view = self.plan.view(None, JSON)
        # The pattern the plan runs over every body: the splice path's events (a superset
        # of what can change a body), or the walk path's prefilter for views with selectors.
        self.prefilter = view.splice_events if view.splice_ready else view.prefilter
        self.scan_name = "splice_events" if view.splice_ready else "prefilter"
        self.patterns, self.translated, self.skipped = naive_patterns()
        self.naive = make_naive(self.patterns)
        self.cells: list[Cell] = []
        self.references: dict[tuple[str, str, str], Reference] = {}
        self.checks: list[str] = []  # correctness lines, in the order made
        self.leaked = False
        self.started = time.perf_counter()

    def redact(self, body: bytes) -> Any:
        return self.plan.redact_body(body, JSON)

    def redact_cold(self, body: bytes) -> Any:
        """Every value new to veil's caches (verdicts, decided strings, splice strings, clean headers)."""
        forget_verdicts()
        return self.plan.redact_body(body, JSON)

    def progress(self, what: str) -> None:
        print(f"  ... {what} ({time.perf_counter() - self.started:.1f} s)", file=sys.stderr)

    # -- fixed bodies: repeated and cold --

    def check_fixed(self, p: Payload) -> None:
        """Findings, leaks and (PII-free) what the plan's one RE2 pass sees, for a fixed body."""
        check = LeakCheck(p)
        missing = set(check.values) - set(check.found(p.body))
        if missing:  # the generator recorded a value it did not write: the leak check would be blind to it
            raise AssertionError(f"{p.label} {p.shape} {p.variant}: {len(missing)} seeded values not in the body")
        res = self.redact(p.body)
        where = f"{p.label} {p.shape} {p.variant}"
        backslashes = p.body.count(b"\\")
        head = f"- {where} ({p.encoder}): {len(p.body):,} B, {backslashes:,} backslashes, "
        if p.variant == "realistic":
            bad = check.found(res.output)
            self.checks.append(head + f"{p.strings:,} strings, {p.pii_strings:,} with PII "
                               f"({100 * p.pii_strings / p.strings:.1f}%), {len(check.values)} seeded values, "
                               f"{len(res.report.findings)} findings, {len(bad)} leaked")
            self.checks += leak_lines(where, bad)
            self.leaked = self.leaked or bool(bad)
            return
        m = self.prefilter.search(p.body) if self.prefilter is not None else None
        scan = (f"{self.scan_name} hits at byte {m.start():,} ({m.group()[:40]!r})" if m is not None
                else f"{self.scan_name} finds nothing: the body is only validated")
        self.checks.append(head + f"{len(res.report.findings)} findings, output {same_document(p.body, res.output)}; "
                           f"{scan}")

    def time_fixed(self, p: Payload) -> None:
        body = p.body
        fns: dict[str, Callable[[], object]] = {
            "plan": lambda: self.plan.redact_body(body, JSON),
            "cold": lambda: self.redact_cold(body),
            "orjson": lambda: orjson.dumps(orjson.loads(body)),
        }
        prefilter = self.prefilter
        if p.variant == "pii_free" and prefilter is not None:
            fns["scan"] = lambda: prefilter.search(body)
            fns["full"] = lambda: sum(1 for _ in prefilter.finditer(body))
        timed = measure_interleaved(fns, self.budget, self.min_rounds)
        for values in ("repeated", "cold"):
            plan_t = timed["plan" if values == "repeated" else "cold"]
            self.cells.append(Cell(p.label, p.shape, p.variant, values, len(body), plan_t, timed["orjson"],
                                   f"{plan_t.calls:,} calls"))
        naive_t = measure(lambda: self.naive(body), self.budget, 1 if self.quick else 2)
        self.references[(p.label, p.shape, p.variant)] = Reference(naive_t, timed.get("scan"), timed.get("full"))

    # -- fresh pools --

    def time_fresh(self, label: str, shape: str, variant: str, estimate_s: float) -> None:
        """Every body of a new pool redacted once, orjson on the same bodies; every output leak-checked."""
        where = f"{label} {shape} {variant} fresh"
        payloads = pool(label, SIZES[label], self.seed, variant, shape, self.pools[label])
        bodies = [p.body for p in payloads]
        if len(set(bodies)) != len(bodies):
            raise AssertionError(f"{where}: the pool repeats a body")
        self.progress(f"{where}: pool of {len(bodies)} generated")
        tally = {"findings": 0, "leaked": 0, "unchanged": 0}
        leaks: list[str] = []  # LEAK lines, printed under the pool's summary

        def inspect(i: int, res: Any) -> None:
            bad = LeakCheck(payloads[i]).found(res.output)
            leaks.extend(leak_lines(f"{where}, pool body {i} ({payloads[i].encoder})", bad))
            tally["leaked"] += len(bad)
            tally["findings"] += len(res.report.findings)
            tally["unchanged"] += res.output == bodies[i]

        number = max(1, int(0.002 / estimate_s))
        plan_t, orjson_t = measure_fresh(self.redact, lambda b: orjson.dumps(orjson.loads(b)), bodies, number,
                                         self.min_rounds, inspect)
        nbytes = statistics.mean(len(b) for b in bodies)
        seeded = sum(len(set(p.pii_substrings) | set(p.pii_values)) for p in payloads)
        used = sorted({p.encoder for p in payloads})
        encoders = ", ".join(f"{e} {sum(p.encoder == e for p in payloads)}" for e in used)
        self.checks.append(f"- {where}: {len(bodies)} distinct bodies ({encoders}), {nbytes:,.0f} B mean, "
                           f"{seeded:,} seeded values, {tally['findings']:,} findings, "
                           f"{tally['unchanged']} returned byte for byte, {tally['leaked']} leaked")
        self.checks += leaks
        self.leaked = self.leaked or bool(leaks)
        self.cells.append(Cell(label, shape, variant, "fresh", nbytes, plan_t, orjson_t,
                               f"{len(bodies):,} bodies, each once"))

    def cell(self, label: str, shape: str, variant: str, values: str) -> Cell:
        return next(c for c in self.cells
                    if (c.label, c.shape, c.variant, c.values) == (label, shape, variant, values))


def same_document(body: bytes, output: bytes) -> str:
    """How a PII-free body came back: it should be unchanged, or at most re-encoded."""
    if output == body:
        return "unchanged"
    try:
        same = orjson.loads(output) == orjson.loads(body)
    except orjson.JSONDecodeError:
        return "NOT JSON"
    return "re-encoded (same document)" if same else "CHANGED"


# -- validators --------------------------------------------------------------------


def proposals(rx: Any, text: str) -> list[str]:
    """What a detector's compiled pattern proposes from ``text``: the first value group (``value``,
    ``value_<name>``, one per branch) that took part in a match, as the engine reads it, or the whole
    match for a pattern with none."""
    groups = value_group_names(rx.groupindex)
    found = []
    for m in rx.finditer(text.encode("utf-8")):
        value = next((v for v in map(m.group, groups) if v is not None), None) if groups else m.group(0)
        if value is not None:
            found.append(value.decode("utf-8"))
    return found


def validator_problems(name: str) -> list[str]:
    """Candidates that RE2 would not propose as written, or that the validator judges unexpectedly."""
    template, valid, near = VALIDATOR_CANDIDATES[name]
    spec = BUILTIN_DETECTORS[name]
    rx = compile_re2(spec.pattern, case_insensitive=spec.case_insensitive)
    validator = spec.validator
    problems = []
    for expected, candidates in ((True, valid), (False, near)):
        for c in candidates:
            if c not in proposals(rx, template.format(c)):
                problems.append(f"{name}: RE2 does not propose {c!r} from {template.format(c)!r}")
            elif validator is not None and validator(c) != expected:
                problems.append(f"{name}: {c!r} is {'rejected' if expected else 'accepted'} by the validator")
    return problems


def time_validator(validator: Callable[[str], bool], candidates: tuple[str, ...],
                   budget_s: float) -> tuple[float, float]:
    """µs per candidate, (new, cached): passes over distinct candidates, caches emptied before each
    new pass (untimed), then the same pass again with every verdict cached."""
    new: list[float] = []
    cached: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(new) < 5 or time.perf_counter() < deadline:
        forget_verdicts()
        new.append(_pass(validator, candidates))
        cached.append(_pass(validator, candidates))
    return statistics.median(new) * 1e6, statistics.median(cached) * 1e6


def _pass(validator: Callable[[str], bool], candidates: tuple[str, ...]) -> float:
    t0 = time.perf_counter()
    for c in candidates:
        validator(c)
    return (time.perf_counter() - t0) / len(candidates)


def validator_table(budget_s: float) -> list[str]:
    lines = ["| detector | verdict cache | candidates (valid + near-miss) | new valid µs | new near-miss µs "
             "| cached valid µs | cached near-miss µs |", "|---|---|---|---|---|---|---|"]
    problems: list[str] = []
    for name, spec in BUILTIN_DETECTORS.items():
        if spec.validator is None:
            continue
        if name not in VALIDATOR_CANDIDATES:
            problems.append(f"{name}: has a validator but no candidates in bench/payloads.py")
            continue
        problems += validator_problems(name)
        _, valid, near = VALIDATOR_CANDIDATES[name]
        new_ok, cached_ok = time_validator(spec.validator, valid, budget_s)
        new_bad, cached_bad = time_validator(spec.validator, near, budget_s)
        cache = "keyed digest" if hasattr(spec.validator, "__wrapped__") else "none"
        lines.append(f"| {name} | {cache} | {len(valid)} + {len(near)} | {new_ok:.2f} | {new_bad:.2f} "
                     f"| {cached_ok:.2f} | {cached_bad:.2f} |")
    return lines + [f"(!) {p}" for p in problems]


# -- report ------------------------------------------------------------------------


def fmt_us(t: Timing | None) -> str:
    if t is None:
        return "-"
    us = t.us()
    return f"{us:,.1f}" if us < 100 else f"{us:,.0f}"


def headline(bench: Bench) -> list[str]:
    lines = []
    for label, variant, target in TARGETS:
        ratio = bench.cell(label, "escaped", variant, "fresh").ratio()
        who = "realistic" if variant == "realistic" else "PII-free"
        verdict = "meets" if ratio <= target else "MISSES"
        lines.append(f"{label.replace('KB', ' KB').replace('MB', ' MB')} {who}, escaped, fresh values: "
                     f"plan/orjson = {ratio:.1f}x (target <= {target:g}x): {verdict}")
    return [lines[0], ""] + [f"- {line}" for line in lines[1:]]


def header(bench: Bench) -> list[str]:
    lines = [
        f"# veil engine benchmark{' (--quick)' if bench.quick else ''}",
        "",
        f"- machine: {platform.platform()} / {platform.machine()} / {platform.processor() or '?'}; "
        f"os.cpu_count()={os.cpu_count()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}; veil {veil.__version__}; "
        f"orjson {orjson.__version__}",
        f"- seed: {bench.seed}; ~{bench.budget} s per function per fixed-body row; fresh pools "
        f"{', '.join(f'{k} {v}' for k, v in bench.pools.items())} bodies (verdict caches hold {MAX_ENTRIES:,} "
        "entries each); median per-call time (GC on)",
        f"- naive walker: {len(bench.patterns)}/{len(BUILTIN_DETECTORS)} built-in detector patterns with stdlib re, "
        "no validators/context, applied in priority order to every string value",
    ]
    if bench.translated:
        lines.append(f"  - translated \\x{{HHHH}} -> \\UHHHHHHHH to compile with stdlib re: {', '.join(bench.translated)}")
    if bench.skipped:
        lines.append(f"  - SKIPPED (do not compile with stdlib re): {', '.join(bench.skipped)}")
    if bench.prefilter is None:
        lines.append(f"- {bench.scan_name}: None for the default JSON view; RE2 scan columns unavailable")
    return lines


def cell_table(bench: Bench) -> list[str]:
    lines = ["| size | shape | variant | values | bytes | plan µs | plan MB/s | orjson rt µs | plan/orjson | calls |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    order = {v: i for i, v in enumerate(("repeated", "cold", "fresh"))}
    key = {label: i for i, label in enumerate(SIZES)}
    for c in sorted(bench.cells, key=lambda c: (key[c.label], SHAPES.index(c.shape), VARIANTS.index(c.variant),
                                                order[c.values])):
        lines.append(f"| {c.label} | {c.shape} | {c.variant} | {c.values} | {c.nbytes:,.0f} | {fmt_us(c.plan)} "
                     f"| {c.plan.mbps(c.nbytes):.1f} | {fmt_us(c.orjson)} | {c.ratio():.1f}x | {c.note} |")
    return lines


def reference_table(bench: Bench) -> list[str]:
    lines = ["| size | shape | variant | plan µs | naive re µs | naive MB/s | plan/naive | 1 RE2 scan µs "
             "| RE2 full pass µs | full pass MB/s | plan/scan | plan/full pass |", "|" + "---|" * 12]
    for (label, shape, variant), ref in bench.references.items():
        plan = bench.cell(label, shape, variant, "repeated").plan
        n = bench.cell(label, shape, variant, "repeated").nbytes
        scan, full = ref.scan, ref.full
        lines.append(
            f"| {label} | {shape} | {variant} | {fmt_us(plan)} | {fmt_us(ref.naive)} | {ref.naive.mbps(n):.1f} "
            f"| {plan.median_s / ref.naive.median_s:.2f}x | {fmt_us(scan)} | {fmt_us(full)} "
            f"| {f'{full.mbps(n):.1f}' if full else '-'} | {f'{plan.median_s / scan.median_s:,.0f}x' if scan else '-'} "
            f"| {f'{plan.median_s / full.median_s:.1f}x' if full else '-'} |")
    return lines


def notes(bench: Bench) -> list[str]:
    return [
        "repeated = veil.default_plan().redact_body(body, 'application/json') on one body again and again (warm "
        "caches); cold = the same with every veil cache emptied (forget_verdicts()) before each call; fresh = each "
        "body of a pool generated in this run redacted once, never seen before; orjson rt = "
        "orjson.dumps(orjson.loads(body)) on the same bodies, in alternating rounds.",
        "naive re = json.loads + stdlib re.sub of every detector on every string + json.dumps; "
        f"1 RE2 scan = the JSON view's {bench.scan_name}.search(body), the pattern the plan runs (pii_free only; "
        "stops at its first hit, see the byte offsets above); RE2 full pass = "
        f"sum(1 for _ in {bench.scan_name}.finditer(body)), the same pattern over every byte.",
        "validators: µs per candidate, averaged over the detector's candidates; new = verdict caches emptied before "
        "each pass over distinct candidates; cached = the same pass again (equal to new without a cache).",
    ]


# -- cold start ------------------------------------------------------------------

COLD_BODIES = 400
COLD_WARM_S = 1.0


def cold_start_child(seed: int, warm_s: float) -> dict[str, Any]:
    """In a new process: compile the default policy, optionally warm it (``veil.rules.warmup``, as
    ``veil extproc`` does before it serves), then time each of COLD_BODIES fresh 10 KB realistic
    escaped bodies once, in order. The bodies come from this script's generator, the warm-up's
    traffic from veil's own (a different vocabulary and shapes): no body is seen twice."""
    from veil.rules.warmup import warm

    bodies = [p.body for p in pool("10KB", SIZES["10KB"], seed + 7, "realistic", "escaped", COLD_BODIES)]
    started = time.perf_counter()
    plan = veil.compile_policy(veil.builtin_policy("strict"), source="<default policy>")
    warmed = warm(plan, warm_s) if warm_s > 0 else None
    ready_s = time.perf_counter() - started
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        plan.redact_body(body, JSON)
        times.append(time.perf_counter() - t0)
    return {"ready_s": ready_s, "warm_payloads": warmed.payloads if warmed else 0, "times": times}


def cold_start_table(seed: int) -> list[str]:
    import subprocess

    rows = ["| plan | ready after (s) | 1st body ms | bodies 1-100 mean ms | p95 ms | bodies 101-400 mean ms | p95 ms |",
            "|---|---|---|---|---|---|---|"]
    for label, warm_s in (("new", 0.0), (f"new + warm({COLD_WARM_S:g} s)", COLD_WARM_S)):
        out = subprocess.run([sys.executable, __file__, "--cold-start-child", str(warm_s), "--seed", str(seed)],
                             capture_output=True, text=True, check=True).stdout
        got = json.loads(out.strip().splitlines()[-1])
        times = [t * 1e3 for t in got["times"]]
        head, rest = times[:100], times[100:]

        def p95(xs: list[float]) -> float:
            return statistics.quantiles(xs, n=20, method="inclusive")[18]

        rows.append(f"| {label} ({got['warm_payloads']} warm-up payloads) | {got['ready_s']:.2f} | {times[0]:.1f} | "
                    f"{statistics.fmean(head):.2f} | {p95(head):.2f} | {statistics.fmean(rest):.2f} | {p95(rest):.2f} |")
    rows += ["", f"Each row in a new process: the default policy compiled (ready after = compile, plus the warm-up), then "
             f"{COLD_BODIES} fresh 10 KB realistic escaped bodies redacted once each, in order. The warm-up runs veil's "
             "own synthetic traffic (veil.rules.warmup), not these bodies' generator."]
    return rows


# -- main ------------------------------------------------------------------------


def run(bench: Bench) -> None:
    for label in SIZES:
        for shape in SHAPES:
            for variant in VARIANTS:
                p = build(label, SIZES[label], bench.seed, variant, shape)
                bench.check_fixed(p)
                bench.time_fixed(p)
                bench.progress(f"{label} {shape} {variant} repeated/cold done")
                estimate = bench.cell(label, shape, variant, "cold").plan.median_s
                bench.time_fresh(label, shape, variant, estimate)
                bench.progress(f"{label} {shape} {variant} fresh done")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="~0.15 s per function per row and smaller pools")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--cold-start-child", type=float, metavar="WARM_S", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cold_start_child is not None:
        print(json.dumps(cold_start_child(args.seed, args.cold_start_child)))
        return 0
    bench = Bench(args)
    run(bench)
    validators = validator_table(0.03 if bench.quick else 0.15)
    bench.progress("validators done")
    cold = cold_start_table(bench.seed)
    bench.progress("cold start done")

    out = headline(bench) + [""] + header(bench) + [""] + bench.checks
    out += ["", "## Plan vs orjson round trip", ""] + cell_table(bench)
    out += ["", "## Reference columns (fixed bodies, repeated)", ""] + reference_table(bench)
    out += ["", "## Validators: cost per candidate", ""] + validators
    out += ["", "## Cold start: a new plan's first fresh bodies", ""] + cold
    out += [""] + notes(bench) + [f"total {time.perf_counter() - bench.started:.1f} s"]
    if bench.leaked:
        out.append("LEAK: seeded PII survived in the plan output (see LEAK lines above)")
    print("\n".join(out))
    return 1 if bench.leaked else 0


if __name__ == "__main__":
    sys.exit(main())
