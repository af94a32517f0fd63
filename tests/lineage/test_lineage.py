"""Lineage (issue 19): the policy digest and revision, /policy on the admin port, the reload log
line and the opt-in ``veil-policy`` response header."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from veil import compile_policy
from veil.errors import PolicyError
from veil.http import Options, with_policy_header
from veil.http.policy_watch import PolicyWatcher
from veil.rules.lineage import policy_digest
from veil.rules.plan import Plan
from veil.rules.profiles import PROFILES, profile_plan
from veil.rules.source import parse_policy_text

POLICY = "version: 1\nrevision: r7\nrules:\n  - id: mail\n    scan: {detectors: [EMAIL]}\n"


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def test_digest_is_the_sha256_of_the_source_text_and_changes_with_one_byte() -> None:
    plan = compile_policy(POLICY, source="p.yaml")
    assert plan.digest == _sha(POLICY) and plan.revision == "r7"
    assert compile_policy(POLICY, source="other.yaml").digest == plan.digest  # the name is not hashed
    near = POLICY.replace("r7", "r8")
    assert compile_policy(near, source="p.yaml").digest == _sha(near) != plan.digest
    summary = plan.summary()
    assert (summary["digest"], summary["revision"]) == (plan.digest, "r7")


def test_parsed_source_takes_the_digest_of_the_text_it_came_from() -> None:
    src = parse_policy_text(POLICY, "p.yaml")
    assert compile_policy(src, source_text=POLICY).digest == _sha(POLICY)


def test_policy_data_without_text_has_a_digest_of_its_content_not_its_key_order() -> None:
    a = {"version": 1, "rules": [{"id": "x", "scan": True}]}
    b = {"rules": [{"scan": True, "id": "x"}], "version": 1}
    c = {"version": 1, "rules": [{"id": "y", "scan": True}]}
    assert compile_policy(a).digest == compile_policy(b).digest != compile_policy(c).digest
    assert compile_policy(a).revision is None


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_builtin_profile_digest_is_that_of_its_yaml(name: str) -> None:
    assert profile_plan(name).digest == policy_digest(PROFILES[name]) == _sha(PROFILES[name])


@pytest.mark.parametrize(("snippet", "error"), [
    ('revision: "2026-12-06.1"\n', None),
    ("revision: ''\n", "p.yaml:2:1: revision: string should have at least 1 character"),
    ('revision: "a\\nb"\n', "p.yaml:2:1: revision: must be one line of text"),
    ("revision: 12\n", "p.yaml:2:1: revision: expected a string, got 12 (int)"),
    ("sample: 0.05\n", None),
    ("sample: 1\n", None),
    ("sample: 0\n", "p.yaml:2:1: sample: input should be greater than 0"),
    ("sample: 1.01\n", "p.yaml:2:1: sample: input should be less than or equal to 1"),
])
def test_top_level_revision_and_sample_are_checked_with_their_position(snippet: str, error: str | None) -> None:
    text = "version: 1\n" + snippet + "rules:\n  - scan: true\n"
    if error is None:
        compile_policy(text, source="p.yaml")
        return
    with pytest.raises(PolicyError) as exc:
        compile_policy(text, source="p.yaml")
    assert str(exc.value).startswith(error)


@pytest.mark.parametrize(("rule", "error"), [
    ("{mode: detect, sample: 0.1, scan: true}", None),
    ("{mode: detect, scan: true}", None),
    ("{sample: 0.1, scan: true}", "p.yaml:3:6: rules[0].sample: sample applies to detect-mode rules only"),
    ("{mode: enforce, sample: 0.1, scan: true}", "p.yaml:3:21: rules[0].sample: sample applies to detect-mode"),
    ("{mode: detect, sample: -0.5, scan: true}", "p.yaml:3:20: rules[0].sample: input should be greater than 0"),
])
def test_rule_sample_needs_detect_mode(rule: str, error: str | None) -> None:
    text = f"version: 1\nrules:\n  - {rule}\n"
    if error is None:
        compile_policy(text, source="p.yaml")
        return
    with pytest.raises(PolicyError) as exc:
        compile_policy(text, source="p.yaml")
    assert str(exc.value).startswith(error), str(exc.value)


# -- the response header --------------------------------------------------------------

@pytest.mark.parametrize(("headers", "expected_tail"), [
    ([("content-type", "application/json")], [("content-type", "application/json")]),
    ([], []),
    # an upstream's own line (any case) is replaced: the header names this veil's policy
    ([("Veil-Policy", "sha256:forged"), ("x-a", "1")], [("x-a", "1")]),
    ([("veil-policy-x", "1")], [("veil-policy-x", "1")]),  # near miss: another header
])
def test_policy_header_is_added_only_when_asked(headers: list[tuple[str, str]],
                                                expected_tail: list[tuple[str, str]]) -> None:
    plan = compile_policy(POLICY)
    assert with_policy_header(plan, Options(), headers) is headers
    assert with_policy_header(plan, Options(policy_header=True), headers) == expected_tail + [
        ("veil-policy", plan.digest)]


# -- /policy on the admin port ---------------------------------------------------------

def _get(port: int, path: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_admin_policy_endpoint_names_digest_revision_source_and_load_time() -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    from veil.observe.admin import AdminServer
    from veil.observe.prometheus import Metrics

    current: list[Plan | None] = [None]
    metrics = Metrics(registry=prometheus_client.CollectorRegistry())
    server = AdminServer("127.0.0.1", 0, metrics, lambda: True, policy=lambda: current[0])
    bare = AdminServer("127.0.0.1", 0, metrics, lambda: True)
    try:
        assert _get(server.port, "/policy")[0] == 503  # nothing loaded yet
        current[0] = compile_policy(POLICY, source="/etc/veil/policy.yaml")
        status, body = _get(server.port, "/policy")
        info = json.loads(body)
        assert status == 200
        assert info["digest"] == _sha(POLICY) and info["revision"] == "r7"
        assert info["source"] == "/etc/veil/policy.yaml" and info["rules"] == 1
        assert info["loaded_at"].endswith("Z") and info["loaded_at"][:2] == "20"
        assert _get(bare.port, "/policy")[0] == 404  # a server not told the plan does not guess
    finally:
        server.stop()
        bare.stop()


# -- the reload log line ------------------------------------------------------------------

def test_reload_logs_the_old_and_the_new_digest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    old = compile_policy(POLICY, source=str(path))
    swapped: list[Plan] = []
    watcher = PolicyWatcher(path, swapped.append, lambda: None, current=lambda: old)
    path.write_text(POLICY.replace("r7", "r8") + "# edited\n")
    os.utime(path, ns=(1, 1))  # a change the fingerprint sees even within one clock tick
    with caplog.at_level(logging.INFO, logger="veil.http.policy_watch"):
        asyncio.run(watcher.check())
    assert len(swapped) == 1
    new = swapped[0]
    line = next(r.getMessage() for r in caplog.records if "reloaded" in r.getMessage())
    assert f"{old.digest} (revision r7) -> {new.digest} (revision r8)" in line
    assert old.digest != new.digest
