"""``veil discover`` (issue 19): on a HAR file and an NDJSON sample with known uncovered fields it
proposes exactly those; its patch passes ``veil check``, reads as an addition to the input policy,
and, applied, leaves no uncovered finding on the same sample. Reports and patches are value-free.
"""

from __future__ import annotations

import base64
import difflib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import veil
from veil.cli import main
from veil.discover.samples import read_samples
from veil.discover.survey import discovery_plan, fold_path, route_template, survey

POLICY = """\
version: 1
# Our team's policy: reviewed 2026-11.
rules:
  - id: users
    fields:
      - path: $.user.email   # the account e-mail

  - id: credentials
    headers:
      - name: authorization

limits:
  max_body_bytes: 100000
"""

SEEDED = ["jane@example.com", "+1 415 555 2671", "123-45-6789", "1 Main St", "Jane Roe", "jr@example.org",
          "bob@example.net", "abcdefghijklmnopqrstuvwxyz012345", "ada@example.com", "+44 20 7946 0958"]


def _entry(method: str, url: str, *, headers: list[tuple[str, str]] = (), post: Any = None,  # type: ignore[assignment]
           reply: Any = None, base64_reply: bool = False) -> dict[str, Any]:
    """A HAR 1.2 entry as Firefox and Chrome export one (mitmproxy's export has the same fields)."""
    request: dict[str, Any] = {
        "method": method, "url": url, "httpVersion": "HTTP/2", "cookies": [], "headersSize": -1, "bodySize": 0,
        "headers": [{"name": ":authority", "value": "api.example.com"}]
        + [{"name": n, "value": v} for n, v in headers],
        "queryString": [],
    }
    if post is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(post)}
    content: dict[str, Any] = {"size": 0, "mimeType": "x-unknown"}
    if reply is not None:
        text = json.dumps(reply)
        content = {"size": len(text), "mimeType": "application/json; charset=utf-8", "text": text}
        if base64_reply:
            content.update(text=base64.b64encode(text.encode()).decode(), encoding="base64")
    return {
        "startedDateTime": "2026-12-06T10:00:00.000Z", "time": 12, "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 2}, "request": request,
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "cookies": [],
                     "headers": [{"name": "content-type", "value": "application/json"}], "content": content,
                     "redirectURL": "", "headersSize": -1, "bodySize": -1},
    }


HAR = {"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "120.0"}, "pages": [], "entries": [
    _entry("GET", "https://api.example.com/users/42?email=jane%40example.com&page=2",
           headers=[("Authorization", "Bearer abcdefghijklmnopqrstuvwxyz012345"), ("Accept", "application/json")],
           reply={"user": {"id": 42, "email": "jane@example.com", "phone": "+1 415 555 2671",
                           "notes": "ssn 123-45-6789 on file", "plan": "pro"},
                  "orders": [{"id": 1, "shipping": {"street": "1 Main St"}}, {"id": 2, "total": 10}]}),
    _entry("POST", "https://api.example.com/users/43/contacts",
           headers=[("X-User-Email", "jr@example.org"), ("Cookie", "sid=abc123; contact=bob@example.net")],
           post={"contacts": [{"name": "Jane Roe", "email": "jr@example.org"},
                              {"name": "Bob", "email": "bob@example.net"}]}),
    _entry("GET", "https://api.example.com/v2/users/7", base64_reply=True,
           reply={"user": {"id": 7, "email": "ada@example.com", "status": "active"}}),
]}}

HAR_UNCOVERED = {
    # the seeded fields no rule covers ...
    ("/users/*", "body", "$.user.phone"),
    ("/users/*", "body", "$.user.notes"),
    ("/users/*", "body", "$.orders[*].shipping.street"),
    ("/users/*", "query", "email"),
    ("/users/*/contacts", "body", "$.contacts[*].name"),
    ("/users/*/contacts", "body", "$.contacts[*].email"),
    ("/users/*/contacts", "header", "x-user-email"),  # header names in lower case
    ("/users/*/contacts", "cookie", "contact"),       # near miss: the session id is no personal data
}
HAR_COVERED = {
    # ... and near misses: the same e-mail field under a route the users rule covers, a covered header
    ("/users/*", "body", "$.user.email"),
    ("/v2/users/*", "body", "$.user.email"),  # base64 content, decoded
    ("/users/*", "header", "authorization"),
}

NDJSON_LINES = [
    {"event": "signup", "user": {"email": "jane@example.com", "city": "Paris"}, "ip_hint": "none"},
    {"event": "call", "note": "rang +44 20 7946 0958 twice", "count": 3},
    {"event": "signup", "user": {"email": "ada@example.com"}, "by": {"jr@example.org": {"role": "admin"}}},
    {"event": "noop", "ok": True},  # near miss: nothing personal
]
NDJSON_UNCOVERED = {("*", "body", "$.note"), ("*", "key", "$.by")}
NDJSON_COVERED = {("*", "body", "$.user.email")}


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"policy": tmp_path / "policy.yaml", "har": tmp_path / "traffic.har", "ndjson": tmp_path / "bodies.ndjson"}
    paths["policy"].write_text(POLICY, encoding="utf-8")
    paths["har"].write_text(json.dumps(HAR, indent=2), encoding="utf-8")
    paths["ndjson"].write_text("".join(json.dumps(line) + "\n" for line in NDJSON_LINES), encoding="utf-8")
    return paths


def _table(out: str) -> dict[tuple[str, str, str], str]:
    """(route, where, path) -> coverage word, read from the table."""
    rows = {}
    for line in out.splitlines()[1:-1]:
        route, where, path, *_ = line.split()
        rows[(route, where, path)] = "yes" if " yes" in line else ("detect" if " detect" in line else "no")
    return rows


def _discover(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["discover", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("sample", "uncovered", "covered"), [
    ("har", HAR_UNCOVERED, HAR_COVERED),
    ("ndjson", NDJSON_UNCOVERED, NDJSON_COVERED),
])
def test_discover_reports_exactly_the_uncovered_places(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], sample: str,
    uncovered: set[tuple[str, str, str]], covered: set[tuple[str, str, str]],
) -> None:
    code, out, err = _discover(capsys, "--policy", files["policy"], files[sample])
    assert code == 0, err
    rows = _table(out)
    assert {place for place, word in rows.items() if word == "no"} == uncovered
    assert {place for place, word in rows.items() if word == "yes"} == covered
    assert f"{len(uncovered)} not covered by an enforcing rule" in out.splitlines()[-1]


@pytest.mark.parametrize("sample", ["har", "ndjson"])
def test_patch_passes_check_adds_only_and_covers_the_sample(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path, sample: str
) -> None:
    patch = tmp_path / "patched.yaml"
    code, out, err = _discover(capsys, "--policy", files["policy"], "--patch", patch, files[sample])
    assert code == 0, err
    checked = veil("check", patch)
    assert checked.returncode == 0, checked.stderr
    # A reviewable diff: every line of the input is kept, in order; the patch only adds lines.
    ops = difflib.SequenceMatcher(a=POLICY.splitlines(), b=patch.read_text().splitlines()).get_opcodes()
    assert {op for op, *_ in ops} == {"equal", "insert"}
    assert "# veil discover:" in patch.read_text()
    code, out, err = _discover(capsys, "--policy", patch, files[sample])
    assert code == 0, err
    assert out.splitlines()[-1].endswith(" 0 not covered by an enforcing rule")
    assert "no" not in _table(out).values()


def test_patch_for_the_har_proposes_one_rule_per_route_with_the_right_targets(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    import yaml

    patch = tmp_path / "patched.yaml"
    assert _discover(capsys, "--policy", files["policy"], "--patch", patch, files["har"])[0] == 0
    rules = {r["id"]: r for r in yaml.safe_load(patch.read_text())["rules"]}
    assert set(rules) == {"users", "credentials", "discovered-users-x", "discovered-users-x-contacts"}
    users = rules["discovered-users-x"]
    assert users["match"] == {"paths": ["/users/*"]}
    # a value a field name gave away: the field; a span a detector found in free text: scan under it
    assert {(f["path"], f["entity"]) for f in users["fields"]} == {
        ("$.user.phone", "PHONE"), ("$.orders[*].shipping.street", "ADDRESS")}
    assert users["query"] == [{"name": "email", "entity": "EMAIL"}]
    assert users["scan"] == {"detectors": ["US_SSN"], "under": ["$.user.notes"]}
    contacts = rules["discovered-users-x-contacts"]
    assert contacts["headers"] == [{"name": "x-user-email", "entity": "EMAIL"}]
    assert contacts["cookies"] == [{"name": "contact", "entity": "EMAIL"}]
    assert "scan" not in contacts and "query" not in contacts


def test_reports_and_patches_hold_no_seeded_value(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    patch = tmp_path / "patched.yaml"
    code, out, err = _discover(capsys, "--policy", files["policy"], "--patch", patch, files["har"], files["ndjson"])
    assert code == 0, err
    for text in (out, err, patch.read_text()):
        for value in SEEDED + [v.replace("@", "%40") for v in SEEDED]:
            assert value not in text


def test_without_a_policy_nothing_is_covered_and_the_patch_is_a_new_policy(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VEIL_POLICY", raising=False)
    patch = tmp_path / "new.yaml"
    code, out, err = _discover(capsys, "--patch", patch, files["ndjson"])
    assert code == 0, err
    assert set(_table(out).values()) == {"no"}
    assert patch.read_text().startswith("version: 1\nrules:\n")
    assert veil("check", patch).returncode == 0
    assert _discover(capsys, "--policy", patch, files["ndjson"])[1].splitlines()[-1].endswith(" 0 not covered by an enforcing rule")


def test_a_flow_style_rules_list_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    files["policy"].write_text("version: 1\nrules: [{id: a, headers: [{name: authorization}]}]\n")
    code, _, err = _discover(capsys, "--policy", files["policy"], "--patch", tmp_path / "p.yaml", files["ndjson"])
    assert code == 2
    assert "'rules:' must be a block list" in err and str(files["policy"]) in err
    assert not (tmp_path / "p.yaml").exists()


RECORDS = [
    # covered: an enforce rule acted
    {"route": "/users/*", "path": "$.user.email", "type": "EMAIL", "rule": "users", "action": "redact",
     "mode": "enforce", "policy": "sha256:0123456789abcdef"},
    # a keep action is a decision too
    {"route": "/users/*", "path": "$.user.id", "type": "US_SSN", "rule": "ids", "action": "keep", "mode": "enforce"},
    # near misses: detect mode only; no rule acted (the same place twice, indices folded)
    {"route": "/users/*", "path": "$.user.phone", "type": "PHONE", "rule": "audit", "action": "redact", "mode": "detect"},
    {"route": "/users/*", "path": "$.items[3].ssn", "type": "US_SSN", "location": "body"},
    {"route": "/users/*", "path": "$.items[4].ssn", "type": "US_SSN", "rule": "", "mode": "detect"},
]


def test_finding_records_are_counted_by_place_with_their_own_coverage() -> None:
    data = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
    # a body with the record keys plus one more is a body, not a record
    data += json.dumps({**RECORDS[0], "email": "x"}).encode() + b"\n"
    samples = list(read_samples("records.ndjson", data))
    result = survey(samples, discovery_plan(None), None)
    assert result.records == 5 and result.exchanges == 1
    rows = {(r.route, r.path): r for r in result.rows.values() if r.route == "/users/*"}
    assert rows[("/users/*", "$.user.email")].coverage == "yes"
    assert rows[("/users/*", "$.user.id")].coverage == "yes"
    assert rows[("/users/*", "$.user.phone")].coverage == "detect"
    assert rows[("/users/*", "$.items[*].ssn")].coverage == "no"
    assert rows[("/users/*", "$.items[*].ssn")].count == 2


@pytest.mark.parametrize(("path", "template"), [
    ("/users/42/orders", "/users/*/orders"),
    ("/v2/users", "/v2/users"),                      # a version stays
    ("/users/jane%40example.com", "/users/*"),       # data in the path
    ("/files/3f2a9c1e-aaaa-bbbb-cccc-0123456789ab", "/files/*"),
    ("/order-items/", "/order-items/"),              # a word with a dash, trailing slash kept
    ("/users/me", "/users/me"),
    ("", "*"),                                        # unknown route
])
def test_route_template(path: str, template: str) -> None:
    assert route_template(path) == template


@pytest.mark.parametrize(("location", "path", "folded"), [
    ("body", "$.items[0].card", "$.items[*].card"),
    ("body", "$.by[<key>].phone", "$.by[*].phone"),
    ("body", "$['first-name']", "$['first-name']"),  # near miss: a quoted name is not an index
    ("header", "X-Email", "x-email"),
    ("query", "Email", "Email"),                    # query names are case-sensitive
])
def test_fold_path(location: str, path: str, folded: str) -> None:
    assert fold_path(location, path) == folded


def test_a_har_with_bad_base64_names_the_entry(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = json.loads(json.dumps(HAR))
    bad["log"]["entries"][2]["response"]["content"]["text"] = "not base64!"
    path = tmp_path / "bad.har"
    path.write_text(json.dumps(bad))
    code, _, err = _discover(capsys, path)
    assert code == 1
    assert f"{path}:log.entries[2].response.content.text: not valid base64" in err


def test_records_of_a_sampled_policy_give_a_patch_whose_records_show_nothing_uncovered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The contract with veil.observe.records: what FindingRecorder writes, discover reads."""
    from veil import Route
    from veil.observe.records import FindingRecorder
    from veil.settings import load_policy

    body = json.dumps({"user": {"email": "jane@example.com", "phone": "+1 415 555 2671",
                                "notes": "ssn 123-45-6789"}}).encode()

    def record(policy: Path, name: str) -> Path:
        out = tmp_path / name
        recorder = FindingRecorder(out)
        plan = load_policy(policy)
        for n in (1, 2):
            result = plan.redact_body(body, "application/json", Route("response", "GET", "", f"/users/{n}"))
            recorder.observe(adapter="app", direction="response", outcome="rewritten", report=result.report,
                             seconds=0.0, size=len(body))
        recorder.close()
        return out

    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nsample: 1\nrules:\n  - id: users\n    match: {paths: [\"/users/*\"]}\n"
                      "    fields: [{path: $.user.email}]\n")
    first = record(policy, "findings.ndjson")
    patch = tmp_path / "patched.yaml"
    code, out, err = _discover(capsys, "--policy", policy, "--patch", patch, first)
    assert code == 0, err
    assert {place for place, word in _table(out).items() if word == "no"} == {
        ("/users/*", "body", "$.user.phone"), ("/users/*", "body", "$.user.notes")}
    again = record(patch, "findings-2.ndjson")
    code, out, err = _discover(capsys, "--policy", patch, again)
    assert code == 0, err
    assert "no" not in _table(out).values() and out.splitlines()[-1].endswith(" 0 not covered by an enforcing rule")
    for text in (first.read_text(), again.read_text(), patch.read_text()):
        assert "jane@example.com" not in text and "123-45-6789" not in text
