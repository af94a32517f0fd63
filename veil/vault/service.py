"""``veil serve detokenize``: governed re-identification over HTTP (Starlette).

- ``POST /v1/detokenize`` with ``Authorization: Bearer KEY``: the body (JSON,
  NDJSON, form, text: any UTF-8 body) comes back with the tokens this client may
  reverse restored and every other token left as it is (200). No or a wrong key:
  401; over the client's rate limit: 429; a body that is not UTF-8: 415.
- ``GET /healthz``: 200. ``GET /metrics``: Prometheus text (``veil_token_resolve_total``
  by outcome, ``veil_token_resolve_seconds``, ``veil_token_vault_seconds``).
- One audit line per request (JSON): time, request id, client, route, status,
  outcome, counts of tokens by outcome and by type. Never a value, never a token.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any
from urllib.parse import quote_plus

from veil.rules.media import body_kind, media_type
from veil.rules.plan import Plan
from veil.vault.clients import Client, Clients
from veil.vault.metrics import ResolveMetrics
from veil.vault.resolve import Resolver

ROUTE = "/v1/detokenize"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class AuditLog:
    """Appends one JSON line per request to a file, or to stdout."""

    def __init__(self, path: str | None) -> None:
        self._stream: IO[str] = sys.stdout if path in (None, "-") else open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"), sort_keys=True)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def _escaper(content_type: str) -> Callable[[str], str]:
    """How a restored value is written where its token was, for this type of body."""
    kind = body_kind(media_type(content_type)[0])
    if kind in ("json", "ndjson"):
        return lambda value: json.dumps(value, ensure_ascii=False)[1:-1]
    if kind == "form":
        return quote_plus
    return str


def _outcome(outcomes: dict[str, int]) -> str:
    if not outcomes or set(outcomes) == {"ok"}:
        return "ok"
    if "error" in outcomes:
        return "error"
    return "partial" if outcomes.get("ok") else "none_restored"


def create_app(plan: Plan, clients: Clients, *, audit: AuditLog | None = None,
               metrics: ResolveMetrics | None = None) -> Any:
    """The Starlette app of the detokenize service for ``plan``'s vaults and ``clients``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    metrics = metrics or ResolveMetrics()
    audit = audit or AuditLog(None)
    resolver = Resolver(plan, on_vault_call=metrics.vault_latency.observe)

    def answer(request_id: str, client: Client | None, status: int, started: float, outcome: str,
               outcomes: dict[str, int] | None = None, types: dict[str, int] | None = None) -> None:
        metrics.requests.labels(str(status)).inc()
        metrics.latency.observe(time.perf_counter() - started)
        audit.write({
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "request_id": request_id, "client": client.name if client else None, "route": ROUTE,
            "status": status, "outcome": outcome, "tokens": outcomes or {}, "types": types or {},
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        })

    def refuse(status: int, reason: str, request_id: str, headers: dict[str, str]) -> Response:
        return JSONResponse({"error": reason, "request_id": request_id}, status,
                            headers={"x-request-id": request_id, **headers})

    async def detokenize(request: Request) -> Response:
        started = time.perf_counter()
        given = request.headers.get("x-request-id", "")
        # The caller's id only when it has an id's shape: anything else could carry a value into the log.
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        client = clients.find(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        if client is None:
            answer(request_id, None, 401, started, "unauthorized")
            return refuse(401, "unauthorized", request_id, {"www-authenticate": 'Bearer realm="veil"'})
        if not client.allow_request():
            answer(request_id, client, 429, started, "rate_limited")
            return refuse(429, "rate_limited", request_id, {"retry-after": "1"})
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            answer(request_id, client, 415, started, "bad_encoding")
            return refuse(415, "body is not UTF-8 text", request_id, {})
        content_type = request.headers.get("content-type", "text/plain; charset=utf-8")
        restored = await run_in_threadpool(resolver.restore, text, client.grant, _escaper(content_type))
        for outcome, n in restored.outcomes.items():
            metrics.resolved.labels(outcome).inc(n)
        answer(request_id, client, 200, started, _outcome(restored.outcomes), dict(restored.outcomes),
               dict(restored.types))
        return Response(restored.text.encode("utf-8"), 200, media_type=None,
                        headers={"content-type": content_type, "x-request-id": request_id})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Starlette(routes=[
        Route(ROUTE, detokenize, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ])


def serve(plan: Plan, clients: Clients, *, host: str, port: int, audit_log: str | None = None,
          ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
    """Run the service under uvicorn until interrupted."""
    import uvicorn

    app = create_app(plan, clients, audit=AuditLog(audit_log))
    uvicorn.run(app, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                log_level="warning", access_log=False)
