"""The upstream app for the proxy benchmark: fixed seeded payloads for GET, an echo for POST.

    python bench/upstream.py --port 8000 [--seed N] [--labels 1KB,10KB,100KB]

Started (and stopped) by bench/proxy.py; runnable alone to poke at it. Routes:

* ``GET /payload/{label}/{variant}``: the bytes of ``payloads.build(label, ..., seed, variant)``
  as ``application/json`` (404 for a payload it was not asked to build);
* ``POST /echo``: the request body back, as ``application/json``;
* ``GET /healthz``: ``ok``, for the readiness poll.

uvicorn serves it on one worker with access logs off; its keep-alive timeout is
raised to 120 s so an idle pause in the benchmark never closes a proxy's
upstream connection (a reconnect would land in someone's latency).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import uvicorn
from payloads import SIZES, build
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

JSON = "application/json"
VARIANTS = ("realistic", "pii_free")


def make_app(seed: int, labels: list[str]) -> Starlette:
    bodies = {(label, variant): build(label, SIZES[label], seed, variant).body
              for label in labels for variant in VARIANTS}

    async def payload(request: Request) -> Response:
        body = bodies.get((request.path_params["label"], request.path_params["variant"]))
        if body is None:
            return PlainTextResponse("no such payload\n", status_code=404)
        return Response(body, media_type=JSON)

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type=JSON)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    return Starlette(routes=[
        Route("/payload/{label}/{variant}", payload, methods=["GET"]),
        Route("/echo", echo, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--labels", default="1KB,10KB,100KB", help="comma-separated sizes from payloads.SIZES")
    args = ap.parse_args(argv)
    labels = [x for x in args.labels.split(",") if x]
    unknown = [x for x in labels if x not in SIZES]
    if unknown:
        ap.error(f"--labels: unknown size(s) {', '.join(unknown)}; expected some of {', '.join(SIZES)}")
    uvicorn.run(make_app(args.seed, labels), host=args.host, port=args.port, log_level="warning",
                access_log=False, lifespan="off", timeout_keep_alive=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
