"""The proxy with a vault plan: while one flow waits on the vault, the proxy still serves others.

What runs, in this process, on loopback: mitmproxy's DumpMaster with veil's redaction addon (on
its own thread and event loop, as ``veil proxy`` runs it) in reverse mode in front of a uvicorn
upstream (HTTP routes and a WebSocket echo). The addon's plan tokenizes into a
:class:`tests.vault.held.HeldVault`, which holds the first flow's token until a second request's
response has come back through the same proxy. veil's hooks ask the vault in a worker thread, so
mitmproxy's loop serves the second request meanwhile; asked on the loop, the second request
cannot be served and its client times out (the vault is released in cleanup). Each case puts the
vault's work in another hook: requestheaders, request, responseheaders, response, websocket_message.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import httpx
import pytest
from mitmproxy import options
from mitmproxy.tools.dump import DumpMaster
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from tests.proxy_addon.ws_client import WebSocketClient
from tests.servers import free_port
from tests.threaded_uvicorn import uvicorn_thread
from tests.vault.held import HeldVault, held_plan, while_held
from veil.proxy_addon import VeilAddon

PROXY_THREAD = "mitmproxy-loop"
HEADER = "x-customer-email"
ARRIVED: list[bytes] = []
"""What the upstream received: request bodies and WebSocket messages, as they crossed the proxy."""


def email_of(case: str) -> str:
    """Each case's own value: a value the plan tokenized before would not ask the vault again."""
    return f"{case}@example.com"


def customer_of(case: str) -> bytes:
    return json.dumps({"customer": {"id": "c7", "email": email_of(case)}}).encode()


# -- the upstream --------------------------------------------------------------------------------


async def customers(request: Request) -> Response:
    ARRIVED.append(await request.body())
    return JSONResponse({"ok": True})


async def customer(request: Request) -> Response:
    case = request.path_params["case"]
    return Response(customer_of(case), media_type="application/json")


async def headed(request: Request) -> Response:
    return JSONResponse({"ok": True}, headers={HEADER: email_of(request.path_params["case"])})


async def seen_header(request: Request) -> Response:
    ARRIVED.append(request.headers.get(HEADER, "").encode())
    return JSONResponse({"ok": True})


async def ping(request: Request) -> Response:
    return JSONResponse({"pong": True})


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        ARRIVED.append(message["text"].encode())
        await websocket.send_text('{"ok": true}')


UPSTREAM = Starlette(routes=[
    Route("/customers", customers, methods=["POST"]), Route("/customer/{case}", customer),
    Route("/headed/{case}", headed), Route("/seen-header", seen_header), Route("/ping", ping),
    WebSocketRoute("/ws", echo),
])


# -- the proxy -----------------------------------------------------------------------------------


class Proxy:
    """mitmproxy with veil's addon on a thread of its own, its plan tokenizing into ``vault``."""

    def __init__(self, upstream: str, vault: HeldVault) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.addon = VeilAddon()
        self.plan = held_plan(vault, extra_rules=[{"id": "head", "headers": [
            {"name": HEADER, "entity": "EMAIL", "action": {"type": "tokenize", "key": "tokens", "vault": "main"}}]}])
        self.upstream = upstream
        self.master: Future[DumpMaster] = Future()
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),), name=PROXY_THREAD, daemon=True)

    async def _serve(self) -> None:
        try:
            opts = options.Options()
            master = DumpMaster(opts, with_termlog=False, with_dumper=False)
            master.addons.add(self.addon)
            opts.update(listen_host="127.0.0.1", listen_port=self.port, mode=[f"reverse:{self.upstream}"],
                        connection_strategy="lazy")  # options of the addons just added, as veil proxy sets them
        except Exception as exc:
            self.master.set_exception(exc)
            raise
        self.master.set_result(master)
        try:
            await master.run()
        finally:  # mitmproxy leaves its listening socket to the process's exit: close it here
            await master.addons.get("proxyserver").servers.update([])

    def __enter__(self) -> Proxy:
        self.thread.start()
        master = self.master.result(timeout=10)
        deadline = time.monotonic() + 10
        while not self.addon.serving:
            assert time.monotonic() < deadline, "mitmproxy did not start"
            time.sleep(0.02)
        self.addon.use_plan(self.plan)  # as a hot reload would: the options load the built-in policy
        self.loop = master.event_loop
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.master.result().shutdown)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[str, HeldVault]]:
    vault = HeldVault()
    try:
        with uvicorn_thread(UPSTREAM) as upstream, Proxy(upstream, vault) as running:
            yield running.url, vault
    finally:
        vault.release.set()


# -- the cases -----------------------------------------------------------------------------------


def post_customer(base: str, case: str) -> bytes:
    reply = httpx.post(f"{base}/customers", content=customer_of(case), headers={"content-type": "application/json"},
                       timeout=30)
    assert reply.status_code == 200, reply.content
    return ARRIVED[-1]


def get_customer(base: str, case: str) -> bytes:
    reply = httpx.get(f"{base}/customer/{case}", timeout=30)
    assert reply.status_code == 200, reply.content
    return reply.content


def send_header(base: str, case: str) -> bytes:
    reply = httpx.get(f"{base}/seen-header", headers={HEADER: email_of(case)}, timeout=30)
    assert reply.status_code == 200, reply.content
    return ARRIVED[-1]


def get_header(base: str, case: str) -> bytes:
    reply = httpx.get(f"{base}/headed/{case}", timeout=30)
    assert reply.status_code == 200, reply.content
    return reply.headers[HEADER].encode()


def send_websocket(base: str, case: str) -> bytes:
    with WebSocketClient(base.replace("http://", "ws://") + "/ws", timeout=30) as ws:
        ws.send(customer_of(case).decode())
        assert ws.receive() == '{"ok": true}'
    return ARRIVED[-1]


CASES: dict[str, tuple[Callable[[str, str], bytes], Callable[[bytes], str]]] = {
    # hook: (the first flow, which asks the vault and returns what crossed; where the token is in it)
    "requestheaders": (send_header, bytes.decode),
    "request": (post_customer, lambda crossed: json.loads(crossed)["customer"]["email"]),
    "responseheaders": (get_header, bytes.decode),
    "response": (get_customer, lambda crossed: json.loads(crossed)["customer"]["email"]),
    "websocket_message": (send_websocket, lambda crossed: json.loads(crossed)["customer"]["email"]),
}


@pytest.mark.parametrize("hook", CASES)
def test_a_flow_waiting_on_the_vault_leaves_the_proxy_serving(proxy: tuple[str, HeldVault], hook: str) -> None:
    base, vault = proxy
    first_flow, token_in = CASES[hook]
    # Fails on the loop: the proxy cannot answer the second until the vault is released, which happens only after.
    crossed, second = while_held(vault, lambda: first_flow(base, hook), lambda: httpx.get(f"{base}/ping", timeout=10))
    assert second.status_code == 200 and second.json() == {"pong": True}
    assert email_of(hook).encode() not in crossed
    assert token_in(crossed) == vault.issued[-1].token
    assert vault.threads[-1] != PROXY_THREAD  # asked in a worker thread
