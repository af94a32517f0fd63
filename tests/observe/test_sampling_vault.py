"""A vault policy that samples (issue 19): the plan keeps its vault behaviour and samples as any other."""

from __future__ import annotations

import json
from pathlib import Path

from tests.vault.conftest import vault_policy
from veil import Route
from veil.rules.sampling import SampledReport, SampledVaultPlan
from veil.rules.vault_plan import VaultPlan
from veil.settings import load_policy_data


def test_a_sampled_vault_plan_tokenizes_into_its_vault_and_reports_uncovered_data(tmp_path: Path) -> None:
    data = {**vault_policy({"backend": "sqlite", "path": str(tmp_path / "v.db")}), "sample": 1}
    plan = load_policy_data(data)
    assert isinstance(plan, SampledVaultPlan) and isinstance(plan, VaultPlan)
    body = json.dumps({"customer": {"id": "c1", "email": "jane@example.com", "note": "ssn 123-45-6789"}}).encode()
    result = plan.redact_body(body, "application/json", Route("response"))
    out = json.loads(result.output)
    assert out["customer"]["email"].startswith("vtok_EMAIL_")  # the vault rule acted
    assert type(result.report) is SampledReport
    uncovered = {(f.path, f.type) for f in result.report.findings if f.rule == ""}
    assert uncovered == {("$.customer.note", "US_SSN")}
