"""The case app as a Starlette app: ``upstream`` bare (behind the proxy and the httpx transport), ``app``
behind veil's ASGIMiddleware (``$VEIL_POLICY``). Served by uvicorn in the cross-adapter test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.cross_adapter.recorder import PAUSE, record, response_for
from veil.middleware.asgi import ASGIMiddleware

METHODS = ["GET", "POST", "PUT"]


async def answer(request: Request) -> Response:
    scope = request.scope
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    record(scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers, await request.body())
    case = response_for(scope["path"])
    if case is None:
        return PlainTextResponse("ok")
    if len(case.chunks) == 1:
        response = Response(case.chunks[0], status_code=case.status)
    else:

        async def chunks() -> AsyncIterator[bytes]:
            for n, chunk in enumerate(case.chunks):
                if n:
                    await asyncio.sleep(PAUSE)
                yield chunk

        response = StreamingResponse(chunks(), status_code=case.status)
    # Raw pairs, so a repeated header (two Set-Cookie) stays two.
    response.raw_headers = [(k, v) for k, v in response.raw_headers if k != b"content-type"] + [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in case.headers
    ]
    return response


upstream = Starlette(routes=[Route("/{path:path}", answer, methods=METHODS)])
app = ASGIMiddleware(upstream)
