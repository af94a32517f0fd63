"""``veil test POLICY CASES.yaml`` (issue 19): a policy's own cases pass or fail with a diff that names
the case and its file:line:col; a malformed cases file is a usage error (2) that says where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from veil.cli import main

POLICY = """\
version: 1
rules:
  - id: users
    match: {paths: ["/users/**"], direction: response}
    fields:
      - {path: $.email, entity: EMAIL}
  - id: phones
    scan: {detectors: [PHONE]}
"""

PASSING = """\
cases:
  - name: a user's e-mail in a response
    direction: response
    path: /users/1
    input: {email: jane@example.com, plan: pro}
    output: {email: "[REDACTED:EMAIL]", plan: pro}
    findings:
      - {type: EMAIL, path: $.email, rule: users}
  - name: the same body as a request is left alone   # near miss: the rule is for responses
    path: /users/1
    input: {email: jane@example.com}
    output: {email: jane@example.com}
    findings: []
  - name: another route is left alone               # near miss: the rule matches /users/**
    direction: response
    path: /teams/1
    input: {email: jane@example.com}
    findings: []
  - name: a phone in text
    content_type: text/plain
    input: "call +44 20 7946 0958 now"
    output: "call [REDACTED:PHONE] now"
    findings:
      - {type: PHONE}
"""


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, cases: str, policy: str = POLICY) -> tuple[int, str, str]:
    (tmp_path / "policy.yaml").write_text(policy)
    (tmp_path / "cases.yaml").write_text(cases)
    code = main(["test", str(tmp_path / "policy.yaml"), str(tmp_path / "cases.yaml")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_passing_cases_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, tmp_path, PASSING)
    assert (code, err) == (0, "")
    assert out == f"veil test: 4 of 4 cases passed ({tmp_path / 'policy.yaml'})\n"


@pytest.mark.parametrize(("change", "field", "shown"), [
    # the expected output is wrong: a diff of the two, at the output's line
    ("output: {email: \"[REDACTED:EMAIL]\", plan: pro}", "output", ["-  \"plan\": \"free\"", "+  \"plan\": \"pro\""]),
    # an expected finding is not there; one that is was not expected
    ("- {type: EMAIL, path: $.email, rule: users}", "findings",
     ["- expected, not found: type=EMAIL, path=$.email, rule=other",
      "+ found, not expected: type=EMAIL, path=$.email, rule=users, action=redact, location=body, mode=enforce"]),
])
def test_a_mismatch_names_the_case_and_its_line_with_a_diff(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: str, field: str, shown: list[str]
) -> None:
    broken = PASSING.replace(change, change.replace("plan: pro", "plan: free").replace("rule: users", "rule: other"), 1)
    assert broken != PASSING
    code, out, err = _run(capsys, tmp_path, broken)
    assert code == 1
    first = err.splitlines()[0]
    line = _line_of(broken, f"{field}:")
    match = re.fullmatch(rf"FAIL {re.escape(str(tmp_path / 'cases.yaml'))}:(\d+):\d+: case 'a user's e-mail in a "
                         r"response': .*", first)
    assert match and int(match[1]) in (line, line + 1), first  # the value: on the key's line or the next
    for text in shown:
        assert text in err
    assert "veil test: 3 of 4 cases passed" in out
    assert err.count("FAIL ") == 1  # the other cases still pass


@pytest.mark.parametrize(("findings", "passes"), [
    ("[{type: EMAIL}, {type: EMAIL}]", True),
    ("[{type: EMAIL}]", False),                        # near miss: one finding left over
    ("[{type: EMAIL}, {type: EMAIL}, {type: EMAIL}]", False),  # one too many expected
    ("[{type: EMAIL, path: $.a}, {type: EMAIL, path: $.b}]", True),
    ("[{type: EMAIL, path: $.a}, {type: EMAIL, path: $.a}]", False),  # each expected finding takes its own
])
def test_expected_findings_match_one_each_on_the_keys_they_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, findings: str, passes: bool
) -> None:
    policy = "version: 1\nrules:\n  - scan: {detectors: [EMAIL]}\n"
    cases = f"cases:\n  - name: two\n    input: {{a: x@example.com, b: y@example.com}}\n    findings: {findings}\n"
    assert _run(capsys, tmp_path, cases, policy)[0] == (0 if passes else 1)


@pytest.mark.parametrize(("cases", "line", "message"), [
    ("rules: []\n", 1, "expected 'cases:' with a list of cases"),
    ("cases:\n  - name: a\n    input: x\n    outptu: x\n", 4, "cases[0].outptu: unknown field"),
    ("cases:\n  - name: a\n    output: x\n", 2, "cases[0]: missing 'input'"),
    ("cases:\n  - name: a\n    input: x\n", 2, "give 'output', 'findings' or both"),
    ("cases:\n  - name: a\n    input: x\n    direction: both\n    output: x\n", 4, "expected request or response"),
    ("cases:\n  - name: a\n    input: x\n    findings: {type: EMAIL}\n", 4, "expected a list of findings"),
    ("cases:\n  - name: a\n    input: x\n    findings: [{kind: EMAIL}]\n", 4, "findings[0].kind: unknown field"),
    ("cases:\n  - name: a\n    input: x\n    output: x\n  - name: a\n    input: y\n    output: y\n", 5,
     "duplicate case name (first used by cases[0])"),
    ("cases:\n  - name: a\n    input: 3\n    output: x\n", 3, "expected a string (a text body) or a mapping"),
])
def test_a_malformed_cases_file_is_a_usage_error_that_says_where(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cases: str, line: int, message: str
) -> None:
    code, _, err = _run(capsys, tmp_path, cases)
    assert code == 2
    assert err.startswith(f"{tmp_path / 'cases.yaml'}:{line}:"), err
    assert message in err


def test_an_input_the_policy_cannot_process_fails_the_case(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = "cases:\n  - name: bad json\n    content_type: application/json\n    input: '{\"a\": '\n    output: x\n"
    code, _, err = _run(capsys, tmp_path, cases)
    assert code == 1
    assert "cases.yaml:4:12: case 'bad json': the policy could not process the input" in err


def test_a_bad_policy_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert _run(capsys, tmp_path, PASSING, policy="version: 1\nrules: []\n")[0] == 2
