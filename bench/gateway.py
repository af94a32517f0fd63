"""Gateway benchmark: what Envoy, the ext_proc hop and veil's processor each cost, against ``veil proxy``, in one run.

    python bench/gateway.py [--quick] [--requests N] [--capacity-seconds S] [--seed N]

Standalone script, not a test (needs veil[envoy] and veil[proxy]). It starts real processes on
127.0.0.1 (free ports), waits for each by bounded polling, and always stops them at the end:

* upstream: bench/upstream.py (uvicorn): seeded bench/payloads.py JSON for GET, an echo for POST;
* ``direct``: the client talks to the upstream;
* ``envoy``: Envoy alone (the configuration of ``veil envoy`` without its ext_proc filter);
* ``envoy+noop``: Envoy with a do-nothing ext_proc processor (this script, ``--noop-processor``):
  the same messages as veil gets (headers, buffered bodies), answered "continue": the gRPC hop's
  own cost;
* ``extproc-1``, ``extproc-2``: Envoy with ``veil extproc`` (1 and 2 workers), the built-in default policy;
* ``proxy``: ``veil proxy --upstream`` (mitmproxy), the same policy.

Latency: one keep-alive ``httpx.Client`` per target, a warm-up, then N timed requests per
(target, payload, method), the targets taking turns in batches of 10 so drift on a shared machine
hits every column alike. GET: the upstream returns the payload (veil redacts the response); POST:
the payload is echoed (veil redacts the request, then the response). Printed: p50/p95 per target,
and ratios measured in this run (``extproc-1 − noop`` is what veil's processing adds over the hop).

Capacity (skipped with --quick): for 10 KB POSTs, each target under 1, 2, 4 and 8 concurrent
clients (threads, one keep-alive client each) for S seconds per level: requests per second and
p95. Two capacities: within 2x the target's own one-client p95 (where it starts to queue), and at
one p95 budget for all, 2x the proxy's one-client p95 ("at the same p95": the comparison the ratio
line makes). The client threads share the 2 CPUs with everything else: compare within the run.

Checked on every response: the non-veil targets return exactly the upstream's bytes; veil's
targets answer 200 with no seeded PII value left (exit 1 on a leak, 2 on a broken run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the checkout: loadtests.processes

import httpx
from payloads import SIZES, Payload, build

from loadtests.processes import RunError, Server, free_ports, stop, wait_ready
from loadtests.processes import start as start_in

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
JSON = "application/json"
TARGETS = ("direct", "envoy", "envoy+noop", "extproc-1", "extproc-2", "proxy")
VEIL_TARGETS = ("extproc-1", "extproc-2", "proxy")
METHODS = ("GET", "POST")
BATCH = 10
LEVELS = (1, 2, 4, 8)


# -- the no-op processor -----------------------------------------------------------------


def serve_noop_processor(port: int) -> None:
    """An ext_proc server that asks for the bodies veil would (buffered) and changes nothing."""
    import grpc
    from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
    from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as rpc

    from veil.extproc.messages import (
        BUFFERED,
        body_reply,
        headers_reply,
        mode,
        trailers_reply,
    )

    buffered = mode(BUFFERED, BUFFERED)

    class Noop(rpc.ExternalProcessorServicer):  # type: ignore[misc]
        async def Process(self, requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
            async for message in requests:
                which = message.WhichOneof("request")
                direction = "request" if which.startswith("request") else "response"
                if which.endswith("_headers"):
                    yield headers_reply(direction, None, buffered)
                elif which.endswith("_body"):
                    yield body_reply(direction)
                else:
                    yield trailers_reply(direction)

    async def run() -> None:
        server = grpc.aio.server()
        rpc.add_ExternalProcessorServicer_to_server(Noop(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    assert pb  # the stubs import: the processor answers real ext_proc messages
    asyncio.run(run())


# -- cells -------------------------------------------------------------------------------


@dataclass
class Cell:
    payload: Payload
    method: str
    times: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TARGETS})
    wrong: dict[str, str] = field(default_factory=dict)
    leaks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.payload.label} {self.method}"

    def send(self, client: httpx.Client) -> httpx.Response:
        if self.method == "POST":
            return client.post("/echo", content=self.payload.body, headers={"content-type": JSON})
        return client.get(f"/payload/{self.payload.label}/realistic")

    def check(self, target: str, resp: httpx.Response) -> None:
        if target in VEIL_TARGETS:
            if resp.status_code != 200:
                self.wrong.setdefault(target, f"status {resp.status_code}: {resp.content[:120]!r}")
            elif found := leaks(self.payload, resp.content):
                self.leaks.setdefault(target, found)
        elif resp.status_code != 200 or resp.content != self.payload.body:
            self.wrong.setdefault(target, f"status {resp.status_code}, {len(resp.content):,} B")


def leaks(p: Payload, output: bytes) -> list[str]:
    """Seeded PII that survives: free-text values as raw substrings, whole values as JSON literals."""
    found = [v for v in p.pii_substrings if v.encode() in output]
    return found + [v for v in p.pii_values if json.dumps(v).encode() in output]


def run_cell(cell: Cell, clients: dict[str, httpx.Client], n: int) -> None:
    for target in TARGETS:
        for _ in range(5):
            cell.check(target, cell.send(clients[target]))
    for r in range(math.ceil(n / BATCH)):
        for target in TARGETS:
            client, times = clients[target], cell.times[target]
            for _ in range(min(BATCH, n - r * BATCH)):
                t0 = time.perf_counter()
                resp = cell.send(client)
                times.append(time.perf_counter() - t0)
                cell.check(target, resp)


def p50_p95(xs: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, in ms."""
    return statistics.median(xs) * 1e3, statistics.quantiles(xs, n=20, method="inclusive")[18] * 1e3


def load_level(base: str, cell: Cell, clients: int, seconds: float) -> tuple[float, float]:
    """(requests per second, p95 ms) with ``clients`` threads sending ``cell`` for ``seconds``."""
    times: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
            while (t0 := time.perf_counter()) < deadline:
                resp = cell.send(client)
                mine.append(time.perf_counter() - t0)
                if resp.status_code != 200:
                    raise RuntimeError(f"status {resp.status_code} under load")
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - started
    return len(times) / elapsed, p50_p95(times)[1] if len(times) >= 20 else float("nan")


# -- processes ---------------------------------------------------------------------------


def envoy_bootstrap(listen: int, upstream: int, extproc: list[int], limit: int, with_filter: bool) -> dict[str, Any]:
    from veil.extproc.envoy_config import envoy_config

    config = envoy_config(("127.0.0.1", listen), f"http://127.0.0.1:{upstream}", extproc or [1],
                          max_body_bytes=limit)
    if not with_filter:
        manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        manager["http_filters"] = [f for f in manager["http_filters"] if f["name"] != "envoy.filters.http.ext_proc"]
        config["static_resources"]["clusters"] = [c for c in config["static_resources"]["clusters"]
                                                  if c["name"] != "veil_extproc"]
    return config


def start_all(workdir: Path, labels: list[str], seed: int, env: dict[str, str]) -> tuple[list[Server], dict[str, int]]:
    from veil.extproc.sidecar import envoy_binary
    from veil.extproc.sidecar import free_ports as consecutive_ports
    from veil.settings import resolve_plan

    limit = resolve_plan(None).limits.max_body_bytes
    envoy = str(envoy_binary())
    up, envoy_alone, envoy_noop, envoy_1, envoy_2, proxy, noop, x1 = free_ports(8)
    x2 = consecutive_ports(2)
    ports = {"direct": up, "envoy": envoy_alone, "envoy+noop": envoy_noop, "extproc-1": envoy_1,
             "extproc-2": envoy_2, "proxy": proxy}
    servers: list[Server] = []

    def start(name: str, cmd: list[str], ready: Callable[[], bool] | None = None, url: str = "") -> None:
        servers.append(start_in(name, cmd, env, workdir, ROOT))
        wait_ready(servers[-1], url, probe=ready, any_status=True)

    def grpc_ready(port: int) -> Callable[[], bool]:
        from veil.extproc.workers import accepts

        return lambda: accepts("127.0.0.1", port)

    start("upstream", [sys.executable, str(BENCH / "upstream.py"), "--port", str(up), "--seed", str(seed),
                       "--labels", ",".join(labels)], url=f"http://127.0.0.1:{up}/healthz")
    start("noop", [sys.executable, __file__, "--noop-processor", str(noop)], grpc_ready(noop))
    start("extproc-1", [sys.executable, "-m", "veil", "extproc", "--listen", f"127.0.0.1:{x1}",
                        "--metrics-port", "0"], grpc_ready(x1))
    start("extproc-2", [sys.executable, "-m", "veil", "extproc", "--listen", f"127.0.0.1:{x2}", "--workers", "2",
                        "--metrics-port", "0"], lambda: grpc_ready(x2)() and grpc_ready(x2 + 1)())
    for name, listen, extproc, with_filter in (("envoy", envoy_alone, [], False), ("envoy+noop", envoy_noop, [noop], True),
                                               ("envoy-1", envoy_1, [x1], True), ("envoy-2", envoy_2, [x2, x2 + 1], True)):
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(envoy_bootstrap(listen, up, extproc, limit, with_filter)))
        start(name, [envoy, "-c", str(path), "--disable-hot-restart", "--log-level", "warn"],
              url=f"http://127.0.0.1:{listen}/healthz")
    (workdir / "proxy-conf").mkdir()
    start("proxy", [sys.executable, "-m", "veil", "proxy", "--upstream", f"http://127.0.0.1:{up}",
                    "--listen", f"127.0.0.1:{proxy}", "--metrics-port", "0", "--confdir", str(workdir / "proxy-conf")],
          url=f"http://127.0.0.1:{proxy}/healthz")
    return servers, ports


# -- main --------------------------------------------------------------------------------


def fmt(ms: float) -> str:
    return f"{ms:.2f}" if abs(ms) < 10 else f"{ms:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=50, 1KB and 10KB only, no capacity sweep")
    ap.add_argument("--requests", type=int, metavar="N", help="timed requests per target per cell (default 200)")
    ap.add_argument("--capacity-seconds", type=float, default=2.0, metavar="S",
                    help="seconds per concurrency level in the capacity sweep; 0: skip it (default 2)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--noop-processor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.noop_processor:
        serve_noop_processor(args.noop_processor)
        return 0
    n = max(10, min(args.requests or (50 if args.quick else 200), 5000))
    labels = ["1KB", "10KB"] if args.quick else ["1KB", "10KB", "100KB"]
    capacity_seconds = 0.0 if args.quick else max(0.0, min(args.capacity_seconds, 30.0))
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "VEIL_POLICY"}  # every veil column: the built-in default
    env["PYTHONUNBUFFERED"] = "1"
    payloads = {label: build(label, SIZES[label], args.seed, "realistic") for label in labels}
    cells = [Cell(payloads[label], method) for label in labels for method in METHODS]
    capacity: dict[str, list[tuple[int, float, float]]] = {}
    clients: dict[str, httpx.Client] = {}
    tmp = tempfile.TemporaryDirectory(prefix="veil-bench-gateway-")
    servers: list[Server] = []
    try:
        try:
            servers, ports = start_all(Path(tmp.name), labels, args.seed, env)
        except (RunError, OSError, ImportError) as exc:
            print(f"BROKEN start-up: {exc}", file=sys.stderr)
            return 2
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=120)
        for target in TARGETS:
            clients[target] = httpx.Client(base_url=f"http://127.0.0.1:{ports[target]}", timeout=30, limits=limits,
                                           trust_env=False)
        try:
            for cell in cells:
                run_cell(cell, clients, n)
                print(f"  ... {cell.name} done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
            if capacity_seconds and "10KB" in payloads:
                cell = Cell(payloads["10KB"], "POST")
                for target in TARGETS:
                    capacity[target] = [(level, *load_level(f"http://127.0.0.1:{ports[target]}", cell, level,
                                                            capacity_seconds)) for level in LEVELS]
                    print(f"  ... capacity {target} done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        except (httpx.HTTPError, RuntimeError) as exc:
            print(f"BROKEN during the run: {type(exc).__name__}: {exc}", file=sys.stderr)
            for s in servers:
                if s.proc.poll() is not None:
                    print(f"  {s.name} exited with {s.proc.returncode}:\n{s.log_tail()}", file=sys.stderr)
            return 2
    finally:
        for client in clients.values():
            client.close()
        stop(servers)
        tmp.cleanup()
    return report(cells, capacity, n, time.perf_counter() - started)


def report(cells: list[Cell], capacity: dict[str, list[tuple[int, float, float]]], n: int, total: float) -> int:
    print(f"# veil gateway benchmark: {n} timed requests per target per cell; os.cpu_count()={os.cpu_count()}")
    print()
    print("| payload | " + " | ".join(f"{t} p50 | {t} p95" for t in TARGETS)
          + " | extproc-1 − noop p95 | extproc-1/noop p95 | proxy/extproc-1 p95 |")
    print("|---|" + "---|---|" * len(TARGETS) + "---|---|---|")
    for cell in cells:
        stats = {t: p50_p95(cell.times[t]) for t in TARGETS}
        row = " | ".join(f"{fmt(stats[t][0])} | {fmt(stats[t][1])}" for t in TARGETS)
        x1, noop, proxy = stats["extproc-1"][1], stats["envoy+noop"][1], stats["proxy"][1]
        print(f"| {cell.name} | {row} | {fmt(x1 - noop)} | {x1 / noop:.2f}x | {proxy / x1:.2f}x |")
    print()
    print("Latency in ms per request (send + full response read), one keep-alive connection per target. "
          "GET: veil redacts the response; POST: the request, then the echoed response.")
    if capacity:
        print()
        budget = 2 * capacity["proxy"][0][2]
        print("| target | " + " | ".join(f"{c} clients: req/s, p95" for c in LEVELS)
              + f" | capacity, p95 ≤ 2x own 1-client | capacity, p95 ≤ {fmt(budget)} ms |")
        print("|---|" + "---|" * len(LEVELS) + "---|---|")
        same: dict[str, float] = {}
        for target, levels in capacity.items():
            own = max((rps for _, rps, p95 in levels if p95 <= 2 * levels[0][2]), default=0.0)
            same[target] = max((rps for _, rps, p95 in levels if p95 <= budget), default=0.0)
            cols = " | ".join(f"{rps:.0f}, {fmt(p95)}" for _, rps, p95 in levels)
            print(f"| {target} | {cols} | {own:.0f} req/s | {same[target]:.0f} req/s |")
        if same.get("proxy"):
            print()
            print(f"10 KB POST requests per second at the same p95 ({fmt(budget)} ms): "
                  f"extproc-1/proxy {same['extproc-1'] / same['proxy']:.2f}x, "
                  f"extproc-2/proxy {same['extproc-2'] / same['proxy']:.2f}x")
    broken = [(cell.name, t, why) for cell in cells for t, why in cell.wrong.items()]
    leaked = [(cell.name, t, v) for cell in cells for t, vs in cell.leaks.items() for v in vs]
    for name, target, why in broken:
        print(f"BROKEN {target} {name}: {why}")
    for name, target, value in leaked:
        print(f"LEAK {target} {name}: {value!r}")
    print(f"leaks: {len(leaked)}; total {total:.1f} s")
    return 2 if broken else 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
