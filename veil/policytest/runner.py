"""Run a policy's cases and describe each mismatch: the case, its file:line, and a diff.

A mismatch message quotes the expected and actual outputs of the case (its own test
data, written by the policy's authors), never the input beyond what the output shows.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

import orjson

from veil.errors import RedactionError
from veil.policytest.cases import Case
from veil.rules.plan import Plan
from veil.rules.plan_types import Finding, Route
from veil.rules.sampling import never_sampled
from veil.rules.source import PolicySource


@dataclass(frozen=True, slots=True)
class Failure:
    """A case whose result is not what it expects; ``where`` is ``file:line:col``."""

    case: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: case '{self.case}': {self.message}"


def run_cases(plan: Plan, src: PolicySource, cases: list[Case]) -> list[Failure]:
    """Every mismatch of ``cases`` under ``plan``, in file order (empty: all pass)."""
    plan = never_sampled(plan)  # a case passes or fails the same on every run, whatever the policy samples
    failures = []
    for case in cases:
        failures.extend(_run(plan, src, case))
    return failures


def _where(src: PolicySource, case: Case, key: str) -> str:
    path = ("cases", case.index, key)
    line, column = src.value_positions.get(path) or src.position_of(path)
    return f"{src.name}:{line}:{column}"


def _run(plan: Plan, src: PolicySource, case: Case) -> list[Failure]:
    ctype = case.content_type or ("application/json" if case.structured else "text/plain")
    body = orjson.dumps(case.input) if case.structured else case.input.encode("utf-8")
    route = Route(case.direction, case.method, case.host, case.path, ctype)
    try:
        result = plan.redact_body(body, ctype, route)
    except RedactionError as exc:
        return [Failure(case.name, _where(src, case, "input"), f"the policy could not process the input: {exc}")]
    failures = []
    if case.expects_output:
        diff = _output_diff(case, result.output)
        if diff:
            failures.append(Failure(case.name, _where(src, case, "output"),
                                    "output differs (- expected, + actual):\n" + diff))
    if case.findings is not None:
        message = _findings_mismatch(case.findings, result.report.findings)
        if message:
            failures.append(Failure(case.name, _where(src, case, "findings"), message))
    return failures


def _output_diff(case: Case, output: bytes) -> str:
    if case.structured:
        try:
            actual: Any = orjson.loads(output)
        except orjson.JSONDecodeError:
            actual = output.decode("utf-8", "replace")
        if actual == case.output:
            return ""
        expected_text, actual_text = _pretty(case.output), _pretty(actual)
    else:
        actual_text = output.decode("utf-8", "replace")
        expected_text = case.output if isinstance(case.output, str) else _pretty(case.output)
        if actual_text == expected_text:
            return ""
    lines = difflib.unified_diff(expected_text.splitlines(), actual_text.splitlines(), "expected", "actual",
                                 lineterm="", n=2)
    return "\n".join(f"    {line}" for line in list(lines)[2:])  # the two file-name lines say nothing here


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _findings_mismatch(expected: tuple[dict[str, str], ...], actual: tuple[Finding, ...]) -> str:
    """Each expected finding must match a distinct actual one on the keys it names, and none may be left over."""
    left = [f.as_dict() for f in actual]
    missing = []
    for want in expected:
        hit = next((i for i, got in enumerate(left) if all(got.get(k) == v for k, v in want.items())), None)
        if hit is None:
            missing.append(want)
        else:
            left.pop(hit)
    if not missing and not left:
        return ""
    parts = ["findings differ:"]
    parts += [f"    - expected, not found: {_brief(w)}" for w in missing]
    parts += [f"    + found, not expected: {_brief({k: str(v) for k, v in got.items() if k in _SHOWN})}"
              for got in left]
    return "\n".join(parts)


_SHOWN = ("type", "path", "rule", "action", "location", "mode")


def _brief(finding: dict[str, str]) -> str:
    return ", ".join(f"{k}={finding[k]}" for k in _SHOWN if k in finding)
