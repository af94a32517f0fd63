"""Async adapters ask the vault off their event loop: a slow vault stalls one request, not the app.

Each adapter (ASGI HTTP and WebSocket, the Envoy ext_proc server, the async httpx transport)
redacts one JSON body under a vault plan whose backend (:class:`tests.vault.gate.GateVault`)
answers only once another task of the same loop has run. Redacting on the loop, the vault
times out and the request fails closed; off the loop, the token is issued, with its subject
(the document a :class:`VaultPlan` publishes through a context variable reaches the worker
thread). A vaultless plan is still redacted inline: no thread hop is taken for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio.to_thread
import httpx
import pytest

from veil.http import Options
from veil.middleware import asgi_messages
from veil.middleware.asgi import VeilASGIMiddleware
from veil.rules.plan import Plan
from veil.rules.vault_plan import VaultPlan
from tests.vault.gate import GateVault, gated_plan, vaultless_plan

RAW = "jane@example.com"
SUBJECT = "c7"
BODY = json.dumps({"customer": {"id": SUBJECT, "email": RAW}}).encode()
JSON = "application/json"

Runner = Callable[[Plan], Awaitable[bytes]]
"""Sends BODY through an adapter under a plan; returns what crossed (the request body the app or
upstream received, or the message the app got), or veil's refusal."""


# -- one runner per adapter ----------------------------------------------------------------------


async def through_asgi(plan: Plan) -> bytes:
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    wrapped = VeilASGIMiddleware(app, policy=plan, responses=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://app") as client:
        reply = await client.post("/customers", content=BODY, headers={"content-type": JSON})
    return seen[0] if reply.status_code == 200 and seen else reply.content


async def from_asgi(plan: Plan) -> bytes:
    """The response direction: the app's reply, redacted on its way to the client."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", JSON.encode())]})
        await send({"type": "http.response.body", "body": BODY})

    wrapped = VeilASGIMiddleware(app, policy=plan, requests=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://app") as client:
        return (await client.get("/customers/c7")).content


async def through_asgi_websocket(plan: Plan) -> bytes:
    seen: list[bytes] = []
    closed: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        message = await receive()
        if message["type"] == "websocket.receive":
            seen.append(message["text"].encode())
        await send({"type": "websocket.close", "code": 1000})

    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": BODY.decode()},
                {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close" and message.get("reason"):
            closed.append(message["reason"])

    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"", "headers": []}
    await VeilASGIMiddleware(app, policy=plan)(scope, receive, send)
    return seen[0] if seen else "".join(closed).encode()


async def through_extproc(plan: Plan) -> bytes:
    pytest.importorskip("envoy.service.ext_proc.v3.external_processor_pb2", reason="needs veil[envoy]")
    from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue
    from envoy.service.ext_proc.v3.external_processor_pb2 import HttpBody, HttpHeaders, ProcessingRequest

    from veil.extproc.server import ExternalProcessor

    head = [(":method", "POST"), (":path", "/customers"), (":authority", "api.example.com"),
            ("content-type", JSON), ("content-length", str(len(BODY)))]
    messages = [
        ProcessingRequest(request_headers=HttpHeaders(
            headers=HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in head]))),
        ProcessingRequest(request_body=HttpBody(body=BODY, end_of_stream=True)),
    ]

    async def requests() -> AsyncIterator[Any]:
        for message in messages:
            yield message

    replies = [reply async for reply in ExternalProcessor(plan, Options()).Process(requests(), None)]
    last = replies[-1]
    if last.HasField("immediate_response"):
        return bytes(last.immediate_response.body)
    return bytes(last.request_body.response.body_mutation.body)


async def through_httpx(plan: Plan) -> bytes:
    from veil.integrations.httpx import AsyncRedactingTransport

    seen: list[bytes] = []

    async def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(await request.aread())
        return httpx.Response(200, text="ok")

    transport = AsyncRedactingTransport(policy=plan, transport=httpx.MockTransport(vendor))
    async with httpx.AsyncClient(transport=transport, base_url="https://vendor.example") as client:
        try:
            await client.post("/customers", content=BODY, headers={"content-type": JSON})
        except Exception as exc:  # veil refuses what it cannot redact: nothing was sent
            return repr(exc).encode()
    return seen[0]


async def from_httpx(plan: Plan, content: bytes = BODY, content_type: str = JSON) -> bytes:
    """The response direction: the vendor's reply, redacted (whole, or line by line) before the caller reads it."""
    from veil.integrations.httpx import AsyncRedactingTransport

    async def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"content-type": content_type})

    transport = AsyncRedactingTransport(policy=plan, transport=httpx.MockTransport(vendor), redact_responses=True)
    async with httpx.AsyncClient(transport=transport, base_url="https://vendor.example") as client:
        try:
            async with client.stream("GET", "/customers/c7") as reply:
                return b"".join([chunk async for chunk in reply.aiter_bytes()])
        except Exception as exc:  # a reply veil cannot redact is never handed on; a stream is aborted
            return repr(exc).encode()


RUNNERS = {"asgi": through_asgi, "asgi-response": from_asgi, "asgi-websocket": through_asgi_websocket,
           "extproc": through_extproc, "httpx-async": through_httpx, "httpx-async-reply": from_httpx}


# -- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", RUNNERS)
def test_a_waiting_vault_leaves_the_event_loop_free(adapter: str) -> None:
    """Fails on the loop: the opener cannot run, the vault gives up, the request is refused."""

    async def scenario() -> tuple[bytes, GateVault, VaultPlan]:
        gate = GateVault(asyncio.get_running_loop())
        plan = gated_plan(gate)
        opener = asyncio.create_task(gate.opener())
        crossed = await RUNNERS[adapter](plan)
        await asyncio.wait_for(opener, 5)
        return crossed, gate, plan

    crossed, gate, plan = asyncio.run(scenario())
    assert gate.on_loop_thread == [False], crossed
    assert RAW.encode() not in crossed
    token = gate.issued[0].token
    assert json.loads(crossed)["customer"] == {"id": SUBJECT, "email": token}
    # The subject is read from the document the plan publishes in a context variable: it reached the thread.
    assert gate.issued[0].subject == plan.vault_actions[0].keys.subject_digest(SUBJECT)


OFFLOADERS = {  # what each adapter hops to a worker thread with
    "asgi": (asgi_messages, "to_thread"),
    "asgi-response": (asgi_messages, "to_thread"),
    "asgi-websocket": (asgi_messages, "to_thread"),
    "extproc": (asyncio, "to_thread"),
    "httpx-async": (anyio.to_thread, "run_sync"),
    "httpx-async-reply": (anyio.to_thread, "run_sync"),
}


@pytest.mark.parametrize("vault", [True, False], ids=["vault", "vaultless"])
@pytest.mark.parametrize("adapter", RUNNERS)
def test_only_a_plan_doing_io_takes_the_thread_hop(adapter: str, vault: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    hops: list[str] = []
    module, name = OFFLOADERS[adapter]
    offload = getattr(module, name)

    async def counted(fn: Callable[..., Any], *args: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await offload(fn, *args)

    monkeypatch.setattr(module, name, counted)

    async def scenario() -> bytes:
        if not vault:
            return await RUNNERS[adapter](vaultless_plan())
        gate = GateVault(asyncio.get_running_loop())
        gate.release.set()  # this test counts hops only: the vault answers at once
        return await RUNNERS[adapter](gated_plan(gate))

    crossed = asyncio.run(scenario())
    email = json.loads(crossed)["customer"]["email"]
    assert email.startswith("vtok_EMAIL_" if vault else "tok_EMAIL_")
    assert bool(hops) == vault, hops


# -- streamed replies: each line's redaction is the plan's work too -------------------------------

NDJSON = "application/x-ndjson"
LINES = BODY + b"\n" + json.dumps({"customer": {"email": "ann@example.com"}}).encode() + b"\n"


async def ndjson_from_asgi(plan: Plan) -> bytes:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", NDJSON.encode())]})
        for line in LINES.splitlines(keepends=True):
            await send({"type": "http.response.body", "body": line, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    wrapped = VeilASGIMiddleware(app, policy=plan, requests=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://app") as client:
        try:
            return (await client.get("/feed")).content
        except Exception as exc:  # a stream veil aborts after its head went out
            return repr(exc).encode()


async def ndjson_from_httpx(plan: Plan) -> bytes:
    return await from_httpx(plan, LINES, NDJSON)


@pytest.mark.parametrize("runner", [ndjson_from_asgi, ndjson_from_httpx], ids=["asgi", "httpx-async"])
def test_a_streamed_reply_asks_the_vault_off_the_loop(runner: Runner) -> None:
    async def scenario() -> tuple[bytes, GateVault, VaultPlan]:
        gate = GateVault(asyncio.get_running_loop())
        plan = gated_plan(gate)
        opener = asyncio.create_task(gate.opener())
        crossed = await runner(plan)
        await asyncio.wait_for(opener, 5)
        return crossed, gate, plan

    crossed, gate, plan = asyncio.run(scenario())
    assert gate.on_loop_thread == [False, False], crossed
    emails = [json.loads(line)["customer"]["email"] for line in crossed.splitlines()]
    assert emails == [record.token for record in gate.issued]
    # Each line is its own document: the first names its subject, the second has none.
    assert [record.subject for record in gate.issued] == [plan.vault_actions[0].keys.subject_digest(SUBJECT), ""]
