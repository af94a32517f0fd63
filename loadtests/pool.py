"""The pool of ``python -m loadtests --fresh``: its entries, its files, and the order the load takes them in.

Each request of the scenario gets a pool of bodies from :mod:`loadtests.fresh`:
the bodies the apps serve for ``GET <path>?k=<entry>``, or the bodies the
locustfile sends (``POST /echo``). Every response is leak-checked against the
values seeded into its own entry.

Order: before the load, the runner draws from the seed the request of every
slot of every round (by the scenario's weights) and gives each slot the next
unused entry of that request's pool. Entry 0 is the probe's; no other entry is
taken twice in a run unless a pool reaches its cap (:data:`MAX_POOL_BYTES`; the
report says so). So a server never sees a body twice and each veil cache sees
only first-seen values, whatever its size: a pool that cycled would let a sparse
cache (one validator's verdicts, about one entry per 10 KB body) keep every
value between two visits. The Locust run of round ``r`` takes slots in order
from that round's start (one counter shared by its users), so every
configuration gets the same bodies in the same order as its baseline.

Files, in a directory named by ``$VEIL_LOADTEST_POOL``: ``plan.json`` (slots per
round, every slot's request and entry, and each request's method, path and
files), ``NN.bodies.json`` (the bodies as Latin-1 text, byte for byte) and
``NN.leaks.json`` (per entry, its seeded free-text substrings and whole values).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.payloads import SIZES
from loadtests.fresh import FreshValues, fresh_payload
from loadtests.leaks import LeakChecker
from loadtests.scenario import RequestSpec, Scenario

ENV_POOL = "VEIL_LOADTEST_POOL"
ENV_ROUND = "VEIL_LOADTEST_ROUND"
PLAN = "plan.json"
MAX_POOL_BYTES = 128 << 20
"""Bodies kept per request; beyond, its entries are taken again from entry 1 (the report notes it)."""
_STREAM_BYTES = 1_500  # about one NDJSON or SSE body


def slots_per_round(rate: float, duration: int, users: int) -> int:
    """Slots drawn for one Locust run: its requests at ``rate`` for ``duration`` s, with room to spare."""
    return math.ceil(rate * (duration + 2)) + 2 * users


def entry_cap(payload: str) -> int:
    """The most entries a pool of ``payload`` bodies holds (:data:`MAX_POOL_BYTES`), entry 0 included."""
    return max(2, MAX_POOL_BYTES // SIZES.get(payload.partition("/")[0], _STREAM_BYTES))


@dataclass(frozen=True)
class Slots:
    """Every slot's (request index, entry), all rounds in order; ``sizes``: entries per request."""

    per_round: int
    order: tuple[tuple[int, int], ...]
    sizes: tuple[int, ...]
    wrapped: tuple[str, ...] = ()
    """Requests whose pool reached its cap: their entries are taken more than once."""


def plan_slots(scenario: Scenario, rounds: int, per_round: int, seed: int) -> Slots:
    """Draw every slot's request from ``seed`` by weight, and give it that request's next unused entry."""
    requests = scenario.requests
    picks = random.Random(f"{seed}:slots").choices(range(len(requests)), [r.weight for r in requests],
                                                   k=rounds * per_round)
    caps = [entry_cap(r.payload) for r in requests]
    taken = [0] * len(requests)
    order = []
    for k in picks:
        order.append((k, 1 + taken[k] % (caps[k] - 1)))
        taken[k] += 1
    sizes = tuple(1 + min(n, cap - 1) for n, cap in zip(taken, caps, strict=True))
    wrapped = tuple(r.name for r, n, cap in zip(requests, taken, caps, strict=True) if n > cap - 1)
    return Slots(per_round, tuple(order), sizes, wrapped)


def entry_request(spec: RequestSpec, entry: int, bodies: list[bytes] | None) -> tuple[str, bytes]:
    """(path, body) of ``spec`` for pool entry ``entry``: a GET asks for it by ``?k=``, others send it."""
    if spec.method == "GET":
        return f"{spec.path}?k={entry}", b""
    if bodies is None:
        raise ValueError(f"no bodies loaded for {spec.name!r}")
    return spec.path, bodies[entry]


@dataclass(frozen=True)
class Pool:
    """A written pool: where, its slots, the probe's scenario (entry 0 of each request), its size."""

    directory: Path
    slots: Slots
    probe: Scenario
    body_bytes: tuple[int, ...]

    def describe(self, scenario: Scenario) -> str:
        sizes = ", ".join(f"{r.name} {n}" for r, n in zip(scenario.requests, self.slots.sizes, strict=True))
        return f"{sum(self.slots.sizes)} bodies, {sum(self.body_bytes) / 1e6:.0f} MB (entries per request: {sizes})"


def write_pool(directory: Path, scenario: Scenario, slots: Slots, seed: int) -> Pool:
    """Make every entry of every request's pool and write the pool's files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    values = FreshValues(seed)
    probe: list[RequestSpec] = []
    described: list[dict[str, Any]] = []
    sizes: list[int] = []
    for i, (spec, count) in enumerate(zip(scenario.requests, slots.sizes, strict=True)):
        if not spec.payload:
            raise ValueError(f"--fresh: {spec.name!r} carries no bundled payload to make fresh bodies of")
        entries = [fresh_payload(spec.payload, spec.name, n, seed, values) for n in range(count)]
        files = {"bodies": f"{i:02d}.bodies.json", "leaks": f"{i:02d}.leaks.json"}
        (directory / files["bodies"]).write_text(json.dumps([e.body.decode("latin-1") for e in entries]),
                                                 encoding="utf-8")
        (directory / files["leaks"]).write_text(json.dumps([[e.pii_substrings, e.pii_values] for e in entries]),
                                                encoding="utf-8")
        described.append({"name": spec.name, "method": spec.method, "path": spec.path, "entries": count, **files})
        sizes.append(sum(len(e.body) for e in entries))
        path, body = entry_request(spec, 0, [entries[0].body])
        probe.append(replace(spec, path=path, body=body, leak_substrings=tuple(entries[0].pii_substrings),
                             leak_values=tuple(entries[0].pii_values)))
    plan = {"per_round": slots.per_round, "order": slots.order, "requests": described}
    (directory / PLAN).write_text(json.dumps(plan), encoding="utf-8")
    return Pool(directory, slots, replace(scenario, requests=tuple(probe)), tuple(sizes))


def _read(directory: Path, name: str) -> Any:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def _bodies(directory: Path, request: dict[str, Any]) -> list[bytes]:
    return [text.encode("latin-1") for text in _read(directory, request["bodies"])]


def served_bodies(directory: Path) -> dict[str, list[bytes]]:
    """What the apps serve: path -> the bodies of its GET pool, by entry."""
    plan = _read(directory, PLAN)
    return {r["path"]: _bodies(directory, r) for r in plan["requests"] if r["method"] == "GET"}


class RoundPlan:
    """One Locust run's view of the pool: its slots in order, the bodies it sends, each entry's leak check."""

    def __init__(self, directory: Path, round_no: int, check_leaks: bool) -> None:
        plan = _read(directory, PLAN)
        self.order: list[tuple[int, int]] = [(k, e) for k, e in plan["order"]]
        self.start: int = (round_no - 1) * plan["per_round"]
        self.bodies = {k: _bodies(directory, r) for k, r in enumerate(plan["requests"]) if r["method"] != "GET"}
        self._leaks: list[list[list[list[str]]]] = (
            [_read(directory, r["leaks"]) for r in plan["requests"]] if check_leaks else [])
        self._checkers: dict[tuple[int, int], LeakChecker] = {}
        # Built before the load: a 100 KB entry's checker takes ~1 ms to compile, not to be spent in the loop.
        for slot in range(plan["per_round"]):
            self.checker(*self.slot(slot))

    def slot(self, n: int) -> tuple[int, int]:
        """(request index, entry) of this run's ``n``-th request (past the last slot: from the first again)."""
        return self.order[(self.start + n) % len(self.order)]

    def checker(self, k: int, entry: int) -> LeakChecker | None:
        """The leak check of request ``k``'s entry ``entry``: its own seeded values; None without leak checks."""
        if not self._leaks:
            return None
        checker = self._checkers.get((k, entry))
        if checker is None:
            substrings, values = self._leaks[k][entry]
            checker = self._checkers[(k, entry)] = LeakChecker(substrings, values, remember=0)
        return checker
