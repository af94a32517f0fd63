"""The CLI as a user's first hour meets it (issue #16): --version, python -m veil, keygen,
Ctrl-C, --policy on every command that takes one, plain-text detect and policy show."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import veil as veil_package
from tests.test_cli import KEY_HEX, SEEDED_EMAIL, TOKENIZE_POLICY, PolicyFile, _env, policy_file, veil
from veil.cli import build_parser
from veil.rules.actions.keys import parse_key

__all__ = ["policy_file"]  # the fixture, shared with test_cli


def test_version_prints_the_package_version() -> None:
    proc = veil("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode() == f"veil {veil_package.__version__}\n"


def test_python_dash_m_veil_is_the_veil_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "veil", "apply", "-t", "text/plain", "-"],
                          input=f"to {SEEDED_EMAIL}\n".encode(), capture_output=True, env=_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"to [REDACTED:EMAIL]\n"
    usage = subprocess.run([sys.executable, "-m", "veil", "--help"], capture_output=True, env=_env(), timeout=60)
    assert usage.stdout.startswith(b"usage: veil ")


# -- keygen ----------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "size"), [([], 64), (["--bytes", "32"], 32), (["--bytes", "16"], 16)])
def test_keygen_prints_a_random_key_a_keys_entry_reads(args: list[str], size: int) -> None:
    first, second = veil("keygen", *args), veil("keygen", *args)
    assert first.returncode == 0, first.stderr
    key = first.stdout.decode()
    assert key.endswith("\n") and key.count("\n") == 1
    assert len(parse_key(key)) == size
    assert first.stdout != second.stdout


@pytest.mark.parametrize("size", ["15", "0", "-64"])
def test_keygen_refuses_keys_too_small(size: str) -> None:
    proc = veil("keygen", "--bytes", size)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode() == f"veil keygen: --bytes must be at least 16, got {size}\n"


def test_keygen_key_tokenizes_and_detokenizes(policy_file: PolicyFile) -> None:
    policy = policy_file(TOKENIZE_POLICY)
    env = _env(VEIL_TOKEN_KEY=veil("keygen").stdout.decode().strip())
    doc = {"user": {"email": SEEDED_EMAIL}}
    applied = veil("apply", "-p", policy, "-t", "application/json", "-", stdin=json.dumps(doc).encode(), env=env)
    assert applied.returncode == 0, applied.stderr
    assert SEEDED_EMAIL.encode() not in applied.stdout
    restored = veil("detokenize", "-p", policy, "-", stdin=applied.stdout, env=env)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout) == doc


# -- Ctrl-C ----------------------------------------------------------------------------


def _as_in_a_terminal() -> None:
    """SIGINT as a terminal's foreground job has it. A suite started as a background job (``make test &``,
    ``nohup``) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt for it: Ctrl-C
    could not reach veil at all, which is not what this test is about."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("command", [["apply", "-t", "text/plain", "-"], ["detect"]])
def test_ctrl_c_exits_130_without_a_traceback(command: list[str]) -> None:
    with subprocess.Popen([sys.executable, "-m", "veil", *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=_env(), preexec_fn=_as_in_a_terminal) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(b"first line\n")
        proc.stdin.flush()
        first: list[bytes] = []
        reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=30)  # a line came out: veil is in its read loop, not starting up
        assert first and first[0], proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        err = proc.stderr.read().decode()
        proc.stdin.close()
    assert "Traceback" not in err
    assert err == f"veil {command[0]}: interrupted\n"


# -- --policy everywhere -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "apply", "detect", "detokenize", "proxy"])
def test_every_command_that_takes_a_policy_takes_dash_dash_policy(command: str) -> None:
    args = [command, "--policy", "p.yaml"] + (["--egress"] if command == "proxy" else [])
    assert build_parser().parse_args(args).policy == "p.yaml"


@pytest.mark.parametrize("form", [["--policy"], ["-p"], []])  # [] : the positional form, kept
def test_check_takes_the_policy_as_option_or_argument(policy_file: PolicyFile, form: list[str]) -> None:
    path = policy_file("version: 1\nrules:\n  - headers: [{name: authorization}]\n")
    proc = veil("check", *form, path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith(f"{path}: OK, ")


def test_check_with_two_different_policies_is_a_usage_error(policy_file: PolicyFile) -> None:
    text = "version: 1\nrules:\n  - headers: [{name: authorization}]\n"
    one, two = policy_file(text, "one.yaml"), policy_file(text, "two.yaml")
    proc = veil("check", "--policy", one, two)
    assert proc.returncode == 2
    assert proc.stderr == b"veil check: give the policy once, as --policy or as the argument\n"
    assert veil("check", "--policy", one, one).returncode == 0  # the same one twice is no conflict


def test_check_without_a_policy_checks_the_default_or_veil_policy(policy_file: PolicyFile) -> None:
    assert veil("check").returncode == 0
    path = policy_file("version: 1\nrules:\n  - headers: [{name: authorization}]\n")
    proc = veil("check", env=_env(VEIL_POLICY=str(path)))
    assert proc.stdout.decode().startswith(f"{path}: OK, ")


# -- detect on plain text ------------------------------------------------------------------

PLAIN_CASES = [
    # (line as sent, [(type, seeded value)])
    (f"mail {SEEDED_EMAIL} now\n", [("EMAIL", SEEDED_EMAIL)]),
    ("\n", []),  # blank: still answered, so output line n is about input line n
    (f"Zoë 😀 écrit {SEEDED_EMAIL}\r\n", [("EMAIL", SEEDED_EMAIL)]),  # offsets in characters, CRLF dropped
    ('{"text": "not read as JSON without --jsonl"}\n', []),  # near miss: JSON is text here
    ("call +44 20 7946 0958", [("PHONE", "+44 20 7946 0958")]),  # last line, without its newline
]


def test_detect_plain_text_writes_one_findings_line_per_input_line() -> None:
    stdin = "".join(line for line, _ in PLAIN_CASES).encode()
    proc = veil("detect", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(row) for row in proc.stdout.decode().splitlines()]
    assert [row["line"] for row in rows] == list(range(1, len(PLAIN_CASES) + 1))
    for row, (line, seeded) in zip(rows, PLAIN_CASES):
        assert all(set(f) == {"type", "start", "end"} for f in row["findings"])
        text = line.rstrip("\r\n")
        assert [(f["type"], text[f["start"]:f["end"]]) for f in row["findings"]] == seeded


def test_detect_plain_text_not_utf8_exits_1_with_line_number() -> None:
    proc = veil("detect", stdin=b"fine\n\xff\xfe\n")
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines() == ['{"line": 1, "findings": []}']
    assert proc.stderr == b"<stdin>:2: not valid UTF-8\n"


# -- policy show -----------------------------------------------------------------------------


def _profiles() -> dict[str, str]:
    from veil.rules.profiles import PROFILES

    return PROFILES


@pytest.mark.parametrize("name", ["strict", "app", "egress", "logs"])
@pytest.mark.parametrize("prefix", ["builtin:", ""])
def test_policy_show_prints_the_profile_yaml(name: str, prefix: str, tmp_path: Path) -> None:
    proc = veil("policy", "show", prefix + name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == _profiles()[name]
    # What it prints is a policy veil reads back.
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(proc.stdout)
    assert veil("check", path).returncode == 0


def test_policy_show_defaults_to_strict() -> None:
    assert veil("policy", "show").stdout.decode() == _profiles()["strict"]


@pytest.mark.parametrize("name", ["builtin:nope", "builtin:", "Strict", "builtin:builtin:strict"])
def test_policy_show_unknown_name_exits_2_naming_the_known_ones(name: str) -> None:
    proc = veil("policy", "show", name)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert "known: builtin:strict, builtin:app, builtin:egress, builtin:logs" in proc.stderr.decode()
