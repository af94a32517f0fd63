"""Sampled detect mode (issue 19): the sampled fraction, output unchanged by sampling, finding
records that hold no value and that ``veil discover`` reads, drift and coverage metrics."""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from veil import Route, compile_policy
from veil.discover.samples import FindingRecord, read_samples
from veil.discover.survey import discovery_plan, survey
from veil.observe.records import FindingRecorder, Observers
from veil.rules.plan import Plan
from veil.rules.plan_types import Report
from veil.rules.sampling import ANY_ROUTE, SampledFinding, SampledReport, never_sampled

USERS = Route("response", "GET", "api.example", "/users/42")

POLICY = """version: 1
revision: r3
sample: {rate}
rules:
  - id: users
    match: {{paths: ["/users/*", "/people/**"]}}
    fields: [{{path: $.user.email}}]
    scan: {{detectors: [CREDIT_CARD]}}
  - id: ids
    fields: [{{path: $.user.id, action: keep}}]
  - id: audit
    mode: detect
    sample: {audit}
    scan: {{detectors: [PHONE]}}
"""


def _plan(rate: float = 1, audit: float = 1, seed: int = 7) -> Plan:
    return compile_policy(POLICY.format(rate=rate, audit=audit), source="p.yaml",
                          sample_random=random.Random(seed).random)


def _body(n: int) -> bytes:
    return json.dumps({"user": {"email": f"user{n}@example.com", "id": f"u{n}", "note": "call +1 415 555 0100"},
                       "contact": {"email": f"other{n}@example.org"}}).encode()


def _without_sample(policy: str) -> str:
    return "".join(line for line in policy.splitlines(keepends=True) if "sample:" not in line)


# -- the sampled fraction ---------------------------------------------------------------

def _binomial_bounds(n: int, p: float, sigmas: float = 5.0) -> tuple[float, float]:
    sd = math.sqrt(n * p * (1 - p))
    return n * p - sigmas * sd, n * p + sigmas * sd


@pytest.mark.parametrize(("rate", "audit"), [(0.05, 0.2), (0.5, 0.01)])
def test_sampled_fraction_is_within_binomial_bounds(rate: float, audit: float) -> None:
    n = 3000
    plan = _plan(rate, audit, seed=1234)
    policy_drawn = audit_drawn = 0
    for i in range(n):
        report = plan.redact_body(_body(i), "application/json", USERS).report
        if type(report) is SampledReport:
            found = report.findings
            policy_drawn += any(isinstance(f, SampledFinding) and f.sampled_by == "policy" for f in found)
            audit_drawn += any(f.rule == "audit" for f in found)
    for drawn, p in ((policy_drawn, rate), (audit_drawn, audit)):
        low, high = _binomial_bounds(n, p)
        assert low <= drawn <= high, (drawn, p)


def test_draws_follow_the_injected_random_source() -> None:
    runs = []
    for _ in range(2):
        plan = _plan(0.3, 0.3, seed=5)
        runs.append([type(plan.redact_body(_body(i), "application/json", USERS).report) for i in range(50)])
    assert runs[0] == runs[1] and SampledReport in runs[0] and Report in runs[0]


class _Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0  # always drawn


def test_a_multipart_body_is_one_draw_not_one_per_part() -> None:
    counting = _Counting()
    plan = compile_policy("version: 1\nsample: 0.5\nrules: [{scan: true}]\n", sample_random=counting)
    body = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nmail jane%d@example.com\r\n' % (i, i)
        for i in range(3)) + b"--b--\r\n"
    plan.redact_body(body, "multipart/form-data; boundary=b", Route("request", "POST", "", "/upload"))
    assert counting.calls == 1


def test_never_sampled_gives_a_plan_that_never_draws_and_leaves_the_original_drawing() -> None:
    plan = _plan()
    quiet = never_sampled(plan)
    assert type(quiet.redact_body(_body(1), "application/json", USERS).report) is Report
    assert type(plan.redact_body(_body(1), "application/json", USERS).report) is SampledReport
    assert quiet.redact_body(_body(1), "application/json", USERS).output == \
        plan.redact_body(_body(1), "application/json", USERS).output
    unsampled = compile_policy("version: 1\nrules: [{scan: true}]\n")
    assert never_sampled(unsampled) is unsampled


def test_a_plan_without_sample_never_samples() -> None:
    plan = compile_policy(_without_sample(POLICY).format(), source="p.yaml")
    assert type(plan) is Plan
    assert type(plan.redact_body(_body(1), "application/json", USERS).report) is Report


@pytest.mark.parametrize(("path", "sampled"), [("/users/1", True), ("/orders/1", False)])
def test_a_sampled_rule_runs_only_where_it_matches(path: str, sampled: bool) -> None:
    policy = ("version: 1\nrules:\n  - {id: mail, scan: {detectors: [EMAIL]}}\n"
              "  - {id: audit, mode: detect, sample: 1, match: {paths: ['/users/*']}, scan: {detectors: [PHONE]}}\n")
    plan = compile_policy(policy, sample_random=lambda: 0.0)
    report = plan.redact_body(_body(1), "application/json", Route("response", "GET", "", path)).report
    assert (type(report) is SampledReport) is sampled
    assert any(f.rule == "audit" for f in report.findings) is sampled
    assert any(f.rule == "mail" for f in report.findings)  # the enforcing rule, either way


# -- what is sent does not depend on the draw ---------------------------------------------

@pytest.mark.parametrize("policy", [
    POLICY.format(rate=1, audit=1),
    # a discovery pass classifies field names; the enforcing rule only scans: if the pass ran in the
    # enforcing view its classification would claim $.user.email before the scan saw it
    "version: 1\nsample: 1\nrules: [{id: mail, scan: {detectors: [EMAIL]}}]\n",
])
def test_sampled_output_is_byte_for_byte_the_unsampled_output(policy: str) -> None:
    sampled = compile_policy(policy, sample_random=lambda: 0.0)
    plain = compile_policy(_without_sample(policy))
    for i in range(20):
        for ctype, body in (("application/json", _body(i)), ("text/plain", b"mail x%d@example.com" % i)):
            got, want = sampled.redact_body(body, ctype, USERS), plain.redact_body(body, ctype, USERS)
            assert type(got.report) is SampledReport
            assert got.output == want.output and got.report.changed == want.report.changed
    assert b"user1@example.com" not in sampled.redact_body(_body(1), "application/json", USERS).output


def test_a_counted_report_is_left_as_it_is() -> None:
    """A buffered event stream is reported by counts only (no findings to label): sampling it must not
    drop the counts the metrics read."""
    policy = "version: 1\nsample: 1\nrules: [{id: mail, scan: {detectors: [EMAIL]}}]\n"
    sampled, plain = compile_policy(policy, sample_random=lambda: 0.0), compile_policy(_without_sample(policy))
    body = b"data: mail jane@example.com\n\n"
    got = sampled.redact_body(body, "text/event-stream", USERS).report
    assert got.counts() == plain.redact_body(body, "text/event-stream", USERS).report.counts()
    assert got.counts() == {("EMAIL", "mail", "redact", "enforce"): 1}


# -- uncovered, covered, route templates ------------------------------------------------------

def _places(report: Report) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(f.path, f.type, f.rule): (f.mode, f.route) for f in report.findings if isinstance(f, SampledFinding)}


def test_uncovered_findings_are_those_no_rule_acted_on() -> None:
    report = _plan().redact_body(_body(1), "application/json", USERS).report
    places = _places(report)
    uncovered = {(path, etype) for (path, etype, rule) in places if rule == ""}
    assert ("$.contact.email", "EMAIL") in uncovered         # no rule names it
    assert ("$.user.note", "PHONE") in uncovered             # only a detect rule saw it: not acted on
    assert not any(path == "$.user.email" for path, _ in uncovered)  # a field target acted
    assert not any(path == "$.user.id" for path, _ in uncovered)     # keep is a decision too
    assert places[("$.user.note", "PHONE", "audit")] == ("detect", "/users/*")
    assert places[("$.user.email", "FIELD", "users")] == ("enforce", "/users/*")


@pytest.mark.parametrize(("path", "template"), [
    ("/users/42", "/users/*"),
    ("/people/a/b", "/people/**"),            # the second glob of the rule
    ("/users/42/orders", ANY_ROUTE),          # near miss: * is one segment
    ("/usersx/1", ANY_ROUTE),
    ("/users/jane@example.com", "/users/*"),  # the raw path never becomes the label
    ("", ANY_ROUTE),
])
def test_route_template_is_a_glob_of_the_policy_never_the_raw_path(path: str, template: str) -> None:
    report = _plan().redact_body(_body(1), "application/json", Route("response", "GET", "", path)).report
    routes = {f.route for f in report.findings if isinstance(f, SampledFinding)}
    assert routes == {template}


# -- records -----------------------------------------------------------------------------------

SEEDED = {
    "email": "jane.roe@example.com",
    "phone": "+1 415 555 0100",
    "ssn": "123-45-6789",
    "card": "4111 1111 1111 1111",
    "key_email": "kim.lee@example.net",
    "path_email": "pat.doe@example.org",
}


def _seeded_body() -> bytes:
    return json.dumps({
        "user": {"email": SEEDED["email"], "id": "u1", "note": f"call {SEEDED['phone']}"},
        "items": [{"ssn": SEEDED["ssn"]}, {"paid_with": SEEDED["card"]}],
        "by_contact": {SEEDED["key_email"]: 1},   # data in a key
    }).encode()


def _fragments(value: str) -> set[str]:
    digits = "".join(c for c in value if c.isdigit())
    parts = {value, value.split("@")[0]} | ({digits[-8:]} if len(digits) >= 8 else set())
    return {p for p in parts if len(p) >= 4}


def test_records_hold_no_seeded_value_and_discover_reads_them(tmp_path: Path) -> None:
    out = io.StringIO()
    recorder = FindingRecorder(out)
    plan = _plan()
    for direction, route in (("response", Route("response", "GET", "", f"/users/{SEEDED['path_email']}")),
                             ("response", Route("response", "GET", "", "/other/1"))):
        result = plan.redact_body(_seeded_body(), "application/json", route)
        recorder.observe(adapter="asgi", direction=direction, outcome="rewritten", report=result.report,
                         seconds=0.001, size=100)
    text = out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) >= 8
    for value in SEEDED.values():
        for fragment in _fragments(value):
            assert fragment not in text, fragment
    assert {r["route"] for r in lines} == {"/users/*", ANY_ROUTE}
    assert {r["policy"] for r in lines} == {plan.digest}
    assert any(r["path"] == "$.items[*].ssn" and r["rule"] == "" for r in lines)  # indices folded
    # veil discover reads every line as a finding record, with the coverage the record says
    path = tmp_path / "records.ndjson"
    path.write_text(text)
    samples = list(read_samples(str(path), path.read_bytes()))
    assert len(samples) == len(lines) and all(isinstance(s, FindingRecord) for s in samples)
    rows = survey(samples, discovery_plan(None), None).rows
    coverage = {(route, path_): row.coverage for (route, _, path_), row in rows.items()}
    assert coverage[("/users/*", "$.items[*].ssn")] == "no"
    assert coverage[("/users/*", "$.user.email")] == "yes"
    assert coverage[("/users/*", "$.user.note")] == "detect"


def test_unsampled_reports_write_nothing() -> None:
    out = io.StringIO()
    plan = _plan(rate=0.0001, audit=0.0001, seed=3)
    result = plan.redact_body(_seeded_body(), "application/json", USERS)
    assert type(result.report) is Report and result.report.findings  # findings, but not drawn
    Observers(FindingRecorder(out)).observe(adapter="wsgi", direction="response", outcome="rewritten",
                                            report=result.report, seconds=0.0, size=1)
    assert out.getvalue() == ""


def test_record_file_rotates_and_names_the_process(tmp_path: Path) -> None:
    import os

    recorder = FindingRecorder(tmp_path / "f-{pid}.ndjson", max_bytes=600, backups=2)
    report = _plan().redact_body(_seeded_body(), "application/json", USERS).report
    for _ in range(10):
        recorder.observe(adapter="proxy", direction="response", outcome="rewritten", report=report,
                         seconds=0.0, size=1)
    recorder.close()
    recorder.observe(adapter="proxy", direction="response", outcome="rewritten", report=report, seconds=0.0, size=1)
    base = tmp_path / f"f-{os.getpid()}.ndjson"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([base.name, base.name + ".1", base.name + ".2"])
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 600 + 400  # one record over the limit at most
        assert all(json.loads(line)["policy"] == report.findings[0].policy  # type: ignore[attr-defined]
                   for line in p.read_text().splitlines())


# -- metrics -----------------------------------------------------------------------------------

def _metrics() -> tuple[object, Callable[..., float | None]]:
    prometheus_client = pytest.importorskip("prometheus_client")
    from veil.observe.prometheus import Metrics

    registry = prometheus_client.CollectorRegistry()
    return Metrics(registry=registry), registry.get_sample_value


def test_uncovered_and_coverage_metrics_come_from_discovery_samples_only() -> None:
    metrics, value = _metrics()
    plan = _plan()
    rule_only = _plan(rate=0.0001, audit=1, seed=2)  # only the audit rule is drawn: no discovery pass
    for p in (plan, rule_only):
        report = p.redact_body(_body(1), "application/json", USERS).report
        metrics.observe(adapter="asgi", direction="response", outcome="rewritten",  # type: ignore[attr-defined]
                        report=report, seconds=0.001, size=10)
    assert value("veil_uncovered_findings_total", {"route": "/users/*", "type": "EMAIL"}) == 1
    assert value("veil_uncovered_findings_total", {"route": "/users/*", "type": "PHONE"}) == 1
    assert value("veil_uncovered_findings_total", {"route": "/users/*", "type": "US_SSN"}) is None
    acted = value("veil_sampled_findings_total", {"route": "/users/*", "acted": "yes"})
    not_acted = value("veil_sampled_findings_total", {"route": "/users/*", "acted": "no"})
    # acted: the e-mail field and the kept id; not: the audit rule's phone and the two uncovered
    assert (acted, not_acted) == (2, 3)
    # an uncovered finding is no rule's finding
    assert value("veil_findings_total", {"adapter": "asgi", "direction": "response", "type": "EMAIL",
                                         "rule": "", "action": "none"}) is None
    assert value("veil_findings_total", {"adapter": "asgi", "direction": "response", "type": "PHONE",
                                         "rule": "audit", "action": "redact"}) == 2
