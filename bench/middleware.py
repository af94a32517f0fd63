"""Middleware benchmark: per-request overhead of veil's ASGI and WSGI middlewares over the bare app.

    python bench/middleware.py [--quick] [--seed N]

Standalone script, not a test. No server, no network, no HTTP client: the ASGI
callable is driven directly from an asyncio loop with an in-memory
scope/receive/send, and the WSGI callable is called with a minimal environ and
start_response (its iterable consumed and closed), so what is timed is the app
plus, in the wrapped column, the middleware. Exits 1 if a seeded PII value
survives in a wrapped response (a "LEAK" line is printed for each). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from payloads import Payload, generate

import veil
from veil.middleware import ASGIMiddleware, WSGIMiddleware

JSON = "application/json"
PATH = "/v1/orders"
HOST = "api.example.test"

# A batch runner: run ``n`` requests, return the elapsed seconds (timer inside, so loop start-up is excluded).
Runner = Callable[[int], float]


# -- ASGI ------------------------------------------------------------------------------


async def asgi_echo(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
    """Echo the request body back as the JSON response."""
    parts: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(parts)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def make_asgi_get(payload: bytes) -> Any:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]

    async def asgi_get(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """A fixed JSON payload for a GET; the request body is never read."""
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})

    return asgi_get


def asgi_request(app: Any, method: str, body: bytes) -> Callable[[], Awaitable[tuple[int, bytes]]]:
    """One in-memory ASGI request: (status, response body)."""
    req_headers = [(b"host", HOST.encode()), (b"accept", b"application/json")]
    if method == "POST":
        req_headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def one() -> tuple[int, bytes]:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
                 "root_path": "", "headers": req_headers, "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 8000)}
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        status = 0
        out: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        await app(scope, receive, send)
        return status, b"".join(out)

    return one


def asgi_runner(loop: asyncio.AbstractEventLoop, one: Callable[[], Awaitable[Any]]) -> Runner:
    async def batch(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            await one()
        return time.perf_counter() - t0

    return lambda n: loop.run_until_complete(batch(n))


# -- WSGI ------------------------------------------------------------------------------


def wsgi_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Echo the request body back as the JSON response."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def make_wsgi_get(payload: bytes) -> Any:
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]

    def wsgi_get(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """A fixed JSON payload for a GET; wsgi.input is never read."""
        start_response("200 OK", list(headers))
        return [payload]

    return wsgi_get


def wsgi_request(app: Any, method: str, body: bytes) -> Callable[[], tuple[int, bytes]]:
    """One in-process WSGI call: (status, response body), the iterable consumed and closed."""
    base = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": PATH, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": HOST, "HTTP_ACCEPT": "application/json",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False}
    if method == "POST":
        base["CONTENT_TYPE"] = JSON
        base["CONTENT_LENGTH"] = str(len(body))

    def one() -> tuple[int, bytes]:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body)
        status = [0]

        def start_response(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(status_line.split(" ", 1)[0])
            return lambda data: None

        result: Iterable[bytes] = app(environ, start_response)
        try:
            out = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return status[0], out

    return one


def sync_runner(fn: Callable[[], object]) -> Runner:
    def batch(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - t0

    return batch


# -- timing ----------------------------------------------------------------------------


def measure(runners: dict[str, Runner], budget_s: float, min_rounds: int) -> dict[str, float]:
    """Median seconds per request for each runner, rounds interleaved (A B C A B C ...).

    Each runner gets its own batch size so one round takes >= ~2 ms (keeps timer
    overhead out of the 1 KB cells); interleaving means drift on a shared machine
    hits every column alike. ``budget_s`` covers all the runners together.
    GC stays enabled: veil allocates, and so does real traffic.
    """
    number: dict[str, int] = {}
    for name, run in runners.items():
        run(1)  # warm up (lazy scopes, caches)
        one = max(run(1), 1e-7)
        number[name] = max(1, int(0.002 / one))
        number[name] = max(1, int(0.002 / max(run(number[name]) / number[name], 1e-7)))  # re-estimate on a batch
    per_call: dict[str, list[float]] = {name: [] for name in runners}
    deadline = time.perf_counter() + budget_s
    while True:
        for name, run in runners.items():
            per_call[name].append(run(number[name]) / number[name])
        if min(len(v) for v in per_call.values()) >= min_rounds and time.perf_counter() >= deadline:
            break
    return {name: statistics.median(v) for name, v in per_call.items()}


# -- leak check --------------------------------------------------------------------------


def leaks(p: Payload, output: bytes) -> list[str]:
    """Seeded PII that survives: free-text values as raw substrings, whole values as JSON literals."""
    found = [v for v in p.pii_substrings if v.encode() in output]
    found += [v for v in p.pii_values if json.dumps(v).encode() in output]
    return found


# -- main ------------------------------------------------------------------------------


def fmt(us: float) -> str:
    return f"{us:,.1f}" if abs(us) < 100 else f"{us:,.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="~0.2 s per cell instead of ~1 s; 1KB and 10KB only")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)
    cell_budget = 0.2 if args.quick else 1.0
    min_rounds = 3 if args.quick else 5
    labels = ["1KB", "10KB"] if args.quick else ["1KB", "10KB", "100KB"]
    started = time.perf_counter()

    env_policy = os.environ.pop("VEIL_POLICY", None)  # policy=None must mean the built-in default here
    plan = veil.default_plan()

    print(f"# veil middleware benchmark{' (--quick)' if args.quick else ''}")
    print()
    print(f"- machine: {platform.platform()} / {platform.machine()} / {platform.processor() or '?'}; "
          f"os.cpu_count()={os.cpu_count()}")
    print(f"- python: {platform.python_implementation()} {platform.python_version()}; veil {veil.__version__}")
    print(f"- seed: {args.seed}; ~{cell_budget} s per cell (bare, wrapped and plan rounds interleaved); "
          "median per-request time (GC on); policy=None, i.e. veil.default_plan()"
          + (f" ($VEIL_POLICY={env_policy!r} ignored)" if env_policy else ""))

    payloads = generate(args.seed)
    loop = asyncio.new_event_loop()
    leaked = False
    rows: list[str] = []

    for adapter in ("ASGI", "WSGI"):
        for app_name in ("echo POST", "GET"):
            for label in labels:
                for variant in ("realistic", "pii_free"):
                    p = payloads[(label, variant)]
                    body = p.body
                    echo = app_name == "echo POST"
                    method, req_body = ("POST", body) if echo else ("GET", b"")
                    bare_one: Callable[[], Any]
                    veil_one: Callable[[], Any]
                    if adapter == "ASGI":
                        app = asgi_echo if echo else make_asgi_get(body)
                        wrapped = ASGIMiddleware(app, policy=None)
                        bare_one, veil_one = asgi_request(app, method, req_body), asgi_request(wrapped, method, req_body)

                        def call(one: Any) -> tuple[int, bytes]:
                            res: tuple[int, bytes] = loop.run_until_complete(one())
                            return res

                        runners = {"bare": asgi_runner(loop, bare_one), "veil": asgi_runner(loop, veil_one)}
                    else:
                        app = wsgi_echo if echo else make_wsgi_get(body)
                        wrapped = WSGIMiddleware(app, policy=None)
                        bare_one, veil_one = wsgi_request(app, method, req_body), wsgi_request(wrapped, method, req_body)

                        def call(one: Any) -> tuple[int, bytes]:  # one per branch
                            res: tuple[int, bytes] = one()
                            return res

                        runners = {"bare": sync_runner(bare_one), "veil": sync_runner(veil_one)}
                    assert wrapped.plan is plan, "the middleware must use the same Plan as the plan column"

                    # -- correctness, once per cell: bare is the identity, wrapped leaks nothing --
                    b_status, b_out = call(bare_one)
                    v_status, v_out = call(veil_one)
                    if b_status != 200 or b_out != body:
                        print(f"  BROKEN bare {adapter} {app_name} {label} {variant}: status {b_status}, "
                              f"{len(b_out)} B back", file=sys.stderr)
                        return 2
                    if v_status != 200:
                        print(f"  BROKEN wrapped {adapter} {app_name} {label} {variant}: status {v_status} "
                              f"{v_out[:200]!r}", file=sys.stderr)
                        return 2
                    bad = leaks(p, v_out)
                    for v in bad:
                        print(f"LEAK {adapter} {app_name} {label} {variant}: {v!r}")
                    leaked = leaked or bool(bad)
                    unchanged = v_out == body

                    # The plan alone, timed in the same interleaved rounds as bare and wrapped (never reused
                    # from another cell: on a shared machine speed drifts between cells, not within one).
                    # Echo: the request, then the response, which is the already-redacted request body.
                    bodies = (body, plan.redact_body(body, JSON).output) if echo else (body,)

                    def plan_alone(bodies: tuple[bytes, ...] = bodies) -> None:
                        for b in bodies:
                            plan.redact_body(b, JSON)

                    runners["plan"] = sync_runner(plan_alone)
                    t = measure(runners, cell_budget, min_rounds)
                    t_plan = t["plan"]
                    bare, with_veil = t["bare"] * 1e6, t["veil"] * 1e6
                    overhead, plan_us = with_veil - bare, t_plan * 1e6
                    share = f"{100 * plan_us / overhead:.0f}%" if overhead > 0 else "-"
                    rows.append(f"| {adapter} | {app_name} | {label} | {variant} | {len(body):,} | {fmt(bare)} | "
                                f"{fmt(with_veil)} | {fmt(overhead)} | {with_veil / bare:.1f}x | {fmt(plan_us)} | "
                                f"{share} | {fmt(overhead - plan_us)} | {'unchanged' if unchanged else 'redacted'} |")
                    print(f"  ... {adapter} {app_name} {label} {variant} done "
                          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    loop.close()

    print()
    print("| adapter | app | size | variant | bytes | bare µs | with veil µs | overhead µs | ratio | plan µs "
          "| plan/overhead | rest µs | response |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print("bare = the app called directly; with veil = the same app wrapped in veil.middleware.ASGIMiddleware / "
          "WSGIMiddleware(app, policy=None); overhead = with veil - bare; ratio = with veil / bare. "
          "plan = veil.default_plan().redact_body(body, 'application/json') alone; for echo POST it is counted twice "
          "(the request body, then the already-redacted body the app echoes back), for GET once (the response). "
          "plan/overhead = the engine's share of the overhead; rest = overhead - plan (headers, query, routing, "
          "buffering, ASGI/WSGI plumbing). response = whether the wrapped response differs from the payload.")
    print(f"total {time.perf_counter() - started:.1f} s")
    if leaked:
        print("LEAK: seeded PII survived in a wrapped response (see LEAK lines above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
