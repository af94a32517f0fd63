"""The Redis vault stopped in the middle of a run of requests: never the raw value, counted, recovers.

Requests go through the ASGI middleware (a real adapter) to an echo app, so what
"crosses" is what the app received.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from veil.middleware.asgi import VeilASGIMiddleware
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import Tokenize
from veil.rules.actions.vault_token import Breaker, VaultKeys, VaultTokenize, VaultUnavailable
from veil.observe.prometheus import Metrics
from veil.rules.plan import Plan
from veil.settings import load_policy_data
from veil.vault.resolve import EVERYTHING, Resolver
from tests.vault.conftest import RedisServer, vault_policy

RAW = ["jane{}@example.com".format(i) for i in range(6)]


async def _echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/json")


def _client(plan: Plan, registry: CollectorRegistry) -> httpx.AsyncClient:
    app = Starlette(routes=[StarletteRoute("/echo", _echo, methods=["POST"])])
    wrapped = VeilASGIMiddleware(app, policy=plan, observer=Metrics(registry=registry), responses=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://app")


@pytest.fixture
def redis_up(redis_server: RedisServer) -> Iterator[RedisServer]:
    redis_server.flush()
    yield redis_server
    if redis_server.proc is None:
        redis_server.start()


def _plan(redis_server: RedisServer, mode: str) -> Plan:
    return load_policy_data(vault_policy(
        {"backend": "redis", "url": redis_server.url, "timeout": 0.3, "cache_ttl": 0, "retry_after": 0},
        action={"on_vault_error": mode}))


def _body(i: int) -> bytes:
    return json.dumps({"customer": {"id": f"c{i}", "email": RAW[i]}}).encode()


async def _run(plan: Plan, registry: CollectorRegistry, redis_up: RedisServer) -> tuple[list[int], list[str]]:
    crossed: list[str] = []
    statuses: list[int] = []
    async with _client(plan, registry) as client:
        for i in range(6):
            if i == 2:
                redis_up.stop()
            if i == 4:
                redis_up.start()
            reply = await client.post("/echo", content=_body(i), headers={"content-type": "application/json"})
            statuses.append(reply.status_code)
            crossed.append(reply.text)
    return statuses, crossed


@pytest.mark.parametrize("mode", ["block", "vaultless"])
def test_redis_stopped_mid_run(redis_up: RedisServer, key_env: str, mode: str) -> None:
    plan = _plan(redis_up, mode)
    registry = CollectorRegistry()
    statuses, crossed = asyncio.run(_run(plan, registry, redis_up))
    assert not any(raw in text for raw in RAW for text in crossed)  # never the raw value
    (counters,) = [a.counters for a in plan.vault_actions[:1]]
    if mode == "block":
        assert statuses[:2] == [200, 200] and statuses[2] >= 400 and statuses[3] >= 400 and statuses[4:] == [200, 200]
        assert counters.blocked == 2 and counters.fallback == 0
        errors = registry.get_sample_value(
            "veil_errors_total", {"adapter": "asgi", "direction": "request", "reason": "vault_unavailable"})
        assert errors == 2
    else:
        assert statuses == [200] * 6
        assert counters.fallback == 2 and counters.blocked == 0
        assert all("tok_EMAIL_" in text for text in crossed[2:4])  # vaultless tokens meanwhile
        exposed = REGISTRY.get_sample_value("veil_vault_tokens_total", {"vault": "main", "outcome": "fallback"})
        assert exposed is not None and exposed >= 2  # every live plan's fallbacks, on the default registry
    assert all("vtok_EMAIL_" in text for text in crossed[:2] + crossed[4:])  # recovered: vault tokens again


def test_resolving_during_an_outage_uses_the_cache_then_says_error(redis_up: RedisServer, key_env: str) -> None:
    plan = load_policy_data(vault_policy({"backend": "redis", "url": redis_up.url, "timeout": 0.3}))
    seen = plan.redact_body(_body(0), "application/json").output.decode()
    unseen = plan.redact_body(_body(1), "application/json").output.decode()
    resolver = Resolver(plan)
    assert RAW[0] in resolver.restore(seen, EVERYTHING).text  # now cached
    redis_up.stop()
    assert RAW[0] in resolver.restore(seen, EVERYTHING).text
    down = resolver.restore(unseen, EVERYTHING)
    assert RAW[1] not in down.text and dict(down.outcomes) == {"error": 1}
    redis_up.start()  # a fresh server: its data is gone, the token is unknown, never wrong
    assert dict(resolver.restore(unseen, EVERYTHING).outcomes) == {"unknown": 1}


class _Down:
    """A vault that is down, counting how often it was asked."""

    name = "down"

    def __init__(self) -> None:
        self.calls = 0

    def issue(self, record: object) -> str:
        self.calls += 1
        raise VaultUnavailable("down")


def test_after_a_failure_the_vault_is_not_asked_until_retry_after() -> None:
    now = [0.0]
    vault = _Down()
    action = VaultTokenize(keys=VaultKeys({"k1": bytes(64)}, "k1"), backend=vault, vault="down",  # type: ignore[arg-type]
                           on_vault_error="vaultless", fallback=Tokenize(Keyring({"k1": bytes(64)}, "k1")),
                           breaker=Breaker(2.0, clock=lambda: now[0]))
    outputs = [action.apply(f"user{i}@example.com", "EMAIL") for i in range(5)]
    assert vault.calls == 1 and action.counters.fallback == 5
    assert all(o.startswith("tok_EMAIL_k1_") for o in outputs)
    now[0] = 2.5
    action.apply("late@example.com", "EMAIL")
    assert vault.calls == 2
