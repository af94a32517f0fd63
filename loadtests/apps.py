"""The apps under load: one FastAPI app (uvicorn) and one Flask app (gunicorn), same routes.

    uvicorn --factory loadtests.apps:create_asgi_app --port 8000
    gunicorn -k gthread 'loadtests.apps:create_wsgi_app()' -b 127.0.0.1:8001

With ``VEIL_LOADTEST_MIDDLEWARE=1`` the app is wrapped in veil's
``ASGIMiddleware`` / ``WSGIMiddleware`` (policy: ``$VEIL_POLICY``, else the
built-in default, which covers requests and responses). Routes:

* ``GET /json/{size}/{variant}``: fixed seeded bytes from :mod:`loadtests.payloads`
  (size 1KB/10KB/100KB, variant realistic/pii_free), ``application/json``;
* ``POST /echo``: the request body back with the request's content type (veil
  redacts it on the way in and again on the way out);
* ``GET /ndjson``, ``GET /sse``: a few NDJSON lines / SSE events carrying PII,
  streamed (no sleeps);
* ``GET /health``: ``ok``.

With ``VEIL_LOADTEST_POOL`` (``python -m loadtests --fresh``) every GET route
takes ``?k=<entry>`` and serves that entry of its pool (:mod:`loadtests.pool`):
a different body, with different PII values, for every request; 404 for an entry
the pool does not have.

The views do as little as possible (no JSON parsing, no validation), so the
difference between the bare and the wrapped app is veil's cost. The seed comes
from ``$VEIL_LOADTEST_SEED`` (default :data:`loadtests.payloads.SEED`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from flask import Flask
from flask import Response as FlaskResponse
from flask import request as flask_request

from loadtests.payloads import SEED, json_payloads, ndjson_payload, sse_payload
from loadtests.pool import ENV_POOL, served_bodies

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

ENV_MIDDLEWARE = "VEIL_LOADTEST_MIDDLEWARE"
ENV_SEED = "VEIL_LOADTEST_SEED"
JSON = "application/json"
NDJSON = "application/x-ndjson"
SSE = "text/event-stream"
T = TypeVar("T")


def _ndjson_chunks(body: bytes) -> list[bytes]:
    return body.splitlines(keepends=True)


def _sse_chunks(body: bytes) -> list[bytes]:
    return [event + b"\n\n" for event in body.split(b"\n\n") if event]


def _bodies() -> tuple[dict[tuple[str, str], bytes], list[bytes], list[bytes]]:
    seed = int(os.environ.get(ENV_SEED, SEED))
    bodies = {key: p.body for key, p in json_payloads(seed).items()}
    return bodies, _ndjson_chunks(ndjson_payload(seed).body), _sse_chunks(sse_payload(seed).body)


class _Pool:
    """``--fresh``: every GET route's bodies by entry, streams already cut into their chunks."""

    def __init__(self, directory: str) -> None:
        served = served_bodies(Path(directory))
        self.json = {path: bodies for path, bodies in served.items() if path.startswith("/json/")}
        self.ndjson = [_ndjson_chunks(body) for body in served.get("/ndjson", [])]
        self.sse = [_sse_chunks(body) for body in served.get("/sse", [])]

    def payload(self, size: str, variant: str, k: int | None) -> bytes | None:
        return _entry(self.json.get(f"/json/{size}/{variant}", []), k)


def _entry(entries: list[T], k: int | None) -> T | None:
    return entries[k] if k is not None and 0 <= k < len(entries) else None


def _pool() -> _Pool | None:
    directory = os.environ.get(ENV_POOL)
    return _Pool(directory) if directory else None


def _with_veil() -> bool:
    return os.environ.get(ENV_MIDDLEWARE, "") not in ("", "0")


def create_asgi_app() -> Any:
    """The FastAPI app (a factory for ``uvicorn --factory``)."""
    bodies, ndjson, sse = _bodies()
    pool = _pool()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    async def chunks(items: list[bytes]) -> AsyncIterator[bytes]:
        for item in items:
            yield item

    if pool is None:
        @app.get("/json/{size}/{variant}")
        async def payload(size: str, variant: str) -> Response:
            body = bodies.get((size, variant))
            if body is None:
                return PlainTextResponse("no such payload\n", status_code=404)
            return Response(body, media_type=JSON)

        @app.get("/ndjson")
        async def get_ndjson() -> StreamingResponse:
            return StreamingResponse(chunks(ndjson), media_type=NDJSON)

        @app.get("/sse")
        async def get_sse() -> StreamingResponse:
            return StreamingResponse(chunks(sse), media_type=SSE)
    else:
        fresh = pool

        @app.get("/json/{size}/{variant}")
        async def pooled_payload(size: str, variant: str, k: int) -> Response:
            body = fresh.payload(size, variant, k)
            if body is None:
                return PlainTextResponse("no such payload or pool entry\n", status_code=404)
            return Response(body, media_type=JSON)

        def pooled_stream(entries: list[list[bytes]], k: int, media_type: str) -> Response:
            items = _entry(entries, k)
            if items is None:
                return PlainTextResponse("no such pool entry\n", status_code=404)
            return StreamingResponse(chunks(items), media_type=media_type)

        @app.get("/ndjson")
        async def pooled_ndjson(k: int) -> Response:
            return pooled_stream(fresh.ndjson, k, NDJSON)

        @app.get("/sse")
        async def pooled_sse(k: int) -> Response:
            return pooled_stream(fresh.sse, k, SSE)

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type=request.headers.get("content-type", JSON))

    @app.get("/health")
    async def health() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    if _with_veil():
        from veil.middleware import ASGIMiddleware

        app.add_middleware(ASGIMiddleware, requests=True, responses=True)
    return app


def create_wsgi_app() -> WSGIApplication:
    """The Flask app (gunicorn: ``'loadtests.apps:create_wsgi_app()'``)."""
    bodies, ndjson, sse = _bodies()
    pool = _pool()
    app = Flask(__name__)

    def entry_k() -> int | None:
        return flask_request.args.get("k", type=int)

    @app.get("/json/<size>/<variant>")
    def payload(size: str, variant: str) -> FlaskResponse:
        body = bodies.get((size, variant)) if pool is None else pool.payload(size, variant, entry_k())
        if body is None:
            return FlaskResponse("no such payload or pool entry\n", status=404, mimetype="text/plain")
        return FlaskResponse(body, mimetype=JSON)

    @app.post("/echo")
    def echo() -> FlaskResponse:
        return FlaskResponse(flask_request.get_data(), content_type=flask_request.headers.get("content-type", JSON))

    def chunks(items: list[bytes]) -> Iterator[bytes]:
        yield from items

    def stream(fixed: list[bytes], pooled: list[list[bytes]], mimetype: str) -> FlaskResponse:
        items = fixed if pool is None else _entry(pooled, entry_k())
        if items is None:
            return FlaskResponse("no such pool entry\n", status=404, mimetype="text/plain")
        return FlaskResponse(chunks(items), mimetype=mimetype)

    @app.get("/ndjson")
    def get_ndjson() -> FlaskResponse:
        return stream(ndjson, pool.ndjson if pool else [], NDJSON)

    @app.get("/sse")
    def get_sse() -> FlaskResponse:
        return stream(sse, pool.sse if pool else [], SSE)

    @app.get("/health")
    def health() -> FlaskResponse:
        return FlaskResponse("ok\n", mimetype="text/plain")

    if _with_veil():
        from veil.middleware import WSGIMiddleware

        app.wsgi_app = WSGIMiddleware(app.wsgi_app, requests=True, responses=True)  # type: ignore[method-assign]
    return app
