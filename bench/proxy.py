"""Proxy benchmark: the latency `veil proxy` adds, against plain mitmdump and no proxy, in one run.

    python bench/proxy.py [--quick] [--requests N] [--seed N]

Standalone script, not a test. It starts three real processes on 127.0.0.1
(free ports), waits for each by bounded polling, and always stops them at the end:

* upstream: bench/upstream.py, a Starlette app under uvicorn that returns the
  seeded bench/payloads.py JSON for ``GET /payload/{size}/{variant}`` and echoes
  the body of ``POST /echo``;
* mitmdump: ``mitmdump --mode reverse:UPSTREAM -q --set flow_detail=0``, plain
  mitmproxy with no addon: what any mitmproxy-based proxy costs;
* veil: ``python -m veil.cli proxy --upstream UPSTREAM --metrics-port 0`` with the
  built-in default policy ($VEIL_POLICY is removed from its environment).

Then one keep-alive ``httpx.Client`` per target sends the same requests to the
three: a warm-up, then N timed requests per (target, payload, method), the
targets taking turns in small batches (direct, mitmdump, veil, direct, ...) so
drift on a shared machine hits every column alike. Each request is timed with
``time.perf_counter`` around ``client.request`` (send + full response read).
GET: upstream returns the payload, veil redacts the response. POST echo: the
payload goes up and comes back, so veil redacts it twice (request, then the
echoed response).

Columns: p50 / p95 latency per request in ms for each path; ``veil - mitmdump``
is what the veil addon adds on top of mitmproxy itself (redaction, buffering,
header/query rules); ``veil/mitmdump p95`` and ``veil/direct p95`` are ratios of
the p95s (> 1x: veil is slower). Compare within a row: absolute ms depend on
the machine (2 CPUs here: client, proxy and upstream share them).

Checked on every timed response: direct and mitmdump must return exactly the
upstream bytes (else exit 2), veil must answer 200 (else exit 2), and for
realistic payloads no seeded PII value may survive in veil's response (a
"LEAK" line per value, "leaks: N" and exit 1). Exit 0 when all is well.
Default run: 1 KB, 10 KB and 100 KB, ~1 min on 2 CPUs; --quick: N=60, 1 KB and 10 KB only,
a shorter warm-up, ~10 s. (bench/README.md covers the engine and middleware benchmarks.)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the checkout: loadtests.processes

import httpx
import mitmproxy.version
import starlette
import uvicorn
from payloads import SIZES, Payload, build

from loadtests.processes import RunError, Server, free_ports, stop, wait_ready
from loadtests.processes import start as start_in

import veil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
JSON = "application/json"
TARGETS = ("direct", "mitmdump", "veil")
VARIANTS = ("realistic", "pii_free")
METHODS = ("GET", "POST")
BATCH = 10  # requests per target per turn
CELL_WARMUP = 5  # untimed requests per target at the start of each cell


def bounded_requests(text: str) -> int:
    n = int(text)
    if not 10 <= n <= 5000:
        raise argparse.ArgumentTypeError(f"must be between 10 and 5000, got {n}")
    return n


# -- processes -------------------------------------------------------------------------


# -- one cell ------------------------------------------------------------------------------


@dataclass
class Cell:
    payload: Payload
    method: str
    path: str
    req_body: bytes | None
    times: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TARGETS})
    wrong: dict[str, int] = field(default_factory=lambda: {t: 0 for t in TARGETS})
    first_wrong: dict[str, str] = field(default_factory=dict)
    veil_bodies: Counter[bytes] = field(default_factory=Counter)

    @property
    def name(self) -> str:
        return f"{self.payload.label} {self.payload.variant} {self.method}"

    def send(self, client: httpx.Client) -> httpx.Response:
        if self.method == "POST":
            return client.post(self.path, content=self.req_body, headers={"content-type": JSON})
        return client.get(self.path)

    def check(self, target: str, resp: httpx.Response) -> None:
        """Direct and mitmdump must be byte-identical to the upstream; veil must answer 200."""
        if target == "veil":
            if resp.status_code == 200:
                self.veil_bodies[resp.content] += 1
                return
        elif resp.status_code == 200 and resp.content == self.payload.body:
            return
        self.wrong[target] += 1
        self.first_wrong.setdefault(target, f"status {resp.status_code}, {len(resp.content):,} B: "
                                            f"{resp.content[:160]!r}")


def request_for(p: Payload, method: str) -> tuple[str, bytes | None]:
    if method == "POST":
        return "/echo", p.body
    return f"/payload/{p.label}/{p.variant}", None


def run_cell(cell: Cell, clients: dict[str, httpx.Client], n: int) -> None:
    """Untimed warm-up, then ``n`` timed requests per target, the targets taking turns in batches."""
    for target in TARGETS:
        for _ in range(CELL_WARMUP):
            cell.check(target, cell.send(clients[target]))
    for r in range(math.ceil(n / BATCH)):
        k = min(BATCH, n - r * BATCH)
        for target in TARGETS:
            client, times = clients[target], cell.times[target]
            for _ in range(k):
                t0 = time.perf_counter()
                resp = cell.send(client)
                times.append(time.perf_counter() - t0)
                cell.check(target, resp)  # outside the timed span


def leaks(p: Payload, output: bytes) -> list[str]:
    """Seeded PII that survives: free-text values as raw substrings, whole values as JSON literals."""
    found = [v for v in p.pii_substrings if v.encode() in output]
    found += [v for v in p.pii_values if json.dumps(v).encode() in output]
    return found


# -- main ----------------------------------------------------------------------------------


def p50_p95(xs: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, in ms."""
    return statistics.median(xs) * 1e3, statistics.quantiles(xs, n=20, method="inclusive")[18] * 1e3


def fmt(ms: float) -> str:
    return f"{ms:.2f}" if abs(ms) < 10 else f"{ms:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=60, 1KB and 10KB only, shorter warm-up")
    ap.add_argument("--requests", type=bounded_requests, metavar="N",
                    help="timed requests per target per cell, 10..5000 (default 300; 60 with --quick)")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)
    n = args.requests or (60 if args.quick else 300)
    warmup = 20 if args.quick else 50
    labels = ["1KB", "10KB"] if args.quick else ["1KB", "10KB", "100KB"]
    started = time.perf_counter()

    mitmdump = Path(sys.executable).parent / "mitmdump"
    if not mitmdump.exists():
        found = shutil.which("mitmdump")
        if found is None:
            print("mitmdump not found next to this python nor on PATH (pip install veil[proxy])", file=sys.stderr)
            return 2
        mitmdump = Path(found)

    payloads = {(label, variant): build(label, SIZES[label], args.seed, variant)
                for label in labels for variant in VARIANTS}
    cells = []
    for label in labels:
        for variant in VARIANTS:
            for method in METHODS:
                p = payloads[(label, variant)]
                cells.append(Cell(p, method, *request_for(p, method)))

    env = {k: v for k, v in os.environ.items() if k != "VEIL_POLICY"}  # the veil column is the built-in default
    env["PYTHONUNBUFFERED"] = "1"
    env_policy = os.environ.get("VEIL_POLICY")
    up_port, mitm_port, veil_port = free_ports(3)
    upstream = f"http://127.0.0.1:{up_port}"
    servers: list[Server] = []
    clients: dict[str, httpx.Client] = {}
    exit_codes: dict[str, int | None] = {}
    ready: dict[str, float] = {}
    tmp = tempfile.TemporaryDirectory(prefix="veil-bench-proxy-")
    workdir = Path(tmp.name)
    try:
        try:
            servers.append(start_in("upstream", [sys.executable, str(BENCH / "upstream.py"), "--port", str(up_port),
                                              "--seed", str(args.seed), "--labels", ",".join(labels)], env, workdir, ROOT))
            ready["upstream"] = wait_ready(servers[-1], f"{upstream}/healthz")
            # Each proxy gets its own throwaway confdir, so no CA is written to ~/.mitmproxy.
            (workdir / "mitm-conf").mkdir()
            (workdir / "veil-conf").mkdir()
            servers.append(start_in("mitmdump", [str(mitmdump), "--mode", f"reverse:{upstream}",
                                              "--listen-host", "127.0.0.1", "--listen-port", str(mitm_port),
                                              "--set", "flow_detail=0", "--set", f"confdir={workdir / 'mitm-conf'}",
                                              "-q"], env, workdir, ROOT))
            servers.append(start_in("veil", [sys.executable, "-m", "veil.cli", "proxy", "--upstream", upstream,
                                          "--listen", f"127.0.0.1:{veil_port}", "--metrics-port", "0",
                                          "--confdir", str(workdir / "veil-conf")], env, workdir, ROOT))
            ready["mitmdump"] = wait_ready(servers[1], f"http://127.0.0.1:{mitm_port}/healthz")
            ready["veil"] = wait_ready(servers[2], f"http://127.0.0.1:{veil_port}/healthz")
        except (RunError, OSError) as exc:
            print(f"BROKEN start-up: {exc}", file=sys.stderr)
            return 2

        print(f"# veil proxy benchmark{' (--quick)' if args.quick else ''}")
        print()
        print(f"- machine: {platform.platform()} / {platform.machine()} / {platform.processor() or '?'}; "
              f"os.cpu_count()={os.cpu_count()}")
        server_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
        loop_impl = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        print(f"- python: {platform.python_implementation()} {platform.python_version()}; veil {veil.__version__}; "
              f"mitmproxy {mitmproxy.version.VERSION}; httpx {httpx.__version__}; uvicorn {uvicorn.__version__} "
              f"({server_impl}, {loop_impl}); starlette {starlette.__version__}")
        print(f"- seed: {args.seed}; {n} timed requests per target per cell, in turns of {BATCH} "
              f"(direct, mitmdump, veil, ...); warm-up {warmup} per target + {CELL_WARMUP} per target per cell; "
              "one keep-alive httpx.Client per target; GC on")
        print(f"- upstream: bench/upstream.py on :{up_port}; mitmdump on :{mitm_port}; veil proxy on :{veil_port} "
              "(built-in default policy" + (f", $VEIL_POLICY={env_policy!r} removed" if env_policy else "") + ")")
        print("- ready after: " + ", ".join(f"{k} {v:.1f} s" for k, v in ready.items()))

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=120)
        for target, port in zip(TARGETS, (up_port, mitm_port, veil_port)):
            clients[target] = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0, limits=limits,
                                           trust_env=False, headers={"accept": JSON})

        try:
            # Global warm-up: every cell's request through every target (connections, lazy imports, buffers).
            # Untimed, but its answers are checked like the timed ones (and counted in the totals below).
            for i in range(warmup):
                cell = cells[i % len(cells)]
                for target in TARGETS:
                    cell.check(target, cell.send(clients[target]))
            for cell in cells:
                run_cell(cell, clients, n)
                print(f"  ... {cell.name} done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        except httpx.HTTPError as exc:
            print(f"BROKEN during the run: {type(exc).__name__}: {exc}", file=sys.stderr)
            for s in servers:
                if s.proc.poll() is not None:
                    print(f"  {s.name} exited with {s.proc.returncode}:\n{s.log_tail()}", file=sys.stderr)
            return 2
    finally:
        for client in clients.values():
            client.close()
        exit_codes = stop(servers)
        veil_log = next((s.log_tail(200) for s in servers if s.name == "veil"), "")
        tmp.cleanup()

    # -- correctness ---------------------------------------------------------------------
    print()
    broken = False
    leaked_values = 0
    leaked_responses = 0
    for cell in cells:
        for target in TARGETS:
            if cell.wrong[target]:
                broken = True
                what = "not 200" if target == "veil" else "not the upstream's bytes"
                print(f"BROKEN {target} {cell.name}: {cell.wrong[target]} responses {what}; "
                      f"first: {cell.first_wrong[target]}")
        if cell.payload.variant != "realistic":
            continue
        for body, count in cell.veil_bodies.items():
            bad = leaks(cell.payload, body)
            for v in bad:
                print(f"LEAK veil {cell.name}: {v!r} ({count} responses)")
            leaked_values += len(bad)
            leaked_responses += count if bad else 0
    checked = sum(sum(c.veil_bodies.values()) for c in cells if c.payload.variant == "realistic")
    print(f"leaks: {leaked_values} (seeded PII values surviving in veil's responses; "
          f"{leaked_responses} of {checked:,} realistic responses affected)")
    mismatches = sum(c.wrong[t] for c in cells for t in ("direct", "mitmdump"))
    print(f"direct/mitmdump responses not byte-identical to the upstream: {mismatches}; "
          f"veil responses not 200: {sum(c.wrong['veil'] for c in cells)}")

    # -- table -----------------------------------------------------------------------------
    print()
    print("| payload | method | bytes | direct p50 | direct p95 | mitmdump p50 | mitmdump p95 | veil p50 | veil p95 "
          "| veil − mitmdump p50 | veil − mitmdump p95 | veil/mitmdump p95 | veil/direct p95 | veil response |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for cell in cells:
        if any(not cell.times[t] for t in TARGETS):
            continue
        (d50, d95), (m50, m95), (v50, v95) = (p50_p95(cell.times[t]) for t in TARGETS)
        bodies = list(cell.veil_bodies)
        if len(bodies) > 1:
            response = f"{len(bodies)} variants"
        elif not bodies:
            response = "-"
        else:
            response = "unchanged" if bodies[0] == cell.payload.body else "redacted"
        print(f"| {cell.payload.label} {cell.payload.variant} | {cell.method} | {len(cell.payload.body):,} | "
              f"{fmt(d50)} | {fmt(d95)} | {fmt(m50)} | {fmt(m95)} | {fmt(v50)} | {fmt(v95)} | "
              f"{fmt(v50 - m50)} | {fmt(v95 - m95)} | {v95 / m95:.2f}x | {v95 / d95:.1f}x | {response} |")
    print()
    print("Latencies in ms per request (send + full response read, one keep-alive connection per target). "
          "direct = client -> uvicorn; mitmdump = client -> plain mitmdump reverse proxy (no addon) -> uvicorn; "
          "veil = client -> `veil proxy` (built-in default policy) -> uvicorn. GET: the upstream returns the payload "
          "(veil redacts the response); POST: the payload is echoed (veil redacts the request, then the response). "
          "veil − mitmdump = what the veil addon adds over mitmproxy itself; ratios compare p95s. "
          "veil response = whether veil's body differs from the payload.")
    noteworthy = [line for line in veil_log.splitlines()
                  if any(w in line.lower() for w in ("error", "traceback", "exception", "blocked"))]
    if noteworthy:
        print(f"veil proxy log, {len(noteworthy)} error line(s):")
        for line in noteworthy[:20]:
            print(f"  {line}")
    odd_exits = {k: v for k, v in exit_codes.items() if v not in (0, -15)}
    if odd_exits:
        print("exit codes after SIGTERM: " + ", ".join(f"{k} {v}" for k, v in odd_exits.items()))
    print(f"total {time.perf_counter() - started:.1f} s")
    if broken:
        return 2
    if leaked_values:
        print("LEAK: seeded PII survived in a veil proxy response (see LEAK lines above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
