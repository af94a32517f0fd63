"""``veil check``'s summary counts what the policy uses, in words that agree with the count (issue #16).

It said "1 rules, 18 detectors" for one rule that names 3 detectors: the second number was the
catalog of every detector, not what the rules scan with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_cli import PolicyFile, policy_file, veil

__all__ = ["policy_file"]  # the fixture, imported for use here

AVAILABLE = r"\(of \d+ available\)"


@pytest.mark.parametrize(
    ("rules", "headline"),
    [
        # the case: one rule naming three detectors
        ("  - scan: {detectors: [EMAIL, PHONE, CREDIT_CARD]}\n", "1 rule, 3 detectors in use"),
        # near miss: one detector is singular
        ("  - scan: {detectors: [EMAIL]}\n", "1 rule, 1 detector in use"),
        # no scan at all: nothing in use, though the catalog is full
        ("  - headers: [{name: authorization}]\n", "1 rule, 0 detectors in use"),
        # two rules naming overlapping detectors count each detector once
        ("  - scan: {detectors: [EMAIL, PHONE]}\n  - scan: {detectors: [PHONE, IBAN]}\n", "2 rules, 3 detectors in use"),
    ],
)
def test_check_headline_counts_rules_and_detectors_in_use(policy_file: PolicyFile, rules: str, headline: str) -> None:
    path = policy_file("version: 1\nrules:\n" + rules)
    proc = veil("check", path)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.decode().splitlines()[0]
    assert re.fullmatch(rf"{re.escape(str(path))}: OK, {re.escape(headline)} {AVAILABLE}", first), first


def test_check_scan_true_uses_every_detector_the_catalog_has(policy_file: PolicyFile) -> None:
    """``scan: true`` scans with the whole catalog: in use equals available."""
    proc = veil("check", policy_file("version: 1\nrules:\n  - scan: true\n"))
    match = re.search(r"OK, 1 rule, (\d+) detectors in use \(of (\d+) available\)", proc.stdout.decode())
    assert match is not None and match[1] == match[2] and int(match[1]) > 1


@pytest.mark.parametrize(("detectors", "target"), [("[EMAIL]", "scan:1 detector"), ("[EMAIL, PHONE]", "scan:2 detectors")])
def test_check_rule_line_agrees_in_number(policy_file: PolicyFile, detectors: str, target: str) -> None:
    proc = veil("check", policy_file(f"version: 1\nrules:\n  - id: r\n    scan: {{detectors: {detectors}}}\n"))
    assert f"  r [enforce, both]: {target}\n" in proc.stdout.decode()


def test_check_builtin_profile_counts_its_rules(tmp_path: Path) -> None:
    proc = veil("check", "builtin:logs", cwd=tmp_path)
    assert re.match(rf"builtin:logs: OK, 1 rule, \d+ detectors in use {AVAILABLE}\n", proc.stdout.decode())
