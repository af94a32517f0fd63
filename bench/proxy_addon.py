"""Proxy addon benchmark: the CPU time veil's mitmproxy hooks take per flow, in-process.

    python bench/proxy_addon.py [--quick] [--seed N]

Standalone script, not a test. No proxy process, socket or client: mitmproxy
flows are built in memory and driven through ``VeilAddon``'s four hooks in the
order the proxy calls them (requestheaders, request, responseheaders,
response), so what is timed is veil's own work per flow, without mitmproxy's
event loop, parsing and I/O (``bench/proxy.py`` and ``python -m loadtests``
measure the whole proxy). Exits 1 if a seeded PII value survives (a "LEAK"
line each). See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from middleware import fmt, leaks  # the same leak check and number format as the middleware benchmark
from payloads import generate

from mitmproxy import http
from mitmproxy.test import taddons, tflow

import veil
from veil.proxy_addon import VeilAddon

JSON = "application/json"
HOST = "api.example.test"
# What a client and an upstream typically send: the header work is part of every flow.
REQUEST_HEADERS = [("host", HOST), ("user-agent", "python-httpx/0.28.1"), ("accept", "*/*"),
                   ("accept-encoding", "gzip, deflate"), ("connection", "keep-alive")]
RESPONSE_HEADERS = [("date", "Sat, 28 Nov 2026 08:00:00 GMT"), ("server", "uvicorn"), ("content-type", JSON)]


def make_flow(method: str, body: bytes, reply: bytes) -> tuple[http.HTTPFlow, http.Response]:
    """A live flow carrying the request, and the upstream's response to hand over after the request hooks."""
    headers = REQUEST_HEADERS + ([("content-type", JSON), ("content-length", str(len(body)))] if body else [])
    request = http.Request.make(method, f"http://{HOST}/v1/orders", body, _raw(headers))
    request.raw_content = body  # make() may encode: keep the bytes as sent
    flow = tflow.tflow(req=request)
    flow.live = True
    response = http.Response.make(200, b"", _raw(RESPONSE_HEADERS + [("content-length", str(len(reply)))]))
    response.data.content = None  # as mitmproxy has it between the response's headers and its body
    return flow, response


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers]


def through_hooks(addon: VeilAddon, flow: http.HTTPFlow, response: http.Response, reply: bytes) -> bytes:
    """One flow through the four hooks; returns the body the client would receive."""
    addon.requestheaders(flow)
    addon.request(flow)
    flow.response = response
    addon.responseheaders(flow)
    response.raw_content = reply
    addon.response(flow)
    return flow.response.raw_content or b""


def measure(addon: VeilAddon, exchange: tuple[str, bytes, bytes], plan_alone: Callable[[], object],
            budget_s: float, min_rounds: int = 5, batch: int = 20) -> tuple[float, float]:
    """Median µs per flow of the hooks, and of the plan alone, timed in alternating rounds.

    ``exchange`` is (method, request body, upstream reply). A flow is used once (the
    hooks rewrite it), so each round's flows are built before its timer starts:
    building one costs mitmproxy more than veil's hooks.
    """
    method, sent, reply = exchange
    per_flow: dict[str, list[float]] = {"hooks": [], "plan": []}
    deadline = time.perf_counter() + budget_s * 2
    while min(len(v) for v in per_flow.values()) < min_rounds or time.perf_counter() < deadline:
        flows = [make_flow(method, sent, reply) for _ in range(batch)]
        t0 = time.perf_counter()
        for flow, response in flows:
            through_hooks(addon, flow, response, reply)
        per_flow["hooks"].append((time.perf_counter() - t0) / batch)
        t0 = time.perf_counter()
        for _ in range(batch):
            plan_alone()
        per_flow["plan"].append((time.perf_counter() - t0) / batch)
    return statistics.median(per_flow["hooks"]) * 1e6, statistics.median(per_flow["plan"]) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="~0.4 s per cell instead of ~2 s; 1KB and 10KB only")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)
    cell_budget = 0.2 if args.quick else 1.0
    labels = ["1KB", "10KB"] if args.quick else ["1KB", "10KB", "100KB"]
    started = time.perf_counter()
    env_policy = os.environ.pop("VEIL_POLICY", None)  # the addon must use the built-in default here

    print(f"# veil proxy addon benchmark{' (--quick)' if args.quick else ''}")
    print()
    print(f"- machine: {platform.platform()} / {platform.machine()}; os.cpu_count()={os.cpu_count()}")
    print(f"- python: {platform.python_implementation()} {platform.python_version()}; veil {veil.__version__}")
    print(f"- seed: {args.seed}; ~{2 * cell_budget:g} s per cell, hooks and plan in alternating rounds; median per flow "
          "(GC on); the built-in default policy" + (f" ($VEIL_POLICY={env_policy!r} ignored)" if env_policy else ""))

    payloads = generate(args.seed)
    addon = VeilAddon()
    rows: list[str] = []
    leaked = False
    with taddons.context(addon) as tctx:
        tctx.configure(addon)
        plan = addon.plan
        assert plan is not None
        for app in ("echo POST", "GET"):
            for label in labels:
                for variant in ("realistic", "pii_free"):
                    p = payloads[(label, variant)]
                    echo = app == "echo POST"
                    method, sent = ("POST", p.body) if echo else ("GET", b"")
                    # The upstream's reply: the payload for GET; for echo, the request body as veil forwarded it.
                    reply = p.body
                    if echo:
                        flow, _ = make_flow(method, sent, b"")
                        addon.requestheaders(flow)
                        addon.request(flow)
                        reply = flow.request.raw_content or b""
                    out = through_hooks(addon, *make_flow(method, sent, reply), reply)
                    bad = leaks(p, out) + (leaks(p, reply) if echo else [])
                    for v in bad:
                        print(f"LEAK {app} {label} {variant}: {v!r}")
                    leaked = leaked or bool(bad)
                    bodies = (p.body, reply) if echo else (reply,)

                    def plan_alone(bodies: tuple[bytes, ...] = bodies) -> None:
                        for b in bodies:
                            plan.redact_body(b, JSON)

                    hooks_us, plan_us = measure(addon, (method, sent, reply), plan_alone, cell_budget)
                    share = f"{100 * plan_us / hooks_us:.0f}%" if hooks_us > 0 else "-"
                    rows.append(f"| {app} | {label} | {variant} | {len(p.body):,} | {fmt(hooks_us)} | "
                                f"{fmt(plan_us)} | {share} | {fmt(hooks_us - plan_us)} |")
                    print(f"  ... {app} {label} {variant} done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)

    print()
    print("| app | size | variant | bytes | veil hooks µs | plan µs | plan/hooks | rest µs |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print("veil hooks = median CPU time per flow of VeilAddon's four hooks (flows built beforehand, untimed). "
          "plan = veil.default_plan().redact_body alone on the same bodies, timed in alternating rounds (echo POST: "
          "the request, then the already-redacted body the upstream echoes; GET: the response). rest = hooks - "
          "plan: headers, query, routing, buffering and the hooks' own work.")
    print(f"total {time.perf_counter() - started:.1f} s")
    if leaked:
        print("LEAK: seeded PII survived (see LEAK lines above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
