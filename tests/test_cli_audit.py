"""``veil audit`` (issue 19): findings per 1,000 lines by type, exit 3 above --max-per-1000 (1 and 2 keep
their meanings), never a value in the report, a progress bar only when stderr is a terminal."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.terminal import run_with_terminal_stderr
from tests.test_cli import _env, veil
from veil.cli import main

EMAIL, PHONE = "jane.roe@example.com", "+44 20 7946 0958"

LOG_LINES = [
    f"2026-12-06 login ok user={EMAIL}",          # EMAIL in text
    json.dumps({"event": "call", "to": PHONE}),   # PHONE in a JSON line
    json.dumps({"email": "bob@example.net"}),      # EMAIL by its field name
    "[worker-3] started 4 jobs",                   # near miss: a bracket that is no JSON, nothing personal
    "GET /healthz 200 1.2ms",                      # near miss
    "",                                            # a blank line is a line too
    "user id 42 logged out",                       # near miss: a number is not personal
    "",
    "",
    "done",
]  # 10 lines, 3 findings: 300 per 1000


def _audit(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["audit", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("\n".join(LOG_LINES) + "\n", encoding="utf-8")
    return path


def test_audit_reports_findings_per_1000_lines_by_type(capsys: pytest.CaptureFixture[str], log: Path) -> None:
    code, out, err = _audit(capsys, log)
    assert code == 0, err
    assert out.splitlines()[1].split() == [str(log), "10", "3", "300.00"]
    by_type = {line.split()[0]: line.split()[1:] for line in out.splitlines()[4:-1]}
    assert by_type == {"EMAIL": ["2", "200.00"], "PHONE": ["1", "100.00"]}
    assert out.splitlines()[-1] == "total: 3 findings in 10 lines, 300.00 per 1000 lines"
    for value in (EMAIL, PHONE, "bob@example.net"):
        assert value not in out + err
    assert log.read_text() == "\n".join(LOG_LINES) + "\n"  # never changed


@pytest.mark.parametrize(("threshold", "code"), [
    (None, 0),      # no gate: report only
    ("300", 0),     # at the threshold: not above it
    ("299.9", 3),   # just above
    ("0", 3),
])
def test_audit_exits_3_above_the_threshold(
    capsys: pytest.CaptureFixture[str], log: Path, threshold: str | None, code: int
) -> None:
    args = ["--max-per-1000", threshold] if threshold is not None else []
    got, _, err = _audit(capsys, *args, log)
    assert got == code
    assert ("above --max-per-1000" in err) == (code == 3)


def test_audit_adds_up_several_files_and_a_clean_file_passes_a_zero_gate(
    capsys: pytest.CaptureFixture[str], log: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.ndjson"
    clean.write_text("".join(json.dumps({"n": n, "status": "ok"}) + "\n" for n in range(90)))
    code, out, _ = _audit(capsys, log, clean)
    assert code == 0
    assert out.splitlines()[-1] == "total: 3 findings in 100 lines, 30.00 per 1000 lines"
    assert _audit(capsys, "--max-per-1000", "0", clean)[0] == 0


def test_audit_reads_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"mail {EMAIL}\nok\n".encode())))
    code, out, _ = _audit(capsys, "-")
    assert code == 0
    assert out.splitlines()[-1] == "total: 1 findings in 2 lines, 500.00 per 1000 lines"


def test_a_line_over_the_limit_exits_1_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nlimits: {max_body_bytes: 50}\nrules:\n  - scan: true\n")
    log = tmp_path / "big.log"
    log.write_text(f"short {EMAIL}\n" + "x" * 51 + "\n")
    code, out, err = _audit(capsys, "--policy", policy, log)
    assert code == 1
    assert f"{log}:2: line of 51 bytes is over the limit of 50 bytes" in err
    assert "total: 1 findings in 2 lines" in out


def test_a_bad_policy_exits_2(capsys: pytest.CaptureFixture[str], log: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules: []\n")
    assert _audit(capsys, "--policy", policy, log)[0] == 2


@pytest.fixture()
def big_log(tmp_path: Path) -> Path:
    path = tmp_path / "big.log"
    path.write_bytes(f"login {EMAIL} ok\n".encode() * 60_000)  # 1.6 MB
    return path


def test_audit_draws_progress_only_when_stderr_is_a_terminal(big_log: Path) -> None:
    piped = veil("audit", big_log)
    assert piped.returncode == 0 and piped.stderr == b""
    proc, drawn = run_with_terminal_stderr([sys.executable, "-m", "veil", "audit", big_log], _env())
    assert proc.returncode == 0
    assert proc.stdout == piped.stdout
    assert b"veil audit: [" in drawn and f"% of {big_log.stat().st_size / 1e6:.1f} MB".encode() in drawn
    assert drawn.endswith(b"\r\x1b[K")
