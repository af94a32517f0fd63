"""Smoke test of bench/detection.py: it runs, prints its table, and counts what it should."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import veil

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def detection() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("detection")
    finally:
        sys.path.remove(str(BENCH))


def _email_in_json_field(carriers: ModuleType) -> Any:
    doc = {"ticket": {"id": 7, "description": carriers.fill("Customer wrote: {v}", "EMAIL", "jane.roe@example.org", "seeded")}}
    return carriers.finish_json("json/ticket", doc)


def test_quick_run_prints_the_table_and_the_targets(detection: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert detection.main(["--quick", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "all (micro)" in out and "API keys and tokens" in out
    assert "non-PII values unchanged" in out and "streams: splits that leak" in out


def test_a_seeded_email_in_a_json_field_is_counted_removed_and_typed(detection: ModuleType) -> None:
    carriers = importlib.import_module("detection_data_carriers")
    score = detection.evaluate(veil.default_plan(), [_email_in_json_field(carriers)], seed=1)
    row = score.rows["EMAIL"]
    assert (row.labels, row.removed, row.typed, row.tp, row.spurious) == (1, 1, 1, 1, 0)


def test_an_email_a_plan_does_not_redact_counts_as_missed(detection: ModuleType) -> None:
    """The near-miss: a policy with no detectors leaves the address, and the score says so."""
    carriers = importlib.import_module("detection_data_carriers")
    plan = veil.compile_policy("version: 1\nrules:\n  - id: phones\n    scan:\n      detectors: [PHONE]\n      action: redact\n")
    score = detection.evaluate(plan, [_email_in_json_field(carriers)], seed=1)
    row = score.rows["EMAIL"]
    assert (row.labels, row.removed, row.typed) == (1, 0, 0)
