"""loadtests/ without Locust: budgets files, percentiles, PASS/BREACH decisions, the leak check, --fresh's pool."""

from __future__ import annotations

import math
import re
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.budgets import Budget, Limit, check_budget, load_budgets, parse_budgets
from loadtests.cpu import TICKS, session_cpu_seconds
from loadtests.fresh import FreshValues
from loadtests.leaks import LeakChecker
from loadtests.payloads import json_payloads, ndjson_payload, sse_payload
from loadtests.pool import ENV_POOL, Pool, RoundPlan, entry_request, plan_slots, served_bodies, write_pool
from loadtests.report import budget_table, cpu_table, unsteady_notes
from loadtests.runner import build_parser, builtin_with_envoy, main, settings_from, verdicts_for
from loadtests.targets import KNOWN_CONFIGS, select
from loadtests.scenario import Scenario, builtin_scenario, load_user_scenario
from loadtests.stats import Samples, Summary, percentile, summarize
from loadtests.yamlfile import ConfigFileError
from tests.extproc.gateway import has_envoy_extra

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240601
VALID = """\
rate: 100
requests: [GET /json/10KB/realistic]
budgets:
  asgi: {config: fastapi+veil, baseline: fastapi, p95_overhead_ms: 1.0, p99_overhead_pct: 50}
  proxy: {config: veil-proxy, baseline: mitmdump, p95_ratio: 1.25}
"""


# -- budgets file ------------------------------------------------------------------------


def test_shipped_budgets_file_is_valid_and_names_rows_of_the_builtin_scenario() -> None:
    budgets = load_budgets(ROOT / "loadtests" / "budgets.yaml", KNOWN_CONFIGS)
    names = builtin_scenario(SEED).names()
    assert budgets.rate > 0
    assert set(budgets.requests) <= set(names)
    assert {b.name for b in budgets.budgets} >= {"asgi_middleware", "wsgi_middleware", "proxy"}


def test_valid_budgets_parse_into_limits() -> None:
    budgets = parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)
    assert budgets.rate == 100.0 and budgets.requests == ("GET /json/10KB/realistic",)
    asgi, proxy = budgets.budgets
    assert (asgi.config, asgi.baseline) == ("fastapi+veil", "fastapi")
    assert asgi.limits == (Limit("p95", "overhead_ms", 1.0), Limit("p99", "overhead_pct", 50.0))
    assert proxy.limits == (Limit("p95", "ratio", 1.25),)


@pytest.mark.parametrize(("text", "expected"), [
    # unknown top-level key
    (VALID + "extra: 1\n", r"^b\.yaml:6:1: extra: unknown key \(expected one of rate, requests, budgets\)$"),
    # missing required key
    ("rate: 100\nbudgets: {a: {config: fastapi, baseline: flask, p95_ratio: 1}}\n",
     r"^b\.yaml:1:1: missing required key 'requests'$"),
    # rate is not a number
    (VALID.replace("rate: 100", "rate: fast"), r"^b\.yaml:1:7: rate: expected a number, got 'fast'$"),
    # rate zero
    (VALID.replace("rate: 100", "rate: 0"), r"^b\.yaml:1:7: rate: expected a number > 0, got 0$"),
    # negative overhead
    (VALID.replace("p95_overhead_ms: 1.0", "p95_overhead_ms: -1"),
     r"^b\.yaml:4:68: budgets\.asgi\.p95_overhead_ms: expected a number >= 0, got -1$"),
    # misspelt limit
    (VALID.replace("p95_ratio", "p95_ration"), r"^b\.yaml:5:51: budgets\.proxy\.p95_ration: unknown key"),
    # unknown configuration (typo)
    (VALID.replace("config: fastapi+veil", "config: fastapi+vail"),
     r"^b\.yaml:4:18: budgets\.asgi\.config: unknown configuration 'fastapi\+vail' \(expected one of "),
    # config compared with itself
    (VALID.replace("baseline: mitmdump", "baseline: veil-proxy"),
     r"^b\.yaml:5:41: budgets\.proxy\.baseline: a configuration cannot be its own baseline"),
    # a budget without any limit
    (VALID.replace(", p95_ratio: 1.25", ""), r"^b\.yaml:5:10: budgets\.proxy: no limit given"),
    # duplicate budget name
    (VALID + "  asgi: {config: flask+veil, baseline: flask, p95_ratio: 2}\n",
     r"^b\.yaml:6:3: budgets\.asgi: duplicate key 'asgi'$"),
    # an indentation mistake reads as it does in a policy (one loader: veil.rules.source), at the line's start
    (VALID.replace("  proxy:", "   proxy:"), r"^b\.yaml:5:4: budgets\.asgi: invalid YAML: bad indentation: "),
    # a merge key is refused, at the key
    (VALID + "  base: &b {config: flask, baseline: fastapi, p95_ratio: 2}\n  flask: {<<: *b}\n",
     r"^b\.yaml:7:11: budgets\.flask: YAML merge keys \('<<'\) are not supported"),
    # requests must be strings
    (VALID.replace("[GET /json/10KB/realistic]", "[{a: 1}]"),
     r"^b\.yaml:2:12: requests\[0\]: expected a single value, got a mapping$"),
    # budgets must be a mapping
    ("rate: 1\nrequests: x\nbudgets: [1]\n", r"^b\.yaml:3:10: budgets: expected a mapping, got a list$"),
    # YAML syntax error
    ("rate: [1\n", r"^b\.yaml:2:1: invalid YAML: "),
    # empty file
    ("", r"^b\.yaml:1:1: the file is empty$"),
])
def test_invalid_budgets_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_budgets(text, "b.yaml", KNOWN_CONFIGS)
    assert re.search(expected, str(info.value)), str(info.value)


def test_budgets_error_carries_structured_position() -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_budgets(VALID.replace("rate: 100", "rate: fast"), "b.yaml", KNOWN_CONFIGS)
    assert (info.value.source, info.value.line, info.value.field) == ("b.yaml", 1, "rate")


def test_unreadable_budgets_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"missing\.yaml:1:1: cannot read"):
        load_budgets(tmp_path / "missing.yaml", KNOWN_CONFIGS)


# -- percentiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([5.0], 95, 5.0),  # one value: every percentile is it
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),  # even count: midway
    ([1.0, 2.0, 3.0, 4.0], 0, 1.0),  # q=0: the minimum
    ([1.0, 2.0, 3.0, 4.0], 100, 4.0),  # q=100: the maximum
    ([float(i) for i in range(1, 101)], 95, 95.05),  # interpolated between ranks 95 and 96
    ([float(i) for i in range(1, 101)], 99, 99.01),
])
def test_percentile_interpolates_between_closest_ranks(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_matches_statistics_inclusive_method() -> None:
    values = sorted((i * 7919 % 1009) / 13 for i in range(500))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert percentile(values, 95) == pytest.approx(cuts[94])
    assert percentile(values, 99) == pytest.approx(cuts[98])


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match="within 0..100"):
        percentile([1.0], q)


def test_summary_of_no_samples_is_nan_with_n_zero() -> None:
    s = summarize([])
    assert s.n == 0 and math.isnan(s.p95)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_samples_drop_warmup_latencies_but_count_leaks_and_failures() -> None:
    samples = Samples()
    samples.add_round([
        "0.5\tGET /a\t9.0\tok\n",  # warm-up: dropped
        "0.6\tGET /a\t1.0\tleak\n",  # a leak during warm-up still counts
        "1.5\tGET /a\t2.0\tok\n",
        "1.6\tGET /a\t4.0\tok\n",
        "1.7\tGET /a\t3.0\tfail:CatchResponseError: HTTP 502\n",
        "garbage line\n",  # ignored
    ], warmup_s=1.0)
    assert samples.latencies == {"GET /a": [2.0, 4.0]}
    assert samples.leaks["GET /a"] == 1
    assert samples.failures == {("GET /a", "CatchResponseError: HTTP 502"): 1}
    assert samples.failed("GET /a") == 1 and samples.summary("GET /a").p50 == 3.0


# -- server CPU per request ----------------------------------------------------------------


def _stat(pid: int, name: str, session: int, utime: int, stime: int) -> str:
    # /proc/<pid>/stat: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    return f"{pid} ({name}) S 1 {session} {session} 0 -1 4194560 10 0 0 0 {utime} {stime} 0 0 20 0 1 0\n"


def test_session_cpu_sums_user_and_system_time_of_the_sessions_processes(tmp_path: Path) -> None:
    stats = {
        100: _stat(100, "uvicorn", 100, 250, 50),
        101: _stat(101, "python3 -m gunicorn) x (", 101, 7, 3),  # a name with spaces and parentheses
        102: _stat(102, "worker", 101, 40, 10),  # gunicorn's worker: same session as its arbiter
        103: _stat(103, "locust", 103, 999, 999),  # not a server
    }
    for pid, text in stats.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(text)
    (tmp_path / "self").mkdir()  # not a pid: skipped
    (tmp_path / "104").mkdir()  # exited between the listing and the read: skipped
    assert session_cpu_seconds({100}, tmp_path) == pytest.approx(300 / TICKS)
    assert session_cpu_seconds({101}, tmp_path) == pytest.approx(60 / TICKS)
    assert session_cpu_seconds({100, 101}, tmp_path) == pytest.approx(360 / TICKS)
    assert session_cpu_seconds({100}, tmp_path / "missing") is None


def test_session_cpu_of_a_real_busy_child_grows() -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.3: pass\ntime.sleep(30)"], start_new_session=True)
    try:
        if not Path("/proc").is_dir():  # not Linux: no reading at all, so the CPU table is left out
            assert session_cpu_seconds({child.pid}) is None
            return
        deadline = time.monotonic() + 20
        used = 0.0
        while time.monotonic() < deadline and used < 0.25:
            used = session_cpu_seconds({child.pid}) or 0.0
            time.sleep(0.05)
        assert 0.25 <= used < 5
    finally:
        child.kill()
        child.wait()


def test_cpu_per_request_counts_every_request_and_compares_with_the_baseline() -> None:
    base, veil = Samples(), Samples()
    base.add_round(["0.5\tGET /a\t1.0\tok\n"] + ["2.0\tGET /a\t1.0\tok\n"] * 99, warmup_s=1.0)
    base.add_cpu(0.2)
    veil.add_round(["2.0\tGET /a\t1.0\tfail:x\n"] + ["2.0\tGET /a\t1.0\tok\n"] * 99, warmup_s=1.0)
    veil.add_cpu(0.1)
    veil.add_round(["2.0\tGET /a\t1.0\tok\n"] * 100, warmup_s=1.0)
    veil.add_cpu(0.2)
    assert (base.sent, veil.sent) == (100, 200)  # warm-up and failed requests cost CPU too
    assert base.cpu_ms_per_request == pytest.approx(2.0) and veil.cpu_ms_per_request == pytest.approx(1.5)
    table = cpu_table({"fastapi": base, "fastapi+veil": veil}, {"fastapi+veil": "fastapi"})
    assert table[2] == "| fastapi | 100 | 0.2 | 2.000 | - |"
    assert table[3] == "| fastapi+veil | 200 | 0.3 | 1.500 | -0.500 ms (0.75x fastapi) |"


def test_a_configuration_whose_p95_swings_between_rounds_is_flagged() -> None:
    steady, swinging = Samples(), Samples()
    for steady_ms, swinging_ms in ((2.0, 4.8), (2.2, 5.0), (2.1, 12.0)):
        steady.add_round([f"5.0\tGET /a\t{steady_ms}\tok\n"] * 20, warmup_s=0)
        swinging.add_round([f"5.0\tGET /a\t{swinging_ms}\tok\n"] * 20, warmup_s=0)
    notes = unsteady_notes({"fastapi": steady, "mitmdump": swinging}, ["GET /a"])
    assert notes == ["mitmdump GET /a: p95 from 4.80 to 12.00 ms between rounds: the machine was not steady "
                     "(other load on the host?); the numbers measure it too"]
    one_round = Samples()
    one_round.add_round(["5.0\tGET /a\t9.0\tok\n"], warmup_s=0)
    assert unsteady_notes({"fastapi": one_round}, ["GET /a"]) == []


def test_cpu_table_is_left_out_when_nothing_was_measured() -> None:
    unmeasured = Samples()
    unmeasured.add_round(["2.0\tGET /a\t1.0\tok\n"], warmup_s=0)
    unmeasured.add_cpu(None)  # a --target-url service, or no /proc
    unmeasured.add_cpu(0.5)  # one unmeasured round makes the total unknown
    assert unmeasured.cpu_s is None and unmeasured.cpu_ms_per_request is None
    assert cpu_table({"target": unmeasured}, {}) == []


# -- PASS / BREACH ----------------------------------------------------------------------


def summary(p50: float, p95: float, p99: float) -> Summary:
    return Summary(1000, p50, p95, p99, p99)


BASE = summary(1.0, 2.0, 4.0)


@pytest.mark.parametrize(("limits", "config", "oks"), [
    # +0.5 ms at p95: within 1 ms
    ((Limit("p95", "overhead_ms", 1.0),), summary(1.2, 2.5, 5.0), [True]),
    # exactly on the limit passes
    ((Limit("p95", "overhead_ms", 1.0),), summary(1.2, 3.0, 5.0), [True]),
    # +1.5 ms: breach
    ((Limit("p95", "overhead_ms", 1.0),), summary(1.2, 3.5, 5.0), [False]),
    # both the ms and the % limit must hold: +0.9 ms is +45%, over 40%
    ((Limit("p95", "overhead_ms", 1.0), Limit("p95", "overhead_pct", 40)), summary(1.2, 2.9, 5.0), [True, False]),
    # ratio 1.2x within 1.25x; p99 ratio 1.6x over 1.5x
    ((Limit("p95", "ratio", 1.25), Limit("p99", "ratio", 1.5)), summary(1.2, 2.4, 6.4), [True, False]),
    # faster than the baseline: negative overhead passes
    ((Limit("p95", "overhead_ms", 0.0),), summary(0.9, 1.8, 3.0), [True]),
])
def test_check_budget_decides_each_limit(limits: tuple[Limit, ...], config: Summary, oks: list[bool]) -> None:
    checks = check_budget(Budget("b", "fastapi+veil", "fastapi", limits), [(config, BASE)])
    assert [c.ok for c in checks] == oks


def test_check_budget_refuses_empty_samples() -> None:
    with pytest.raises(ValueError, match="no samples"):
        check_budget(Budget("b", "x", "y", (Limit("p95", "ratio", 1.0),)), [(Summary(0, *[math.nan] * 4), BASE)])
    with pytest.raises(ValueError, match="no samples"):
        check_budget(Budget("b", "x", "y", (Limit("p95", "ratio", 1.0),)), [])


def test_check_budget_holds_the_median_of_the_rounds() -> None:
    budget = Budget("b", "veil-proxy", "mitmdump", (Limit("p95", "ratio", 1.25), Limit("p95", "overhead_ms", 1.0)))
    rounds = [
        (summary(1, 2.4, 3), summary(1, 2.0, 3)),  # 1.20x, +0.4 ms
        (summary(1, 9.0, 9), summary(1, 2.0, 3)),  # the config's run was disturbed: 4.50x
        (summary(1, 2.6, 3), summary(1, 2.0, 3)),  # 1.30x, +0.6 ms
        (summary(1, 2.2, 3), summary(1, 8.0, 9)),  # the baseline's run was disturbed: 0.28x
        (summary(1, 2.5, 3), summary(1, 2.0, 3)),  # 1.25x, +0.5 ms
        (Summary(0, *[math.nan] * 4), summary(1, 2.0, 3)),  # no samples: left out
    ]
    ratio_check, ms_check = check_budget(budget, rounds)
    assert ratio_check.actual == pytest.approx(1.25) and ratio_check.ok  # median of 1.2 4.5 1.3 0.275 1.25
    assert ms_check.actual == pytest.approx(0.5) and ms_check.ok  # median of +0.4 +7 +0.6 -5.8 +0.5
    assert not check_budget(budget, rounds[:3])[0].ok  # median 1.30x: a breach


def test_budget_table_shows_each_rounds_value_beside_the_median() -> None:
    budgets = parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)
    base, veil = Samples(), Samples()
    for base_ms, veil_ms in ((2.0, 2.4), (2.0, 9.0), (2.0, 2.5)):
        base.add_round([f"5.0\tGET /a\t{base_ms}\tok\n"] * 20, warmup_s=0)
        veil.add_round([f"5.0\tGET /a\t{veil_ms}\tok\n"] * 20, warmup_s=0)
    (verdict,) = verdicts_for(budgets, {"mitmdump": base, "veil-proxy": veil}, ["GET /a"])
    assert verdict.ok and len(verdict.rounds) == 3
    row = budget_table([verdict], gated=True)[2]
    assert "| p95 1.25x (1.20 4.50 1.25) |" in row and row.endswith("| PASS |")


def _samples(latencies: list[float]) -> Samples:
    s = Samples()
    s.add_round([f"5.0\tGET /a\t{ms}\tok\n" for ms in latencies], warmup_s=0)
    return s


def test_verdicts_skip_budgets_whose_configurations_did_not_run_and_flag_missing_samples() -> None:
    budgets = parse_budgets(VALID.replace("[GET /json/10KB/realistic]", "[GET /a, GET /b]"), "b.yaml", KNOWN_CONFIGS)
    samples = {"fastapi": _samples([1.0] * 50), "fastapi+veil": _samples([1.5] * 50)}
    verdicts = verdicts_for(budgets, samples, ["GET /a", "GET /b"])
    assert [(v.budget.name, v.request, v.ok, bool(v.checks)) for v in verdicts] == [
        ("asgi", "GET /a", True, True),  # +0.5 ms (+50%): within 1 ms and 50%; "proxy" did not run
        ("asgi", "GET /b", False, False),  # no samples for GET /b: NO DATA, never a pass
    ]
    table = "\n".join(budget_table(verdicts, gated=True))
    assert "NO DATA" in table


def test_breach_is_labelled_not_gated_in_smoke() -> None:
    budgets = parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)
    samples = {"fastapi": _samples([1.0] * 50), "fastapi+veil": _samples([5.0] * 50)}
    verdicts = verdicts_for(budgets, samples, ["GET /a"])
    assert not verdicts[0].ok
    assert "| BREACH (p95 +4.00 ms > 1 ms" in "\n".join(budget_table(verdicts, gated=True))
    assert "BREACH (not gated in --smoke: " in "\n".join(budget_table(verdicts, gated=False))


def test_smoke_settings_are_short_and_slower() -> None:
    budgets = parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)
    smoke = settings_from(build_parser("t").parse_args(["--smoke"]), budgets)
    full = settings_from(build_parser("t").parse_args([]), budgets)
    assert (smoke.rounds, smoke.rate) == (1, 50.0) and smoke.duration <= 5
    # an odd number of rounds, at least 5: the median then sets aside two disturbed ones
    assert full.rate == budgets.rate and full.rounds >= 5 and full.rounds % 2 and full.users * 10 >= full.rate


# -- leak check ------------------------------------------------------------------------------


def payloads() -> Iterator[tuple[str, bytes, list[str], list[str], str]]:
    for (size, variant), p in json_payloads(SEED).items():
        if variant == "realistic" and size != "100KB":
            yield f"{size}", p.body, p.pii_substrings, p.pii_values, "application/json"
    for p, ctype in ((ndjson_payload(SEED), "application/x-ndjson"), (sse_payload(SEED), "text/event-stream")):
        yield p.label, p.body, p.pii_substrings, p.pii_values, ctype


@pytest.mark.parametrize(("label", "body", "substrings", "values", "ctype"), list(payloads()),
                         ids=[p[0] for p in payloads()])
def test_leak_checker_sees_every_seeded_value_and_none_after_redaction(
    label: str, body: bytes, substrings: list[str], values: list[str], ctype: str,
) -> None:
    import veil

    checker = LeakChecker(substrings, values)
    assert len(checker) > 0
    assert checker.count(body) == len(checker)  # the unredacted body: every value is seen
    redacted = veil.default_plan().redact_body(body, ctype, veil.Route("response")).output
    assert checker.count(redacted) == 0


@pytest.mark.parametrize(("body", "found"), [
    (b'{"note":"call (415) 555-0123 now"}', 1),  # free-text value as a substring
    (b'{"email":"jane@example.com"}', 1),  # whole value as a JSON string literal
    (b'{"email":"jane@example.com.evil"}', 0),  # not the whole value: the literal check does not fire
    (b'{"note":"call [REDACTED:PHONE] now","email":"[REDACTED:EMAIL]"}', 0),  # redacted
    (b"", 0),  # empty body
])
def test_leak_checker_counts_substrings_and_whole_values(body: bytes, found: int) -> None:
    checker = LeakChecker(substrings=["(415) 555-0123"], values=["jane@example.com"])
    assert checker.count(body) == found
    assert checker.count(body) == found  # cached answer is the same


def test_leak_checker_sees_values_escaped_inside_json_strings() -> None:
    checker = LeakChecker(substrings=['O"Brien 4111'])
    assert checker.count(b'{"n":"Mr O\\"Brien 4111"}') == 1


def test_leak_checker_never_shows_the_values() -> None:
    checker = LeakChecker(substrings=["4111 1111 1111 1111"], values=["jane@example.com"])
    assert "4111" not in repr(checker) and "jane" not in repr(checker)
    spec = builtin_scenario(SEED).requests[0]
    assert all(v not in repr(spec) for v in spec.leak_values)


# -- scenarios --------------------------------------------------------------------------------


def test_scenario_survives_the_json_handoff_to_the_locustfile() -> None:
    scenario = builtin_scenario(SEED)
    again = Scenario.from_json(scenario.to_json())
    assert again == scenario
    assert {"GET /json/10KB/realistic", "POST /echo 10KB realistic", "GET /ndjson", "GET /sse"} <= set(again.names())


def test_user_scenario_from_samples_and_leak_list(tmp_path: Path) -> None:
    (tmp_path / "order.json").write_text('{"email": "jane@example.com"}')
    (tmp_path / "must_not_leak.txt").write_text("# values\njane@example.com\n\n")
    scenario = load_user_scenario(tmp_path, "/api/orders")
    (spec,) = scenario.requests
    assert (spec.name, spec.method, spec.path) == ("POST /api/orders order.json", "POST", "/api/orders")
    assert spec.leak_substrings == ("jane@example.com",)


def test_user_scenario_yaml_errors_point_at_the_line(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(
        "requests:\n  - {path: /a}\n  - {method: FETCH, path: /b}\nmust_not_leak: [x]\n")
    with pytest.raises(ConfigFileError, match=r"scenario\.yaml:3:14: requests\[1\]\.method: expected GET, POST"):
        load_user_scenario(tmp_path, None)


def test_veil_loadtest_outside_a_checkout_says_where_to_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from veil.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["loadtest", "--smoke"]) == 2
    assert "run it from a veil checkout (the loadtests/ folder), or use python -m loadtests" in capsys.readouterr().err


# -- --fresh: the pool ----------------------------------------------------------------------------

POOL_ROUNDS, POOL_SLOTS = 2, 40  # small: every request kind gets a few entries


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    scenario = builtin_scenario(SEED)
    slots = plan_slots(scenario, POOL_ROUNDS, POOL_SLOTS, SEED)
    return write_pool(tmp_path_factory.mktemp("pool"), scenario, slots, SEED)


def _entries(pool: Pool) -> Iterator[tuple[int, int, bytes]]:
    """(request index, entry, body) of every entry of every request's pool."""
    scenario = builtin_scenario(SEED)
    served = served_bodies(pool.directory)
    sent = RoundPlan(pool.directory, 1, check_leaks=False).bodies
    for k, spec in enumerate(scenario.requests):
        bodies = served[spec.path] if spec.method == "GET" else sent[k]
        assert len(bodies) == pool.slots.sizes[k]
        for entry, body in enumerate(bodies):
            yield k, entry, body


def test_fresh_pool_bodies_are_distinct_and_no_seeded_value_repeats(pool: Pool) -> None:
    """Across entries and request kinds; and none is a value of the fixed (warm) bodies."""
    plan = RoundPlan(pool.directory, 1, check_leaks=True)
    bodies = [body for _, _, body in _entries(pool)]
    assert len(set(bodies)) == len(bodies) == sum(pool.slots.sizes)
    seen: set[str] = set()
    for k, entry, _ in _entries(pool):
        substrings, values = plan._leaks[k][entry]
        own = set(substrings) | set(values)
        assert not own & seen
        seen |= own
    warm = {v for spec in builtin_scenario(SEED).requests for v in spec.leak_substrings + spec.leak_values}
    assert len(seen) > 500 and not seen & warm


def test_fresh_bodies_keep_the_shape_and_size_of_the_fixed_ones(pool: Pool) -> None:
    import json

    fixed = json_payloads(SEED)[("10KB", "realistic")]
    entry = served_bodies(pool.directory)["/json/10KB/realistic"][1]
    assert set(json.loads(entry)) == set(json.loads(fixed.body))
    assert 0.9 < len(entry) / len(fixed.body) < 1.2


def test_every_fresh_value_is_found_in_its_body_and_redacted_by_veil(pool: Pool) -> None:
    """Fresh values are valid for veil's detectors: none survives the default policy."""
    import veil

    plan = RoundPlan(pool.directory, 1, check_leaks=True)
    ctypes = {"ndjson": "application/x-ndjson", "sse": "text/event-stream"}
    scenario = builtin_scenario(SEED)
    for k, entry, body in _entries(pool):
        checker = plan.checker(k, entry)
        assert checker is not None and checker.count(body) == len(checker)
        ctype = ctypes.get(scenario.requests[k].payload, "application/json")
        redacted = veil.default_plan().redact_body(body, ctype, veil.Route("response")).output
        assert checker.count(redacted) == 0, (scenario.requests[k].name, entry)


def test_each_response_is_checked_against_its_own_entrys_values(pool: Pool) -> None:
    import veil

    plan = RoundPlan(pool.directory, 1, check_leaks=True)
    k = next(i for i, r in enumerate(builtin_scenario(SEED).requests) if r.name == "GET /json/10KB/realistic")
    bodies = served_bodies(pool.directory)["/json/10KB/realistic"]
    own, other = plan.checker(k, 1), plan.checker(k, 2)
    assert own is not None and other is not None
    redacted = veil.default_plan().redact_body(bodies[1], "application/json", veil.Route("response")).output
    assert own.count(redacted) == 0
    substrings, values = plan._leaks[k][1]
    leaking = redacted[:-1] + b',"leak":' + json_dumps(values[0]) + b"}"
    assert own.count(leaking) == 1  # one of its own values came back: a failed request
    assert other.count(bodies[1]) == 0  # another entry's values are not this response's
    assert RoundPlan(pool.directory, 1, check_leaks=False).checker(k, 1) is None  # baselines: status only


def json_dumps(value: str) -> bytes:
    import json

    return json.dumps(value).encode()


def test_slots_give_every_configuration_the_same_entries_in_the_same_order(pool: Pool) -> None:
    scenario = builtin_scenario(SEED)
    again = plan_slots(scenario, POOL_ROUNDS, POOL_SLOTS, SEED)
    assert again == pool.slots  # the baseline's Locust run and the target's read the same plan
    assert len(pool.slots.order) == POOL_ROUNDS * POOL_SLOTS
    taken = [(k, e) for k, e in pool.slots.order]
    assert len(set(taken)) == len(taken)  # no entry twice, in any round
    assert all(e >= 1 for _, e in taken)  # entry 0 is the probe's
    assert {k for k, _ in taken} == set(range(len(scenario.requests)))
    second = RoundPlan(pool.directory, 2, check_leaks=False)
    assert [second.slot(n) for n in range(POOL_SLOTS)] == list(pool.slots.order[POOL_SLOTS:])
    k, entry = second.slot(0)
    path, body = entry_request(scenario.requests[k], entry, second.bodies.get(k))
    assert (path, body == b"") in ((f"{scenario.requests[k].path}?k={entry}", True), ("/echo", False))


def test_a_pool_at_its_cap_takes_entries_again_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import loadtests.pool

    monkeypatch.setattr(loadtests.pool, "MAX_POOL_BYTES", 4 * 100_000)  # 100 KB pools: 4 entries, 10 KB: 40
    scenario = builtin_scenario(SEED)
    slots = plan_slots(scenario, 1, 400, SEED)
    for k, spec in enumerate(scenario.requests):
        cap = loadtests.pool.entry_cap(spec.payload)
        taken = [e for i, e in slots.order if i == k]
        assert set(taken) <= set(range(1, cap)) and slots.sizes[k] == min(len(taken), cap - 1) + 1
        assert (spec.name in slots.wrapped) == (len(taken) > cap - 1)
    assert "GET /json/100KB/realistic" in slots.wrapped


def test_probe_uses_entry_zero_of_each_pool(pool: Pool) -> None:
    served = served_bodies(pool.directory)
    for spec in pool.probe.requests:
        if spec.method == "GET":
            assert spec.path.endswith("?k=0") and not spec.body
        else:
            assert spec.body and spec.path == "/echo"
        assert spec.leak_substrings or spec.leak_values or "pii_free" in spec.name
    get = next(r for r in pool.probe.requests if r.name == "GET /json/10KB/realistic")
    assert LeakChecker(get.leak_substrings, get.leak_values).count(served["/json/10KB/realistic"][0]) > 0


def test_apps_serve_the_pool_entry_asked_for_by_k(pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import httpx
    from flask import Flask

    from loadtests.apps import create_asgi_app, create_wsgi_app

    monkeypatch.setenv(ENV_POOL, str(pool.directory))
    served = served_bodies(pool.directory)
    paths = ("/json/10KB/realistic", "/json/1KB/pii_free", "/ndjson", "/sse")

    urls = [(path, f"{path}?k={k}") for path in paths for k in (0, 1)]
    missing = [f"{path}?k={len(served[path])}" for path in paths]  # past the last entry

    async def asgi_get(urls: list[str]) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.get(url) for url in urls]

    asgi = asyncio.run(asgi_get([url for _, url in urls] + missing))
    flask_app = create_wsgi_app()
    assert isinstance(flask_app, Flask)
    wsgi = flask_app.test_client()
    expected = [served[path][int(url[-1])] for path, url in urls]
    assert [r.content for r in asgi[:len(urls)]] == expected
    assert [wsgi.get(url).data for _, url in urls] == expected
    assert {r.status_code for r in asgi[len(urls):]} == {wsgi.get(url).status_code for url in missing} == {404}


def test_fresh_values_refuse_a_kind_they_cannot_make() -> None:
    with pytest.raises(ValueError, match="does not know the kind"):
        FreshValues(1).like("not a pii value")


def test_fresh_flag_composes_with_smoke() -> None:
    budgets = parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)
    fresh_smoke = settings_from(build_parser("t").parse_args(["--smoke", "--fresh"]), budgets)
    assert fresh_smoke.fresh and fresh_smoke.smoke and fresh_smoke.rounds == 1 and fresh_smoke.duration <= 5
    fresh_full = settings_from(build_parser("t").parse_args(["--fresh"]), budgets)
    assert fresh_full.fresh and not fresh_full.smoke and fresh_full.rate == budgets.rate
    assert not settings_from(build_parser("t").parse_args([]), budgets).fresh


def test_fresh_refuses_your_own_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its bodies come from the bundled apps' pool (served by ?k=): a usage error, exit 2."""
    assert main(["--fresh", "--baseline-url", "http://127.0.0.1:9", "--payloads", str(tmp_path)]) == 2
    assert "--fresh needs the bundled apps" in capsys.readouterr().err


# -- the Envoy configurations (veil[envoy]) ----------------------------------------------------------

BUNDLED = ["fastapi", "fastapi+veil", "flask", "flask+veil", "mitmdump", "veil-proxy"]
needs_envoy = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")


def without_envoy_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extra as missing as envoy_missing can tell: ``grpc`` not importable (a None entry hides a module)."""
    monkeypatch.setitem(sys.modules, "grpc", None)


def envoy_selection(argv: list[str]) -> tuple[list[str], str]:
    """(the configurations ``python -m loadtests ARGV`` would load, the report's Envoy line)."""
    args = build_parser("t").parse_args(argv)
    targets, note = builtin_with_envoy(args, settings_from(args, parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)))
    loaded, _ = select(targets, args.only)
    return [t.name for t in loaded], note


@pytest.mark.parametrize(("installed", "argv", "loaded"), [
    pytest.param(True, [], [*BUNDLED, "envoy", "veil-envoy"], marks=needs_envoy),
    pytest.param(True, ["--smoke"], [*BUNDLED, "veil-envoy"], marks=needs_envoy),  # one Envoy configuration: veil's
    pytest.param(True, ["--smoke", "--only", "envoy,veil-envoy"], ["envoy", "veil-envoy"],  # --only overrides the cut
                 marks=needs_envoy),
    (False, [], BUNDLED),
    (False, ["--smoke"], BUNDLED),
    (False, ["--only", "fastapi,veil-proxy"], ["fastapi", "veil-proxy"]),
])
def test_envoy_configurations_run_with_the_extra_and_smoke_keeps_veil_envoy_only(
    installed: bool, argv: list[str], loaded: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not installed:
        without_envoy_extra(monkeypatch)
    assert envoy_selection(argv)[0] == loaded


@needs_envoy
def test_the_report_says_the_smoke_run_leaves_envoy_alone_out() -> None:
    assert envoy_selection([])[1] == ""
    assert envoy_selection(["--smoke"])[1].startswith("- Envoy configurations: veil-envoy only in --smoke")


def test_without_the_extra_the_envoy_configurations_are_skipped_saying_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    without_envoy_extra(monkeypatch)
    _, note = envoy_selection(["--smoke"])
    why = "module 'grpc' not importable (pip install 'veil[envoy]')"
    assert note == f"- Envoy configurations (envoy, veil-envoy): SKIPPED, the veil[envoy] extra is missing: {why}"
    assert note[2:] in capsys.readouterr().err


@pytest.mark.parametrize("only", ["veil-envoy", "fastapi,envoy"])
def test_without_the_extra_asking_for_an_envoy_configuration_is_a_usage_error(
    only: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_envoy_extra(monkeypatch)
    with pytest.raises(ValueError, match=r"^--only (veil-)?envoy: the Envoy configurations need the veil\[envoy\] "
                       r"extra: module 'grpc' not importable"):
        envoy_selection(["--smoke", "--only", only])


@needs_envoy
def test_veil_envoy_is_measured_against_envoy_alone_in_front_of_the_same_app() -> None:
    args = build_parser("t").parse_args(["--policy", "builtin:app"])
    targets, _ = builtin_with_envoy(args, settings_from(args, parse_budgets(VALID, "b.yaml", KNOWN_CONFIGS)))
    by_name = {t.name: t for t in targets}
    envoy, sidecar = by_name["envoy"], by_name["veil-envoy"]
    assert (envoy.veil, envoy.upstream) == (False, "fastapi")  # no leak check on the baseline
    assert (sidecar.veil, sidecar.upstream) == (True, "fastapi")
    assert sidecar.cmd[1:4] == ["-m", "veil.cli", "envoy"]
    assert sidecar.cmd[sidecar.cmd.index("--policy") + 1] == envoy.cmd[envoy.cmd.index("--policy") + 1] == "builtin:app"
