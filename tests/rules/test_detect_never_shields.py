"""A detect-mode rule observes: it never stops an enforcing rule from acting on the same value.

Its fields, names and classes would cover a value, and a covered value is decided by its cover
alone, never scanned: beside an enforcing scan, the observation let the value cross as it was.
"""

from __future__ import annotations

import pytest

import veil

ENFORCING_SCAN = "  - {id: mail, scan: {detectors: [EMAIL]}}\n"
BODY = b'{"email": "jane@example.com", "x": {"email": "bob@example.org"}}'
REQUEST = veil.Route("request", "GET", "", "/")


@pytest.mark.parametrize(
    "observer",
    [
        "{id: audit, mode: detect, fields: [{path: $.email, action: redact}]}",
        "{id: audit, mode: detect, classify: {}}",
        "{id: audit, mode: detect, headers: [{name: x-mail, action: redact}]}",
        "{id: audit, mode: detect, fields: [{path: $.x.email, action: keep}]}",
    ],
)
def test_an_observing_rule_beside_an_enforcing_scan_leaves_nothing_unredacted(observer: str) -> None:
    plan = veil.compile_policy("version: 1\nrules:\n" + ENFORCING_SCAN + f"  - {observer}\n")
    out = plan.redact_body(BODY, "application/json").output
    assert b"jane@example.com" not in out and b"bob@example.org" not in out
    [(_, header)] = plan.redact_headers([("x-mail", "jane@example.com")], REQUEST)[0]
    assert header == "[REDACTED:EMAIL]"


def test_alone_an_observing_rule_still_reports_and_changes_nothing() -> None:  # near-miss
    plan = veil.compile_policy("version: 1\nrules:\n  - {id: audit, mode: detect, classify: {}}\n")
    result = plan.redact_body(BODY, "application/json")
    assert result.output == BODY
    assert {f.type for f in result.report.findings} == {"EMAIL"} and not result.report.changed
