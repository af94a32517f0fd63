"""Report: findings made on first read, counted without being made, immutable either way."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from veil import default_plan
from veil.rules.plan_types import Finding, Report

BODY = b'{"email": "a@b.co", "note": "call +44 20 7946 0958", "phone": "x"}'


def test_counts_come_without_making_findings() -> None:
    made: list[int] = []
    finding = Finding("EMAIL", "r", "redact", "body", "$.email")

    def make() -> tuple[Finding, ...]:
        made.append(1)
        return (finding, finding)

    report = Report.deferred([("EMAIL", "r", "redact", "enforce")] * 2, make, True)
    assert report.counts() == {("EMAIL", "r", "redact", "enforce"): 2}
    assert made == []
    assert report.findings == (finding, finding) and report.findings is report.findings
    assert made == [1]


def test_a_deferred_report_equals_the_same_report_made_eagerly() -> None:
    report = default_plan().redact_body(BODY, "application/json").report
    eager = Report(tuple(report.findings), report.changed)
    assert report == eager and hash(report) == hash(eager)
    assert report.counts() == eager.counts()
    assert [f.path for f in report.findings] == ["$.email", "$.note", "$.phone"]
    assert repr(report).startswith("Report(findings=(Finding(type='EMAIL'")


def test_reports_are_immutable() -> None:
    report = default_plan().redact_body(BODY, "application/json").report
    with pytest.raises(FrozenInstanceError):
        report.changed = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del report.changed  # type: ignore[misc]
