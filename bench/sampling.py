"""Cost of sampled detect mode (issue 19): the built-in strict policy with and without ``sample:``.

    python bench/sampling.py [--bodies N] [--seed N]

One run. A pool of distinct realistic 10 KB JSON bodies (``bench/payloads.py``, escaped shape) is
redacted once per body by each plan, in alternating chunks, with the Prometheus observer and the
finding recorder (writing to a temporary file) as the adapters would call them:

- ``none``: builtin:strict as it is (the baseline);
- ``sample 0.05``: the same policy plus a top-level ``sample: 0.05`` (a discovery pass on one body in
  twenty), the rate the README suggests;
- ``sample 1``: every body sampled: what one sampled body costs.

Prints µs per body (total time / bodies: a sampled body's cost is a spike, so a median would hide
it) and the ratio to ``none``. Exits 1 when a sampled
plan's output differs from the baseline's on any body (sampling must never change what is sent),
or when a seeded value is found in the records file. Standalone script, not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import prometheus_client  # noqa: E402

from payloads import SIZES, pool  # noqa: E402
from veil import Route, compile_policy  # noqa: E402
from veil.observe.prometheus import Metrics  # noqa: E402
from veil.observe.records import FindingRecorder, Observers  # noqa: E402
from veil.rules.plan import Plan  # noqa: E402
from veil.rules.profiles import profile_yaml  # noqa: E402

ROUTE = Route("response", "GET", "api.example", "/orders/1")
CHUNK = 25


def _plan(rate: float | None, seed: int) -> Plan:
    text = profile_yaml("strict")
    if rate is not None:
        text = text.replace("version: 1\n", f"version: 1\nsample: {rate}\n", 1)
        assert f"sample: {rate}" in text
    return compile_policy(text, source=f"strict+sample {rate}", sample_random=random.Random(seed).random)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=400, help="distinct 10 KB bodies (default 400)")
    parser.add_argument("--seed", type=int, default=20240601, help="payload and draw seed (default 20240601)")
    args = parser.parse_args()
    bodies = pool("10KB", SIZES["10KB"], args.seed, "realistic", "escaped", args.bodies)
    plans = {"none": _plan(None, args.seed), "sample 0.05": _plan(0.05, args.seed), "sample 1": _plan(1, args.seed)}
    tmp = Path(tempfile.mkdtemp(prefix="veil-bench-sampling-"))
    recorder = FindingRecorder(tmp / "records.ndjson", max_bytes=1 << 30)
    observer = Observers(Metrics(registry=prometheus_client.CollectorRegistry()), recorder)
    for plan in plans.values():  # warm: compile views and caches once
        plan.redact_body(bodies[0].body, "application/json", ROUTE)
    means: dict[str, list[float]] = {name: [] for name in plans}
    baseline: list[bytes] = []
    mismatches = 0
    for start in range(0, len(bodies), CHUNK):
        chunk = bodies[start:start + CHUNK]
        order = list(plans.items())
        if (start // CHUNK) % 2:
            order.reverse()  # neither plan always runs first on a chunk
        outputs: dict[str, list[bytes]] = {}
        for name, plan in order:
            out = []
            began = time.perf_counter()
            for payload in chunk:
                t0 = time.perf_counter()
                result = plan.redact_body(payload.body, "application/json", ROUTE)
                observer.observe(adapter="bench", direction="response", outcome="rewritten", report=result.report,
                                 seconds=time.perf_counter() - t0, size=len(payload.body))
                out.append(result.output)
            means[name].append((time.perf_counter() - began) / len(chunk))
            outputs[name] = out
        baseline += outputs["none"]
        mismatches += sum(a != b for name in plans for a, b in zip(outputs[name], outputs["none"]))
    recorder.close()
    records = (tmp / "records.ndjson").read_text()
    leaked = sorted({v for p in bodies for v in p.pii_values + p.pii_substrings if len(v) >= 6 and v in records})
    base = statistics.fmean(means["none"])
    print(f"bench/sampling.py: {len(bodies)} distinct 10 KB realistic escaped bodies, builtin:strict, "
          f"observer = Metrics + FindingRecorder (file), one run")
    print(f"{'plan':<12} {'us/body':>9} {'ratio':>7}")
    for name in plans:
        mean = statistics.fmean(means[name])  # chunks are of equal size but the last: near enough the total
        print(f"{name:<12} {mean * 1e6:>9.1f} {mean / base:>6.2f}x")
    every = statistics.fmean(means["sample 1"]) / base
    print(f"bound at rate r: 1 + r x ({every:.2f} - 1), e.g. {1 + 0.05 * (every - 1):.2f}x at 0.05, "
          f"{1 + 0.01 * (every - 1):.2f}x at 0.01 (the sample 0.05 row measures the same, within this machine's noise)")
    print(f"records: {len(records.splitlines())} lines, {len(records)} bytes; outputs differing from 'none': "
          f"{mismatches}; seeded values in records: {len(leaked)}")
    for value in leaked:
        print(f"LEAK in records: {value!r}")
    return 1 if mismatches or leaked else 0


if __name__ == "__main__":
    sys.exit(main())
