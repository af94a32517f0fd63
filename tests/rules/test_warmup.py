"""``veil.rules.warmup``: synthetic traffic before a plan serves changes nothing a plan answers.

What the warm-up is for (speed) is measured by ``bench/engine.py`` (the cold-start table), not here.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

import veil
from veil import compile_policy
from veil.extproc.server import ExtProcConfig, Worker
from veil.http.policy_watch import PolicyWatcher
from veil.rules.plan import Plan
from veil.rules.profiles import PROFILES, profile_plan
from veil.rules.warmup import _Traffic, warm

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
    cold = profile_plan(name)
    expected = _answers(cold)
    warmed = profile_plan(name)
    result = warm(warmed, seconds=60, max_payloads=40)
    assert result.payloads == 40
    assert _answers(warmed) == expected


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
    assert warm(plan, seconds=60, max_payloads=10).payloads == 0


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


def test_an_extproc_worker_warms_its_plan_before_it_serves(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="veil.extproc.server"):
        Worker(ExtProcConfig(warm_seconds=0.2))
    assert any("plan warmed with" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="veil.extproc.server"):
        Worker(ExtProcConfig())
    assert not any("plan warmed" in r.getMessage() for r in caplog.records)


def test_the_proxy_addon_warms_a_plan_it_loads_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.proxy_addon.flows import addon_context
    from veil.proxy_addon import VeilAddon

    calls: list[tuple[Plan, float]] = []
    monkeypatch.setattr("veil.proxy_addon.addon.warm", lambda plan, seconds: calls.append((plan, seconds)) or
                        warm(plan, seconds, max_payloads=1))
    for warm_ms, expected in ((0, 0), (250, 1)):
        calls.clear()
        addon = VeilAddon()
        with addon_context(addon) as tctx:
            tctx.configure(addon, veil_warm_ms=warm_ms)
            assert [(plan, seconds) for plan, seconds in calls] == [(addon.plan, 0.25)] * expected


def test_veil_proxy_asks_mitmproxy_for_its_warm_up_in_milliseconds() -> None:
    from veil.proxy_addon.run import mitmproxy_options
    from veil.server_settings import ProxySettings

    assert mitmproxy_options(ProxySettings(upstream="http://a:1"))["veil_warm_ms"] == 1000
    assert mitmproxy_options(ProxySettings(upstream="http://a:1", warm_seconds=0.25))["veil_warm_ms"] == 250


def test_extproc_workers_and_the_sidecar_pass_the_warm_up_on() -> None:
    from veil.extproc.sidecar import SidecarConfig, extproc_command
    from veil.extproc.workers import worker_command
    from veil.cli import build_parser

    command = worker_command(ExtProcConfig(listen="127.0.0.1:50051", workers=2, warm_seconds=0.5), 1)
    assert command[command.index("--warm-seconds") + 1] == "0.5"
    command = extproc_command(SidecarConfig(upstream="http://a:1", warm_seconds=2.0), 50051)
    assert command[command.index("--warm-seconds") + 1] == "2.0"
    parser = build_parser()
    assert parser.parse_args(["extproc"]).warm_seconds == 1.0
    assert parser.parse_args(["envoy", "--upstream", "http://a:1", "--warm-seconds", "0"]).warm_seconds == 0.0
    with pytest.raises(SystemExit):
        parser.parse_args(["extproc", "--warm-seconds", "61"])
