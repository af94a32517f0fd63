"""deploy/prometheus/alerts.yaml and deploy/grafana/veil-dashboard.json (issue 19) work with real tools.

Always: every alert has a unit test that fires and one that stays quiet, and every metric the
dashboard queries is one veil defines. With ``promtool`` on PATH (Debian's ``prometheus`` package,
which .ci/run installs): ``promtool check rules`` and ``promtool test rules``. With ``prometheus``
on PATH: a real Prometheus scrapes a running ``veil proxy``, ``veil envoy`` (Envoy with veil's
ext_proc) and ``veil serve detokenize`` (issue 18's service, on examples/vault/) under a short load,
and every dashboard panel's PromQL returns data from it. This module installs nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
import yaml

from loadtests.processes import RunError, wait_ready
from tests.proxy_addon.test_proxy_process import (
    Upstream,
    eventually,
    run_proxy,
    run_upstream,
    write_policy,
)
from tests.servers import ROOT, free_port, running, serve
from tests.vault.conftest import KEY_TEXT

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "veil-dashboard.json"
ALERTS = yaml.safe_load((PROMETHEUS_DIR / "alerts.yaml").read_text())
ALERT_TESTS = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yaml").read_text())




def _panels() -> list[dict[str, Any]]:
    return list(json.loads(DASHBOARD.read_text())["panels"])


def _queries(panel: dict[str, Any]) -> list[str]:
    """The panel's PromQL with Grafana's variables as Prometheus reads them."""
    return [t["expr"].replace("$__rate_interval", "1m").replace("$__range", "5m") for t in panel["targets"]]


def _metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\bveil_[a-z_]+", expr))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def _defined_metrics() -> set[str]:
    """Every metric family veil's code defines: the adapters' Metrics, and the vault's in its source."""
    import prometheus_client as prom

    from veil.observe.prometheus import Metrics

    registry = prom.CollectorRegistry()
    Metrics(registry=registry)
    names = {family.name for family in registry.collect()}
    names |= {n + "_total" for n in names if not n.endswith("_seconds")}  # counters are exposed as NAME_total
    vault = (ROOT / "veil" / "vault" / "metrics.py").read_text()
    return names | set(re.findall(r'"(veil_[a-z_]+)"', vault))


def test_every_alert_has_a_unit_test_that_fires_and_one_that_stays_quiet() -> None:
    alerts = {rule["alert"] for group in ALERTS["groups"] for rule in group["rules"]}
    cases = [case for test in ALERT_TESTS["tests"] for case in test.get("alert_rule_test", [])]
    firing = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    assert alerts == firing == quiet
    assert alerts >= {"VeilErrorRateHigh", "VeilFailClosedSpike", "VeilLatencyBudgetBreached", "VeilUncoveredFindings",
                      "VeilPolicyReloadFailed", "VeilTokenResolveErrors"}


def test_the_dashboard_and_alerts_query_only_metrics_veil_defines() -> None:
    defined = _defined_metrics()
    assert {"veil_bodies_total", "veil_processing_seconds", "veil_token_resolve_total",
            "veil_uncovered_findings_total"} <= defined  # the probe works
    for panel in _panels():
        for expr in _queries(panel):
            assert _metric_names(expr) <= defined, (panel["title"], expr)
    for group in ALERTS["groups"]:
        for rule in group["rules"]:
            assert _metric_names(rule["expr"]) <= defined, rule["alert"]


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not on PATH (apt-get install prometheus; .ci/run does)")
    return found


@pytest.mark.parametrize("command", [["check", "rules", "alerts.yaml"], ["test", "rules", "alerts_test.yaml"]])
def test_promtool_accepts_the_rules_and_their_unit_tests_pass(command: list[str]) -> None:
    done = subprocess.run([_promtool(), *command], cwd=PROMETHEUS_DIR, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- a real Prometheus scraping veil ----------------------------------------------------------------

POLICY = ("version: 1\nsample: 1\nrules:\n  - id: pii\n    match: {paths: [/echo, /profile]}\n"
          "    scan: {detectors: [EMAIL]}\n")  # sample: the discovery pass finds the phones, left uncovered
EDITED_POLICY = POLICY.replace("[EMAIL]", "[EMAIL, IBAN]")
INVALID_POLICY = "version: 1\nrules:\n  - fields: [{path: '$..['}]\n"
VAULT_POLICY, VAULT_CLIENTS = "examples/vault/policy.yaml", "examples/vault/clients.yaml"
SUPPORT_KEY = "support-key-0123456789"


@dataclass(frozen=True)
class Stack:
    prometheus: str
    targets: dict[str, str]  # job -> admin URL


def _prometheus_config(targets: dict[str, str]) -> str:
    jobs = [{"job_name": job, "static_configs": [{"targets": [url.removeprefix("http://")]}]}
            for job, url in targets.items()]
    return yaml.safe_dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": jobs})


def _load(base_urls: list[str], upstream: Upstream, seconds: float = 4.0) -> int:
    """Bodies with personal data, and a few veil must refuse, through every front for ``seconds``."""
    sent = 0
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=10, trust_env=False) as client:
        while time.monotonic() < deadline:
            for base in base_urls:
                client.post(f"{base}/echo", json={"email": "jane@example.com", "note": "call +44 20 7946 0958"})
                client.get(f"{base}/profile")
                client.post(f"{base}/echo", content=b'{"email": ', headers={"content-type": "application/json"})
                sent += 3
            time.sleep(0.05)
    return sent


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus is not on PATH (apt-get install prometheus; .ci/run does)")
    directory = tmp_path_factory.mktemp("prometheus")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    envoy_port, envoy_admin, service_port = free_port(), free_port(), free_port()
    vault_env = {"VEIL_TOKEN_KEY": KEY_TEXT, "VEIL_VAULT_PATH": str(directory / "vault.db"),
                 "VEIL_CLIENT_SUPPORT_KEY": SUPPORT_KEY, "VEIL_CLIENT_ANALYTICS_KEY": "analytics-key-0123456789"}
    with run_upstream(directory) as upstream, \
            run_proxy(directory, "--upstream", upstream.url, "--policy", str(policy)) as proxy, \
            serve(["veil.cli", "envoy", "--upstream", upstream.url, "--listen", f"127.0.0.1:{envoy_port}",
                   "--policy", str(policy), "--metrics-port", str(envoy_admin)], port=envoy_port,
                  ready="/health", log=directory / "envoy.log", timeout=60,
                  probe=lambda: httpx.get(f"http://127.0.0.1:{envoy_admin}/readyz", timeout=1).status_code == 200
                  ) as envoy, \
            serve(["veil.cli", "serve", "detokenize", "--policy", VAULT_POLICY, "--clients", VAULT_CLIENTS,
                   "--listen", f"127.0.0.1:{service_port}", "--audit-log", str(directory / "audit.jsonl")],
                  port=service_port, ready="/healthz", log=directory / "service.log", env=vault_env) as service:
        targets = {"veil-proxy": proxy.admin, "veil-envoy": f"http://127.0.0.1:{envoy_admin}",
                   "veil-detokenize": service}
        (directory / "prometheus.yml").write_text(_prometheus_config(targets))
        port = free_port()
        cmd = [prometheus, f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'tsdb'}",
               f"--web.listen-address=127.0.0.1:{port}"]
        with running("prometheus", cmd, env={}, log=directory / "prometheus.log", cwd=directory) as server:
            url = f"http://127.0.0.1:{port}"
            try:
                wait_ready(server, f"{url}/-/ready", timeout=60)
            except RunError as exc:
                pytest.fail(str(exc))
            _load([proxy.url, envoy], upstream)
            _resolve_tokens(service, {**os.environ, **vault_env})
            # A valid edit, then one that does not compile: veil_policy_reloads_total{outcome=ok|error}.
            for text, outcome in ((EDITED_POLICY, "ok"), (INVALID_POLICY, "error")):
                write_policy(policy, text)
                sample = f'veil_policy_reloads_total{{outcome="{outcome}"}}'
                eventually(partial(_serves, f"{proxy.admin}/metrics", sample), f"a reload with outcome {outcome}")
            _load([proxy.url, envoy], upstream, seconds=2.0)
            yield Stack(url, targets)


def _resolve_tokens(service: str, env: dict[str, str]) -> None:
    """Vault tokens made by ``veil apply`` (examples/vault/), resolved by the service a few times."""
    done = subprocess.run([sys.executable, "-m", "veil", "apply", "--policy", VAULT_POLICY, "examples/vault/body.json"],
                          env=env, cwd=ROOT, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for _ in range(5):
        reply = httpx.post(f"{service}/v1/detokenize", content=done.stdout, timeout=10, trust_env=False,
                           headers={"content-type": "application/json", "authorization": f"Bearer {SUPPORT_KEY}"})
        assert reply.status_code == 200


def _serves(url: str, text: str) -> bool:
    return text in httpx.get(url, timeout=5, trust_env=False).text


def _query(stack: Stack, expr: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{stack.prometheus}/api/v1/query", params={"query": expr}, timeout=10, trust_env=False)
    assert r.status_code == 200, (expr, r.text)
    return list(r.json()["data"]["result"])


def test_prometheus_scrapes_every_veil_process(stack: Stack) -> None:
    eventually(lambda: {s["metric"]["job"] for s in _query(stack, "up == 1")} == set(stack.targets), "every target up")
    adapters = {s["metric"]["adapter"] for s in _query(stack, "sum by (adapter) (veil_bodies_total)")}
    assert adapters >= {"proxy", "extproc"}
    assert _query(stack, 'sum(veil_token_resolve_total{outcome="ok"}) > 0')


@pytest.mark.parametrize("panel", _panels(), ids=[p["title"] for p in _panels()])
def test_every_dashboard_panel_returns_data(stack: Stack, panel: dict[str, Any]) -> None:
    for expr in _queries(panel):
        eventually(partial(_query, stack, expr), f"panel {panel['title']!r}: {expr} returns data")
