"""``veil.rules.warmup``: synthetic traffic before a plan serves changes nothing a plan answers.

What the warm-up is for (speed) is measured by ``bench/engine.py`` (the cold-start table), not here.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import veil
from veil import compile_policy
from veil.extproc.server import ExtProcConfig, Worker
from veil.http.policy_watch import PolicyWatcher
from veil.http.warming import warm_for_serving
from veil.rules.plan import Plan
from veil.rules.plan_types import Route
from veil.rules.profiles import PROFILES
from veil.rules.warmup import WarmResult, _Traffic, warm

# Inputs whose outputs a warm plan must give exactly as a new one does: detector hits in
# free text and under keys, escapes, non-ASCII text, near-misses, headers and a query.
BODIES = [
    b'{"email": "ana@example.com", "note": "call +44 20 7946 0958 or \\u0061na@example.org\\n", "n": 4111111111111111}',
    b'{"items": [{"card": "4111 1111 1111 1112", "ssn": "000-12-3456", "text": "caf\\u00e9 \\"ok\\" IBAN GB82 WEST 1234 5698 7654 32"}]}',
    '{"message": "Grüße, 配送 ありがとう, ip 10.0.0.5, key sk_live_4eC39HqLyjWDarjtT1zdp7dc"}'.encode(),
]
HEADERS = [("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop"),
           ("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e"), ("cookie", "session=abc; email=ana@example.com")]
QUERY = "email=ana%40example.com&page=2&phone=%2B14155552671"


def _answers(plan: Plan) -> list[object]:
    out: list[object] = [plan.redact_body(body, "application/json").output for body in BODIES]
    out.append(plan.redact_headers(HEADERS)[0])
    out.append(plan.redact_query(QUERY)[0])
    return out


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_warm_plan_answers_as_a_new_one(name: str) -> None:
    cold = compile_policy(PROFILES[name], source=name)
    expected = _answers(cold)
    warmed = compile_policy(PROFILES[name], source=name)
    result = warm(warmed, seconds=60, max_payloads=40)
    assert result == WarmResult(40, result.seconds)
    assert _answers(warmed) == expected


def test_the_warm_up_runs_every_kind_of_payload_through_the_plan() -> None:
    calls: Counter[str] = Counter()

    class Spy(Plan):
        def redact_body(self, body: bytes, content_type: str = "", route: Route | None = None) -> veil.Result:
            calls[content_type.partition(";")[0]] += 1
            return super().redact_body(body, content_type, route)

        def redact_headers(self, headers: Iterable[tuple[str, str]], route: Route | None = None) -> Any:
            calls["headers"] += 1
            return super().redact_headers(headers, route)

        def redact_query(self, query: str, route: Route | None = None) -> tuple[str, Any]:
            calls["query"] += 1
            return super().redact_query(query, route)

    plan = compile_policy(PROFILES["strict"])
    plan.__class__ = Spy
    assert warm(plan, seconds=60, max_payloads=26).payloads == 26
    assert calls == {"application/json": 16, "text/plain": 2, "application/x-ndjson": 2,
                     "application/x-www-form-urlencoded": 2, "headers": 2, "query": 2}


def test_an_error_in_the_warm_up_ends_it_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    plan = compile_policy(PROFILES["strict"])
    seen: list[int] = []

    def broken(*args: object, **kwargs: object) -> object:
        seen.append(1)
        if len(seen) == 3:
            raise RuntimeError("a bug")
        return Plan.redact_body(plan, *args, **kwargs)  # type: ignore[arg-type]

    plan.redact_body = broken  # type: ignore[method-assign]
    result = warm(plan, seconds=60, max_payloads=10)
    assert (result.payloads, result.skipped) == (2, "stopped by RuntimeError: a bug")
    with caplog.at_level(logging.INFO, logger="veil.test"):
        seen.clear()
        warm_for_serving(plan, 5.0, logging.getLogger("veil.test"))  # logs, never raises
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "stopped by RuntimeError: a bug, after 2 payloads; serving it unwarmed" in caplog.records[0].getMessage()


def test_the_warm_up_stops_at_its_count_and_not_at_all_when_off() -> None:
    plan = veil.default_plan()
    assert warm(plan, seconds=60, max_payloads=3).payloads == 3
    assert warm(plan, seconds=0).payloads == 0
    assert warm(plan, seconds=60, max_payloads=0).payloads == 0


def test_a_plan_that_does_io_is_not_warmed() -> None:
    class VaultPlan(Plan):
        does_io = True

        def redact_body(self, *args: object, **kwargs: object) -> veil.Result:  # type: ignore[override]
            raise AssertionError("a vault plan's tokens would be written to the vault")

    base = veil.default_plan()
    plan = VaultPlan.__new__(VaultPlan)
    plan.__dict__.update(base.__dict__)
    result = warm(plan, seconds=60, max_payloads=10)
    assert result.payloads == 0 and "vault" in result.skipped


def test_a_policy_that_refuses_the_traffic_is_still_warmed_to_the_end() -> None:
    # Every synthetic JSON body is over this limit: each refusal is skipped, none stops the warm-up.
    plan = compile_policy("version: 1\nlimits: {max_body_bytes: 64}\nrules:\n  - id: mail\n    scan: {detectors: [EMAIL]}\n")
    assert warm(plan, seconds=60, max_payloads=20).payloads == 20


def test_the_synthetic_traffic_holds_every_value_kind_and_is_the_same_each_time() -> None:
    import random

    first = _Traffic(random.Random(1)).json_body(10_000)
    assert first == _Traffic(random.Random(1)).json_body(10_000)
    traffic = _Traffic(random.Random(2))
    for make in traffic.values:
        value = make()
        assert value and isinstance(value, str)
    # What the detectors find in it: the warm-up reaches the validators, not only the patterns.
    found = {f.type for body in (traffic.json_body(30_000) for _ in range(5))
             for f in veil.default_plan().redact_body(body, "application/json").report.findings}
    assert {"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS"} <= found


def test_a_reload_warms_the_new_plan_before_the_swap(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - id: mail\n    scan: {detectors: [EMAIL]}\n")
    events: list[tuple[str, Plan]] = []
    watcher = PolicyWatcher(path, lambda plan: events.append(("swap", plan)), lambda: None,
                            prepare=lambda plan: events.append(("prepare", plan)))
    path.write_text("version: 1\nrules:\n  - id: ip\n    scan: {detectors: [IP_ADDRESS]}\n")
    os.utime(path, ns=(1, 1))
    asyncio.run(watcher.check())
    assert [e[0] for e in events] == ["prepare", "swap"] and events[0][1] is events[1][1]


def test_an_extproc_worker_warms_its_plan_before_it_serves_and_each_reloaded_one_before_the_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.servers import free_port

    warmed: list[tuple[Plan, float]] = []
    monkeypatch.setattr("veil.extproc.server.warm_for_serving", lambda plan, seconds, log: warmed.append((plan, seconds)))
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - id: mail\n    scan: {detectors: [EMAIL]}\n")
    worker = Worker(ExtProcConfig(listen=f"127.0.0.1:{free_port()}", policy=str(path), warm_seconds=0.5))
    assert warmed == [(worker.plan, 0.5)]

    async def reload() -> None:
        await worker.start()
        try:
            path.write_text("version: 1\nrules:\n  - id: ip\n    scan: {detectors: [IP_ADDRESS]}\n")
            os.utime(path, ns=(1, 1))
            assert worker.watcher is not None
            await worker.watcher.check()
        finally:
            await worker.stop()

    asyncio.run(reload())
    assert len(warmed) == 2 and warmed[1] == (worker.processor.plan, 0.5) and warmed[1][0] is not worker.plan


def test_the_proxy_reloader_warms_a_reloaded_plan_with_the_addon(tmp_path: Path) -> None:
    from veil.proxy_addon import PolicyReloader, VeilAddon

    addon = VeilAddon()
    addon.policy_path = str(tmp_path / "policy.yaml")
    reloader = PolicyReloader(addon)

    async def start() -> PolicyWatcher | None:
        reloader.serving = True
        reloader._restart()
        watcher = reloader.watcher
        reloader.done()
        return watcher

    watcher = asyncio.run(start())
    assert watcher is not None and watcher.prepare == addon.warm


def test_the_proxy_addon_warms_a_plan_it_loads_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.proxy_addon.flows import addon_context
    from veil.proxy_addon import VeilAddon

    calls: list[tuple[Plan, float]] = []
    monkeypatch.setattr("veil.proxy_addon.addon.warm_for_serving", lambda plan, seconds, log: calls.append((plan, seconds)))
    for warm_ms in (0, 250):
        calls.clear()
        addon = VeilAddon()
        with addon_context(addon) as tctx:
            tctx.configure(addon, veil_warm_ms=warm_ms)
            assert calls == [(addon.plan, warm_ms / 1000)]


def test_veil_proxy_asks_mitmproxy_for_its_warm_up_in_milliseconds() -> None:
    from veil.proxy_addon.run import mitmproxy_options
    from veil.server_settings import ProxySettings

    assert mitmproxy_options(ProxySettings(upstream="http://a:1"))["veil_warm_ms"] == 1000
    assert mitmproxy_options(ProxySettings(upstream="http://a:1", warm_seconds=0.25))["veil_warm_ms"] == 250


def test_extproc_workers_and_the_sidecar_pass_the_warm_up_on() -> None:
    from veil.cli import build_parser
    from veil.extproc.sidecar import SidecarConfig, extproc_command
    from veil.extproc.workers import worker_command

    command = worker_command(ExtProcConfig(listen="127.0.0.1:50051", workers=2, warm_seconds=0.5), 1)
    assert command[command.index("--warm-seconds") + 1] == "0.5"
    command = extproc_command(SidecarConfig(upstream="http://a:1", warm_seconds=2.0), 50051)
    assert command[command.index("--warm-seconds") + 1] == "2.0"
    parser = build_parser()
    assert parser.parse_args(["extproc"]).warm_seconds == 1.0
    assert parser.parse_args(["envoy", "--upstream", "http://a:1", "--warm-seconds", "0"]).warm_seconds == 0.0
    for bad in ("31", "-1", "nan", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["extproc", "--warm-seconds", bad])
