"""``veil test``, ``veil audit`` and the policy side of ``veil discover`` give the same answer on
every run: a policy's ``sample:`` (drawn at random in the adapters) never runs in them. Each tool is
run with a policy that samples every message (rate 1, so a draw would always succeed) and must
answer exactly as it does for the policy as no draw leaves it: its sampled rules and discovery pass
never run."""

from __future__ import annotations

import io

import pytest

from veil import compile_policy
from veil.discover.audit import audit_stream
from veil.discover.samples import read_samples
from veil.discover.survey import discovery_plan, survey
from veil.policytest.cases import parse_cases
from veil.policytest.runner import run_cases

SAMPLED = """version: 1
sample: 1
rules:
  - id: mail
    scan: {detectors: [EMAIL]}
  - id: audit
    mode: detect
    sample: 1
    scan: {detectors: [PHONE]}
"""
UNSAMPLED = "version: 1\nrules:\n  - id: mail\n    scan: {detectors: [EMAIL]}\n"  # no draw succeeds

LINES = b'{"email": "jane@example.com", "phone": "+1 415 555 0100", "card": "4111 1111 1111 1111"}\n' \
        b'plain text with no data\n'

CASES = """cases:
  - name: only the enforcing rule's finding
    path: /users/1
    input: {email: jane@example.com, phone: "+1 415 555 0100", card: "4111 1111 1111 1111"}
    findings:
      - {type: EMAIL, path: $.email, rule: mail}
"""


@pytest.mark.parametrize("policy", [SAMPLED, UNSAMPLED], ids=["sampled", "unsampled"])
def test_veil_test_cases_ignore_sampling(policy: str) -> None:
    src, cases = parse_cases(CASES, "cases.yaml")
    assert run_cases(compile_policy(policy), src, cases) == []


def test_veil_audit_counts_ignore_sampling() -> None:
    sampled = audit_stream(compile_policy(SAMPLED), "log", io.BytesIO(LINES))
    unsampled = audit_stream(compile_policy(UNSAMPLED), "log", io.BytesIO(LINES))
    assert (sampled.lines, dict(sampled.types)) == (unsampled.lines, dict(unsampled.types))
    assert unsampled.types["EMAIL"] == 1  # near miss: the enforcing rule still counts


def test_veil_discover_policy_side_ignores_sampling() -> None:
    samples = list(read_samples("s.ndjson", b'{"direction": "response", "path": "/users/1", "body": '
                                            b'{"email": "jane@example.com", "card": "4111 1111 1111 1111"}}\n'))

    def rows(policy: str) -> dict[tuple[str, str, str], tuple[str, set[str], set[str]]]:
        found = survey(samples, discovery_plan(None), compile_policy(policy))
        return {place: (row.coverage, row.enforced_by, row.detected_by) for place, row in found.rows.items()}

    assert rows(SAMPLED) == rows(UNSAMPLED)
    assert any(cov == "no" for cov, _, _ in rows(UNSAMPLED).values())  # the card stays uncovered
