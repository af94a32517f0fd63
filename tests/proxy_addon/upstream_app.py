"""The upstream behind ``veil proxy`` in the end-to-end tests: ``uvicorn tests.proxy_addon.upstream_app:app``.

Every request it receives is appended, as one JSON line, to the file named by
``$UPSTREAM_LOG`` before it is answered: method, path, raw query, headers and
body. The tests read that file to see exactly what arrived upstream, which the
proxy's response redaction cannot touch. The answers carry personal data so
that the tests can check what the proxy lets back through.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROFILE = {
    "id": 42,
    "plan": "gold",
    "customer": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+44 20 7946 0958",
                 "card_number": "4111 1111 1111 1111"},
    "note": "reach me at jane@example.com or +44 20 7946 0958",
}
SESSION = "s3ss10n-c00k1e-value"
SSE_EVENTS = 5


class RecordRequests:
    """ASGI middleware: log each HTTP request to ``$UPSTREAM_LOG``, then hand the app the same body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        record = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("utf-8", "replace"),
        }
        # Written before the app answers, so a client that has its reply finds the record.
        with open(os.environ["UPSTREAM_LOG"], "a", encoding="utf-8") as log:  # noqa: ASYNC230
            log.write(json.dumps(record) + "\n")

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type=request.headers.get("content-type", "application/octet-stream"))


async def profile(request: Request) -> Response:
    return JSONResponse(PROFILE)


async def gzipped(request: Request) -> Response:
    body = gzip.compress(json.dumps(PROFILE).encode())
    return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})


async def sse(request: Request) -> Response:
    """Events a fifth of a second apart, each stamped with this process's ``time.monotonic()``.

    Each event is written in two pieces 50 ms apart, cut inside the e-mail, so the proxy
    gets a chunk that ends mid-line (it must send nothing for it, and redact the joined line).
    """

    async def events() -> AsyncIterator[bytes]:
        for n in range(SSE_EVENTS):
            if n:
                await asyncio.sleep(0.2)
            data = {"n": n, "email": "jane@example.com", "produced_at": time.monotonic()}
            event = f"data: {json.dumps(data)}\n\n".encode()
            cut = event.index(b"@example.com")
            yield event[:cut]
            await asyncio.sleep(0.05)
            yield event[cut:]

    return StreamingResponse(events(), media_type="text/event-stream")


async def bad_json(request: Request) -> Response:
    return Response(b'{"email": "jane@example.com", ', media_type="application/json")


def _answer(prompt: str) -> str:
    return "I will write to " + prompt.split()[-1]


async def vendor_chat(request: Request) -> Response:
    prompt = (await request.json())["prompt"]
    return JSONResponse({"answer": _answer(prompt)})


async def vendor_chat_stream(request: Request) -> Response:
    """An OpenAI-style stream: the answer in 4-character ``choices[0].delta.content`` deltas."""
    text = _answer((await request.json())["prompt"])

    async def events() -> AsyncIterator[bytes]:
        for i in range(0, len(text), 4):
            chunk = {"choices": [{"index": 0, "delta": {"content": text[i : i + 4]}}]}
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def set_cookie(request: Request) -> Response:
    response = JSONResponse({"ok": True})
    response.set_cookie("session", SESSION, path="/", httponly=True)
    return response


app = RecordRequests(Starlette(routes=[
    Route("/health", health),
    Route("/echo", echo, methods=["POST"]),
    Route("/profile", profile),
    Route("/gzip", gzipped),
    Route("/sse", sse),
    Route("/bad-json", bad_json),
    Route("/vendor/chat", vendor_chat, methods=["POST"]),
    Route("/vendor/chat/stream", vendor_chat_stream, methods=["POST"]),
    Route("/set-cookie", set_cookie),
]))
