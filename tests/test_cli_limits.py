"""``veil apply`` on large inputs (issue #16): the real size and limit in the error, --max-body-bytes
to raise it, and a progress bar on stderr only when stderr is a terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.terminal import run_with_terminal_stderr
from tests.test_cli import SEEDED_EMAIL, PolicyFile, _env, policy_file, veil

__all__ = ["policy_file"]  # the fixture, shared with test_cli

SMALL_LIMIT_POLICY = """\
version: 1
limits: {max_body_bytes: 100}
rules:
  - fields: [{path: $.email}]
"""


def _document(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes with an e-mail to redact."""
    head = json.dumps({"email": SEEDED_EMAIL}).encode()
    doc = head[:-1] + b" " * (size - len(head)) + b"}"  # whitespace: no string over its own limit
    assert len(doc) == size
    return doc


@pytest.mark.parametrize("via_stdin", [False, True])
@pytest.mark.parametrize("size", [101, 150, 5000])
def test_apply_over_the_limit_gives_the_real_size_and_the_flag(
    policy_file: PolicyFile, tmp_path: Path, via_stdin: bool, size: int
) -> None:
    policy = policy_file(SMALL_LIMIT_POLICY)
    path = tmp_path / "big.json"
    path.write_bytes(_document(size))
    args = ["-t", "application/json", "-"] if via_stdin else [path]
    proc = veil("apply", "-p", policy, *args, stdin=path.read_bytes() if via_stdin else b"")
    assert proc.returncode == 1
    assert proc.stdout == b""
    name = "-" if via_stdin else str(path)
    assert proc.stderr.decode() == (f"{name}: {size} bytes is over the body limit of 100 bytes "
                                    f"(limits.max_body_bytes; raise it with --max-body-bytes {size})\n")


@pytest.mark.parametrize(("flag", "passes"), [("150", True), ("149", False), ("100000", True)])
def test_apply_max_body_bytes_raises_the_limit(policy_file: PolicyFile, tmp_path: Path, flag: str, passes: bool) -> None:
    policy = policy_file(SMALL_LIMIT_POLICY)
    path = tmp_path / "big.json"
    path.write_bytes(_document(150))
    proc = veil("apply", "-p", policy, "--max-body-bytes", flag, path)
    assert (proc.returncode == 0) is passes, proc.stderr
    if passes:
        assert json.loads(proc.stdout)["email"] == "[REDACTED:FIELD]"
    else:
        assert f"over the body limit of {flag} bytes" in proc.stderr.decode()


def test_apply_at_the_default_limit_passes_and_one_byte_over_fails(tmp_path: Path) -> None:
    limit = 10 * 1024 * 1024
    path = tmp_path / "big.json"
    path.write_bytes(_document(limit))
    assert veil("apply", path).returncode == 0
    path.write_bytes(_document(limit + 1))
    proc = veil("apply", path)
    assert proc.returncode == 1
    assert f"{limit + 1} bytes is over the body limit of {limit} bytes" in proc.stderr.decode()


def test_apply_line_over_the_limit_names_its_line(policy_file: PolicyFile, tmp_path: Path) -> None:
    policy = policy_file(SMALL_LIMIT_POLICY)
    path = tmp_path / "events.ndjson"
    path.write_bytes(_document(100) + b"\n" + _document(101) + b"\n")
    proc = veil("apply", "-p", policy, path)
    assert proc.returncode == 1
    assert proc.stdout.count(b"\n") == 1  # the first line, at the limit, came out
    assert proc.stderr.decode().startswith(f"{path}:2: line of 101 bytes is over the limit of 100 bytes")
    assert veil("apply", "-p", policy, "--max-body-bytes", "101", path).returncode == 0


@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5"])
def test_apply_max_body_bytes_must_be_a_positive_whole_number(value: str) -> None:
    proc = veil("apply", "--max-body-bytes", value, "-", stdin=b"{}")
    assert proc.returncode == 2
    assert b"--max-body-bytes" in proc.stderr


@pytest.fixture
def big_log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_bytes(f"login {SEEDED_EMAIL} ok\n".encode() * 100_000)  # 2.6 MB
    return path


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
def test_apply_prints_no_progress_when_stderr_is_not_a_terminal(big_log: Path, content_type: str) -> None:
    args = ["-t", content_type] if content_type == "text/plain" else []
    if content_type == "application/json":
        big_log.write_bytes(json.dumps({"lines": [SEEDED_EMAIL] * 100_000}).encode())
    proc = veil("apply", *args, big_log)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""


def test_apply_draws_progress_when_stderr_is_a_terminal(big_log: Path) -> None:
    proc, drawn = run_with_terminal_stderr([sys.executable, "-m", "veil", "apply", big_log], _env())
    assert proc.returncode == 0
    assert SEEDED_EMAIL.encode() not in proc.stdout
    assert b"veil apply: [" in drawn and f"% of {big_log.stat().st_size / 1e6:.1f} MB".encode() in drawn
    assert drawn.endswith(b"\r\x1b[K")  # erased at the end
