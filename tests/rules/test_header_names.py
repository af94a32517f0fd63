"""A header's NAME can carry payload (review, issue #15): such a header is dropped, and reported
without its name."""

from __future__ import annotations

import pytest

from veil import compile_policy, default_plan

GITHUB_TOKEN = "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"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("X-User-jane@example.com", "EMAIL"), (f"X-{GITHUB_TOKEN}", "API_KEY"), ("X-Contact.jane.roe@example.org", "EMAIL")],
)
def test_a_header_whose_name_holds_a_finding_is_dropped(name: str, kind: str) -> None:
    headers, report = default_plan().redact_headers([("Accept", "*/*"), (name, "1"), ("X-Trace", "t1")])
    assert headers == [("Accept", "*/*"), ("X-Trace", "t1")]
    assert [(f.type, f.location, f.path) for f in report.findings] == [(kind, "header", "<name>")]
    assert report.changed


@pytest.mark.parametrize("name", ["Accept", "X-Request-Id", "X_Trace_Id", "x-amz-date", "Sec-CH-UA-Platform"])
def test_ordinary_header_names_are_kept(name: str) -> None:
    headers, report = default_plan().redact_headers([(name, "v")])
    assert headers == [(name, "v")] and not report.findings


def test_in_detect_mode_the_header_is_reported_and_kept() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: true\n")
    headers, report = plan.redact_headers([("X-User-jane@example.com", "1")])
    assert headers == [("X-User-jane@example.com", "1")]
    assert [(f.type, f.path, f.mode) for f in report.findings] == [("EMAIL", "<name>", "detect")]
