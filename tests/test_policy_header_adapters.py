"""The opt-in ``veil-policy`` response header (issue 19, lineage) in every adapter: on, each one's
responses carry ``veil-policy: sha256:<16 hex>`` with the same value, the digest of the policy file
(``sha256sum``, first 16 hex digits), whether the body is buffered or streamed; off (the default),
none does, and an upstream's own ``veil-policy`` line never survives next to veil's.

Each adapter is driven in-process through its own entry point (ASGI and WSGI middlewares through
httpx's transports, the proxy addon through mitmproxy's hooks, the ext_proc exchange through its
messages, the httpx transport over a mock upstream): the header is set where each writes its
response head, which these entry points reach without a server."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from veil.settings import load_policy

POLICY = """version: 1
rules:
  - id: mail
    scan: {detectors: [EMAIL]}
"""
BODIES = {  # content type -> body: buffered (JSON) and streamed line by line (NDJSON)
    "application/json": b'{"email": "jane@example.com"}',
    "application/x-ndjson": b'{"email": "jane@example.com"}\n{"n": 1}\n',
}
ADAPTERS = ["asgi", "wsgi", "proxy", "extproc", "httpx"]


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy-header") / "policy.yaml"
    path.write_text(POLICY)
    return path


def _sha256sum(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


Send = Callable[[Path, bool, str, bytes], list[tuple[str, str]]]
"""(policy file, header on, content type, upstream body) -> the response head the client gets."""


def _upstream_head(ctype: str) -> list[tuple[str, str]]:
    return [("content-type", ctype), ("veil-policy", "sha256:0000000000000000")]  # a stale upstream value


def _asgi(policy: Path, on: bool, ctype: str, body: bytes) -> list[tuple[str, str]]:
    from veil.middleware.asgi import ASGIMiddleware

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        head = [(k.encode(), v.encode()) for k, v in _upstream_head(ctype)]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": body})

    async def call() -> list[tuple[str, str]]:
        middleware = ASGIMiddleware(app, policy=str(policy), policy_header=on)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=middleware), base_url="http://t") as c:
            return list((await c.get("/users/1")).headers.multi_items())

    return asyncio.run(call())


def _wsgi(policy: Path, on: bool, ctype: str, body: bytes) -> list[tuple[str, str]]:
    from veil.middleware.wsgi import WSGIMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", _upstream_head(ctype))
        return [body]

    middleware = WSGIMiddleware(app, policy=str(policy), policy_header=on)
    with httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url="http://t") as c:
        return list(c.get("/users/1").headers.multi_items())


def _proxy(policy: Path, on: bool, ctype: str, body: bytes) -> list[tuple[str, str]]:
    from tests.proxy_addon.flows import addon_context, make_flow, send_request, send_response
    from veil.proxy_addon import VeilAddon

    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_policy=str(policy), **({"veil_policy_header": True} if on else {}))
        flow = make_flow(method="GET", path="/users/1")
        send_request(addon, flow)
        send_response(addon, flow, body, ctype, headers=_upstream_head(ctype)[1:])
        assert flow.response is not None
        return [(k, v) for k, v in flow.response.headers.items(multi=True)]


def _extproc(policy: Path, on: bool, ctype: str, body: bytes) -> list[tuple[str, str]]:
    pytest.importorskip("envoy.service.ext_proc.v3.external_processor_pb2", reason="needs veil[envoy]")
    from tests.extproc.test_exchange import REQUEST, headers
    from veil.extproc.exchange import Exchange
    from veil.http import Options

    exchange = Exchange(load_policy(policy), Options(policy_header=on))
    exchange.handle(headers("request", REQUEST, end=True))
    received = [(":status", "200"), *_upstream_head(ctype)]
    reply = exchange.handle(headers("response", received))
    mutation = reply.response_headers.response.header_mutation
    removed = set(mutation.remove_headers)
    sets = [(h.header.key, h.header.raw_value.decode()) for h in mutation.set_headers]
    changed = {k for k, _ in sets}
    kept = [(k, v) for k, v in received if k not in removed and k not in changed and not k.startswith(":")]
    return kept + sets


def _httpx(policy: Path, on: bool, ctype: str, body: bytes) -> list[tuple[str, str]]:
    pytest.importorskip("httpx")
    from veil.integrations.httpx import RedactingTransport

    upstream = httpx.MockTransport(lambda request: httpx.Response(200, headers=_upstream_head(ctype), content=body))
    transport = RedactingTransport(str(policy), transport=upstream, redact_responses=True, policy_header=on)
    with httpx.Client(transport=transport) as c:
        return list(c.get("http://vendor.example/users/1").headers.multi_items())


SENDERS: dict[str, Send] = {"asgi": _asgi, "wsgi": _wsgi, "proxy": _proxy, "extproc": _extproc, "httpx": _httpx}


def _policy_lines(head: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in head if k.lower() == "veil-policy"]


@pytest.mark.parametrize("ctype", list(BODIES))
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_on_every_adapter_names_the_policy_file_digest(policy_file: Path, adapter: str, ctype: str) -> None:
    head = SENDERS[adapter](policy_file, True, ctype, BODIES[ctype])
    assert _policy_lines(head) == [_sha256sum(policy_file)]  # one line, veil's: the upstream's is replaced


@pytest.mark.parametrize("ctype", list(BODIES))
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_off_by_default_no_adapter_adds_it(policy_file: Path, adapter: str, ctype: str) -> None:
    head = SENDERS[adapter](policy_file, False, ctype, BODIES[ctype])
    assert _sha256sum(policy_file) not in _policy_lines(head)  # near miss: the upstream's own line is its business
