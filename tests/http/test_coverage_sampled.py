"""The in-app middlewares skip a direction no rule covers (veil.http.coverage); a sampled detect
rule (``sample:`` on a rule, not in ``plan.rules``) covers its routes like any other rule, or the
middleware would never read the bodies it is meant to sample."""

from __future__ import annotations

import pytest

from veil import compile_policy
from veil.http.coverage import Coverage
from veil.rules.plan_types import Route

POLICY = """version: 1
rules:
  - id: replies
    match: {direction: response}
    scan: {detectors: [EMAIL]}
  - id: audit-signups
    mode: detect
    sample: 0.05
    match: {direction: request, paths: ["/signup/**"]}
    scan: {detectors: [PHONE]}
"""


@pytest.mark.parametrize(
    ("direction", "path", "covered"),
    [
        ("request", "/signup/form", True),  # only the sampled rule covers it
        ("request", "/orders/1", False),  # near miss: outside the sampled rule's paths
        ("response", "/signup/form", True),  # the enforcing rule
        ("response", "/orders/1", True),
    ],
)
def test_a_sampled_rule_covers_its_routes(direction: str, path: str, covered: bool) -> None:
    coverage = Coverage(compile_policy(POLICY), direction)
    assert bool(coverage)
    assert coverage.covers(Route(direction, "POST", "app.example", path)) is covered


def test_without_the_sampled_rule_requests_are_not_covered() -> None:
    plan = compile_policy(POLICY.split("  - id: audit-signups")[0])
    assert not Coverage(plan, "request")
