"""The proxy end to end with sampling (issue 19): the admin addon's veil_records file, the drift
metrics and /policy, through the three addons as ``veil proxy`` loads them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

pytest.importorskip("mitmproxy")

from tests.proxy_addon.flows import addon_context, make_flow, send_request, send_response  # noqa: E402
from tests.servers import free_port  # noqa: E402
from veil.proxy_addon import make_addons  # noqa: E402

POLICY = """version: 1
revision: proxy-r1
sample: 1
rules:
  - id: users
    match: {direction: response, paths: ["/users/*"]}
    fields: [{path: $.user.email}]
"""


def test_proxy_writes_records_counts_drift_and_names_its_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    records = tmp_path / "records.ndjson"
    addon, admin_addon, reloader = make_addons()
    port = free_port()
    with addon_context(addon, admin_addon, reloader) as tctx:
        tctx.configure(addon, veil_policy=str(policy), veil_metrics_port=port, veil_records=str(records))
        try:
            flow = make_flow(method="GET", path="/users/jane.roe@example.com")
            send_request(addon, flow)
            body = json.dumps({"user": {"email": "jane.roe@example.com", "phone": "+1 415 555 0100"}}).encode()
            out = send_response(addon, flow, body, "application/json")
            assert b"jane.roe" not in out and b"555 0100" in out  # the phone: uncovered, sent as it is
            admin = f"http://127.0.0.1:{port}"
            metrics = httpx.get(admin + "/metrics", timeout=5).text
            info = httpx.get(admin + "/policy", timeout=5).json()
        finally:
            for each in (addon, admin_addon, reloader):
                each.done()  # type: ignore[attr-defined]
    assert 'veil_uncovered_findings_total{route="/users/*",type="PHONE"} 1.0' in metrics
    assert 'veil_sampled_findings_total{acted="yes",route="/users/*"} 1.0' in metrics
    assert info["revision"] == "proxy-r1" and info["source"] == str(policy)
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert {(r["path"], r["rule"], r["adapter"], r["route"]) for r in lines} == {
        ("$.user.email", "users", "proxy", "/users/*"), ("$.user.phone", "", "proxy", "/users/*")}
    assert {r["policy"] for r in lines} == {info["digest"]}
    assert "jane" not in records.read_text() and "0100" not in records.read_text()
    assert info["digest"].startswith("sha256:") and len(info["digest"]) == len("sha256:") + 16
