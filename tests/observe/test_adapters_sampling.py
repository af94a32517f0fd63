"""Sampling in the in-app adapters (issue 19): ASGI and WSGI hand a sampled body's report to the observer,
so finding records and drift metrics come out of a running app, named by adapter."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import httpx
import pytest

from veil import compile_policy
from veil.observe.records import FindingRecorder, Observers

POLICY = """version: 1
sample: 1
rules:
  - id: users
    match: {direction: response, paths: ["/users/*"]}
    fields: [{path: $.user.email}]
"""
BODY = json.dumps({"user": {"email": "jane.roe@example.com", "ssn": "123-45-6789"}}).encode()


def _asgi(middleware_kwargs: dict[str, Any]) -> bytes:
    from veil.middleware import VeilASGIMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": BODY})

    async def get() -> bytes:
        wrapped = VeilASGIMiddleware(app, **middleware_kwargs)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t") as client:
            return (await client.get("/users/jane.roe@example.com")).content

    return asyncio.run(get())


def _wsgi(middleware_kwargs: dict[str, Any]) -> bytes:
    from werkzeug.test import Client

    from veil.middleware import VeilWSGIMiddleware

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [BODY]

    return Client(VeilWSGIMiddleware(app, **middleware_kwargs)).get("/users/jane.roe@example.com").data


@pytest.mark.parametrize(("adapter", "run"), [("asgi", _asgi), ("wsgi", _wsgi)])
def test_adapter_records_and_counts_a_sampled_response(adapter: str, run: Any) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    from veil.observe.prometheus import Metrics

    registry = prometheus_client.CollectorRegistry()
    out = io.StringIO()
    plan = compile_policy(POLICY, sample_random=lambda: 0.0)
    body = run({"policy": plan, "observer": Observers(Metrics(registry=registry), FindingRecorder(out))})
    assert b"jane.roe" not in body and b"123-45-6789" in body  # the SSN: no rule acts on it
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {(r["adapter"], r["route"], r["path"], r["rule"]) for r in records} == {
        (adapter, "/users/*", "$.user.email", "users"), (adapter, "/users/*", "$.user.ssn", "")}
    assert "jane" not in out.getvalue() and "6789" not in out.getvalue()
    assert registry.get_sample_value("veil_uncovered_findings_total", {"route": "/users/*", "type": "US_SSN"}) == 1
