"""The ``veil`` command, run as a real subprocess on temporary files.

Exit codes: 0 ok, 1 a payload veil could not process, 2 a policy or usage error.
Errors go to stderr as one line each, never with a traceback, never echoing the payload.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

KEY_HEX = "ab" * 64  # 64 bytes: an AES-SIV-256 key
SEEDED_EMAIL = "jane@example.com"

PolicyFile = Callable[..., Path]

TOKENIZE_POLICY = """\
version: 1
keys:
  tokens: {env: VEIL_TOKEN_KEY}
rules:
  - id: tokenize-email
    fields:
      - path: $.user.email
        action: {type: tokenize, key: tokens}
"""

RESPONSE_ONLY_POLICY = """\
version: 1
rules:
  - id: response-secret
    match: {direction: response}
    fields:
      - path: $.secret
"""

CHECKED_POLICY = """\
version: 1
rules:
  - id: creds
    headers:
      - {name: authorization}
  - id: pii
    mode: detect
    match: {direction: response}
    scan: true
"""

BAD_POLICY = """\
version: 1
rules:
  - fields:
      - path: $.user[
"""


def _env(**extra: str) -> dict[str, str]:
    """The test environment without VEIL_* leftovers, with stdout buffering as a user gets it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_") and k != "PYTHONUNBUFFERED"}
    env.update(extra)
    return env


def veil(
    *args: str | Path, stdin: bytes = b"", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "veil.cli", *map(str, args)],
        input=stdin,
        capture_output=True,
        env=_env() if env is None else env,
        cwd=cwd,
        timeout=60,
    )


def _no_traceback(proc: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in proc.stderr


@pytest.fixture
def policy_file(tmp_path: Path) -> PolicyFile:
    def write(text: str, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# -- check ---------------------------------------------------------------------


def test_check_valid_policy_prints_summary(policy_file: PolicyFile) -> None:
    path = policy_file(CHECKED_POLICY)
    proc = veil("check", path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert out.startswith(f"{path}: OK, 2 rules, 20 detectors in use (of 20 available)\n")  # pii scans all
    assert "  creds [enforce, both]: headers:1\n" in out
    assert "  pii [detect, response]: scan:20 detectors\n" in out
    assert re.search(r"^  limits: body \d+ B, depth \d+, string \d+ B; on_error: block$", out, re.M)
    assert proc.stderr == b""


def test_check_invalid_policy_exits_2_with_located_error(policy_file: PolicyFile) -> None:
    path = policy_file(BAD_POLICY, "bad_jsonpath.yaml")
    proc = veil("check", "bad_jsonpath.yaml", cwd=path.parent)
    assert proc.returncode == 2
    assert proc.stdout == b""
    _no_traceback(proc)
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1
    assert re.match(r"^bad_jsonpath\.yaml:4:9: rules\[0\]\.fields\[0\]\.path: invalid JSONPath '\$\.user\[': ", lines[0])


def test_check_reports_every_problem_one_per_line(policy_file: PolicyFile) -> None:
    path = policy_file("version: 1\nrules:\n  - scan: {detectors: [NOPE]}\n  - fields: [{path: '$.a['}]\n")
    proc = veil("check", path)
    assert proc.returncode == 2
    _no_traceback(proc)
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 2
    assert re.match(rf"^{re.escape(str(path))}:3:\d+: rules\[0\]\.scan\.detectors\[0\]: unknown detector 'NOPE'", lines[0])
    assert re.match(rf"^{re.escape(str(path))}:4:\d+: rules\[1\]\.fields\[0\]\.path: invalid JSONPath", lines[1])


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    proc = veil("check", tmp_path / "nope.yaml")
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stderr.decode() == f"{tmp_path / 'nope.yaml'}: policy file not found\n"


# -- apply ---------------------------------------------------------------------


def test_apply_json_file_redacts_and_keeps_shape(tmp_path: Path) -> None:
    doc = {"user": {"email": SEEDED_EMAIL, "age": 41}, "items": [1, 2], "note": "ok"}
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = veil("apply", path)
    assert proc.returncode == 0, proc.stderr
    assert SEEDED_EMAIL.encode() not in proc.stdout
    out = json.loads(proc.stdout)
    assert out == {"user": {"email": "[REDACTED:EMAIL]", "age": 41}, "items": [1, 2], "note": "ok"}


def test_apply_newline_flag_ends_output_with_newline(tmp_path: Path) -> None:
    path = tmp_path / "payload.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    assert not veil("apply", path).stdout.endswith(b"\n")
    assert veil("apply", "--newline", path).stdout.endswith(b"\n")


def test_apply_ndjson_redacts_each_line(tmp_path: Path) -> None:
    lines = [{"email": f"user{i}@example.com", "n": i} for i in range(3)]
    path = tmp_path / "events.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    proc = veil("apply", path)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert out == [{"email": "[REDACTED:EMAIL]", "n": i} for i in range(3)]


@pytest.mark.parametrize(
    ("content_type", "line", "expected"),
    [
        ("application/x-ndjson", b'{"email":"jane@example.com"}\n', b'{"email":"[REDACTED:EMAIL]"}\n'),
        ("text/plain", b"mail jane@example.com\n", b"mail [REDACTED:EMAIL]\n"),
    ],
)
def test_apply_line_mode_streams_output_before_input_ends(content_type: str, line: bytes, expected: bytes) -> None:
    """The first redacted line comes out while stdin is still open (``tail -f app.log | veil apply``)."""
    with subprocess.Popen(
        [sys.executable, "-m", "veil.cli", "apply", "-t", content_type, "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line)
        proc.stdin.flush()
        first: list[bytes] = []
        reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=10)
        early = list(first)  # what arrived while stdin was still open
        proc.stdin.close()
        proc.wait(timeout=30)
        reader.join(timeout=10)
        assert first == [expected], proc.stderr.read()  # type: ignore[union-attr]
        assert early == [expected]


def test_apply_ndjson_invalid_line_exits_1_with_line_number(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"email": "a@example.com"}\n{"n": 1}\n{"password": "hunter2"\n{"n": 3}\n')
    proc = veil("apply", path)
    assert proc.returncode == 1
    _no_traceback(proc)
    assert proc.stdout.splitlines() == [b'{"email": "[REDACTED:EMAIL]"}', b'{"n": 1}']  # lines before the bad one
    err = proc.stderr.decode()
    assert err.startswith(f"{path}:3: ")
    assert "not valid JSON" in err
    assert "hunter2" not in err


def test_apply_ndjson_error_names_only_the_real_line(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"n": 1}\n{bad\n')
    proc = veil("apply", path)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.startswith(f"{path}:2: ")
    assert not re.search(r"\bline 1\b", err)


def test_apply_text_log_file_redacts_each_line(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(f"login ok for {SEEDED_EMAIL}\nnothing to see\ncall +44 20 7946 0958\n", encoding="utf-8")
    proc = veil("apply", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == "login ok for [REDACTED:EMAIL]\nnothing to see\ncall [REDACTED:PHONE]\n"


def test_apply_reads_stdin_dash() -> None:
    proc = veil("apply", "-t", "application/json", "-", stdin=json.dumps({"contact": SEEDED_EMAIL}).encode())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"contact": "[REDACTED:EMAIL]"}


def test_apply_stdin_is_the_default_input() -> None:
    proc = veil("apply", "-t", "text/plain", stdin=f"to {SEEDED_EMAIL}\n".encode())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"to [REDACTED:EMAIL]\n"


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
            # As JSON the field name "full_name" classifies the value; as text only detectors run.
        ("application/json", {"full_name": "[REDACTED:PERSON_NAME]", "mail": "[REDACTED:EMAIL]"}),
        # A JSON document under any text label is JSON (review of issue #15, F3): its field names count.
        ("text/csv", {"full_name": "[REDACTED:PERSON_NAME]", "mail": "[REDACTED:EMAIL]"}),
    ],
)
def test_apply_content_type_overrides_the_file_extension(tmp_path: Path, content_type: str, expected: dict[str, str]) -> None:
    path = tmp_path / "payload.dat"
    path.write_text(json.dumps({"full_name": "Jane Roe", "mail": SEEDED_EMAIL}), encoding="utf-8")
    proc = veil("apply", "--content-type", content_type, path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == expected


@pytest.mark.parametrize(
    ("direction_args", "secret_kept"),
    [
        ([], False),  # default direction is any: rules of every direction apply (issue #16)
        (["--direction", "request"], True),
        (["--direction", "response"], False),
        (["-d", "response"], False),
    ],
)
def test_apply_direction_selects_rules(policy_file: PolicyFile, tmp_path: Path, direction_args: list[str], secret_kept: bool) -> None:
    policy = policy_file(RESPONSE_ONLY_POLICY)
    path = tmp_path / "body.json"
    path.write_text('{"secret": "s3cr3t-value", "other": "x"}', encoding="utf-8")
    proc = veil("apply", "--policy", policy, *direction_args, path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["other"] == "x"
    assert (out["secret"] == "s3cr3t-value") is secret_kept


def test_apply_explain_names_rule_and_path_never_the_value(policy_file: PolicyFile, tmp_path: Path) -> None:
    policy = policy_file(RESPONSE_ONLY_POLICY)
    path = tmp_path / "body.json"
    path.write_text('{"secret": "s3cr3t-value"}', encoding="utf-8")
    proc = veil("apply", "-p", policy, "-d", "response", "--explain", path)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "response-secret" in err
    assert "$.secret" in err
    assert "s3cr3t-value" not in err


def test_apply_explain_masks_keys_that_may_be_data(tmp_path: Path) -> None:
    """Issue #15: an e-mail used as a key was printed in the finding's path."""
    path = tmp_path / "body.json"
    path.write_text(json.dumps({SEEDED_EMAIL: {"ssn": "078-05-1120"}, "user": {"email": "bob@example.org"}}),
                    encoding="utf-8")
    proc = veil("apply", "--explain", path)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "$[<key>].ssn" in err and "$.user.email" in err
    assert SEEDED_EMAIL not in err and "bob@example.org" not in err


def test_apply_explain_in_line_mode_prefixes_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(f"mail {SEEDED_EMAIL}\nnone\nagain {SEEDED_EMAIL}\n", encoding="utf-8")
    proc = veil("apply", "--explain", path)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode().splitlines()
    assert [line.split(":")[0] for line in err] == ["line 1", "line 3"]
    assert all("EMAIL" in line and SEEDED_EMAIL not in line for line in err)


# One event per finding kind: a key that is data, an id, a field name rule, a comment, a field whose
# name is data, a JSON document over two data lines, and an address split over two text deltas.
SSE_EXPLAINED = (
    f'data: {{"{SEEDED_EMAIL}": {{"a": 1}}}}\n\n'
    f'id: {SEEDED_EMAIL}\nevent: update\ndata: {{"password": "hunter2", "n": 1}}\n\n'
    f': note for {SEEDED_EMAIL}\n{SEEDED_EMAIL}: x\nretry: 1000\n\n'
    'data: {"password":\ndata: "hunter2"}\n\n'
    'data: {"delta": {"content": "write to ja"}}\n\ndata: {"delta": {"content": "ne@example.com now"}}\n\n'
    "data: [DONE]\n\n"
).encode()


def test_apply_explain_on_an_event_stream_names_event_field_and_path_never_the_value() -> None:
    """Issue #15 review: SSE printed no explain line at all (and was redacted line by line)."""
    proc = veil("apply", "--explain", "-t", "text/event-stream", "-", stdin=SSE_EXPLAINED)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode().splitlines()
    where = [line.split(": ", 2)[0] + ": " + line.split(": ", 2)[2].split(" -> ")[0] for line in err]
    assert where == [
        "event 1, data: EMAIL at key $ [0:16]",
        "event 2, id: EMAIL at body $ [0:16]",
        "event 2, data: SECRET at body $.password",
        "event 3, comment: EMAIL at body $ [11:27]",  # the comment line is all payload
        "event 3, field: EMAIL at body $ [0:16]",
        "event 4, data: SECRET at body $.password",
        "text deltas, by event 7: EMAIL x1",  # settled when [DONE] ended the deltas
    ]
    assert b"jane" not in proc.stderr and b"hunter2" not in proc.stderr and b"example" not in proc.stderr
    assert b"hunter2" not in proc.stdout and SEEDED_EMAIL.encode() not in proc.stdout


def test_apply_explain_leaves_an_event_stream_as_without_it() -> None:
    plain = veil("apply", "-t", "text/event-stream", "-", stdin=SSE_EXPLAINED)
    explained = veil("apply", "--explain", "-t", "text/event-stream", "-", stdin=SSE_EXPLAINED)
    assert (plain.returncode, plain.stderr) == (0, b"")
    assert (explained.returncode, explained.stdout) == (0, plain.stdout)


def test_apply_uses_veil_policy_env_when_no_policy_flag(policy_file: PolicyFile, tmp_path: Path) -> None:
    policy = policy_file(RESPONSE_ONLY_POLICY)
    path = tmp_path / "body.json"
    path.write_text(f'{{"secret": "s3cr3t-value", "mail": "{SEEDED_EMAIL}"}}', encoding="utf-8")
    proc = veil("apply", "-d", "response", path, env=_env(VEIL_POLICY=str(policy)))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"secret": "[REDACTED:FIELD]", "mail": SEEDED_EMAIL}  # no default scan


@pytest.mark.parametrize(
    "payload",
    [
        b'{"password": "hunter2"',  # truncated
        b"hunter2",  # bare word
        b'{"password": hunter2}',  # unquoted value
        b"{'password': 'hunter2'}",  # single quotes
        b'{"password": "hunter2"} hunter2',  # trailing content
        b'{"password": "hunter2\x01"}',  # control character
        b'\xff{"password": "hunter2"}',  # not UTF-8
    ],
)
def test_apply_invalid_json_exits_1_without_echoing_payload(payload: bytes) -> None:
    proc = veil("apply", "-t", "application/json", "-", stdin=payload)
    assert proc.returncode == 1
    assert proc.stdout == b""
    _no_traceback(proc)
    assert b"not valid JSON" in proc.stderr
    assert b"hunter2" not in proc.stderr
    assert b"password" not in proc.stderr


def test_apply_with_invalid_policy_exits_2(policy_file: PolicyFile, tmp_path: Path) -> None:
    policy = policy_file(BAD_POLICY)
    proc = veil("apply", "-p", policy, "-t", "application/json", "-", stdin=b"{}")
    assert proc.returncode == 2
    _no_traceback(proc)
    assert re.match(rf"^{re.escape(str(policy))}:4:9: rules\[0\]\.fields\[0\]\.path: ", proc.stderr.decode())


# -- detect --------------------------------------------------------------------

DETECT_CASES = [
    # (id, text, seeded values that must be found, by type)
    ("ascii", f"mail {SEEDED_EMAIL} now", {"EMAIL": SEEDED_EMAIL}),
    ("accents-emoji", f"Zoë 😀 écrit: {SEEDED_EMAIL}, tél +44 20 7946 0958", {"EMAIL": SEEDED_EMAIL, "PHONE": "+44 20 7946 0958"}),
    ("cjk", f"連絡先は {SEEDED_EMAIL} です。電話 +44 20 7946 0958", {"EMAIL": SEEDED_EMAIL, "PHONE": "+44 20 7946 0958"}),
    ("none", "nothing personal here", {}),
]


def test_detect_jsonl_reports_str_offsets() -> None:
    """Offsets are character indices into the str, so text[start:end] is the seeded value."""
    stdin = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t, _ in DETECT_CASES)
    proc = veil("detect", "--jsonl", stdin=stdin.encode())
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [row["id"] for row in rows] == [i for i, _, _ in DETECT_CASES]
    for row, (_, text, seeded) in zip(rows, DETECT_CASES):
        assert all(set(f) == {"type", "start", "end"} for f in row["findings"])
        found = {f["type"]: text[f["start"]:f["end"]] for f in row["findings"]}
        assert found == seeded


def test_detect_skips_blank_lines_and_keeps_non_string_ids() -> None:
    proc = veil("detect", "--jsonl", stdin=b'\n{"id": 7, "text": "x"}\n\n{"text": "y"}\n')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines() == ['{"id": 7, "findings": []}', '{"id": null, "findings": []}']


@pytest.mark.parametrize(
    "line",
    [
        b"not json",  # not JSON
        b'{"id": 1}',  # no text
        b'{"id": 1, "text": 5}',  # text not a string
        b'["text"]',  # not an object
    ],
)
def test_detect_bad_line_exits_1_with_line_number(line: bytes) -> None:
    proc = veil("detect", "--jsonl", stdin=b'{"id": 1, "text": "ok"}\n' + line + b"\n")
    assert proc.returncode == 1
    _no_traceback(proc)
    assert proc.stderr.decode() == "<stdin>:2: expected a JSON object with a string 'text'\n"


def test_detect_without_jsonl_reads_plain_text() -> None:
    """Was a usage error; plain text is the default input now (issue #16; more in test_cli_commands)."""
    proc = veil("detect", stdin=f"mail {SEEDED_EMAIL}\n".encode())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"line": 1, "findings": [{"type": "EMAIL", "start": 5, "end": 21}]}


# -- detokenize ----------------------------------------------------------------


@pytest.fixture
def tokenized(policy_file: PolicyFile, tmp_path: Path) -> tuple[Path, Path]:
    policy = policy_file(TOKENIZE_POLICY)
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"user": {"email": SEEDED_EMAIL}, "n": 1}), encoding="utf-8")
    proc = veil("apply", "-p", policy, src, env=_env(VEIL_TOKEN_KEY=KEY_HEX))
    assert proc.returncode == 0, proc.stderr
    assert SEEDED_EMAIL.encode() not in proc.stdout
    assert re.fullmatch(r"tok_\w+", json.loads(proc.stdout)["user"]["email"])
    out = tmp_path / "tokenized.json"
    out.write_bytes(proc.stdout)
    return policy, out


def test_detokenize_with_policy_restores_original(tokenized: tuple[Path, Path]) -> None:
    policy, out = tokenized
    proc = veil("detokenize", "--policy", policy, out, env=_env(VEIL_TOKEN_KEY=KEY_HEX))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"user": {"email": SEEDED_EMAIL}, "n": 1}
    assert proc.stderr == b"veil detokenize: 1 token restored\n"


def test_detokenize_with_key_env_restores_original_from_stdin(tokenized: tuple[Path, Path]) -> None:
    _, out = tokenized
    proc = veil("detokenize", "--key-env", "MY_KEY", stdin=out.read_bytes(), env=_env(MY_KEY=KEY_HEX))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"user": {"email": SEEDED_EMAIL}, "n": 1}


def test_detokenize_with_wrong_key_leaves_tokens_unchanged_and_fails(tokenized: tuple[Path, Path]) -> None:
    """A token the key does not open is left as is, and is an error (issue #16: was exit 0)."""
    _, out = tokenized
    proc = veil("detokenize", "--key-env", "MY_KEY", out, env=_env(MY_KEY="cd" * 64))
    assert proc.returncode == 1
    assert proc.stdout == out.read_bytes()
    assert proc.stderr.decode().splitlines() == [
        "veil detokenize: 0 tokens restored",
        "veil detokenize: 1 token could not be opened: 1 made with another key or scope, or altered",
    ]


def test_detokenize_round_trip_keeps_json_valid_for_quotes_and_backslashes(policy_file: PolicyFile, tmp_path: Path) -> None:
    policy = policy_file(TOKENIZE_POLICY)
    doc = {"user": {"email": 'Jane "JJ" Roe \\ C:\\temp'}}
    src = tmp_path / "in.json"
    src.write_text(json.dumps(doc), encoding="utf-8")
    env = _env(VEIL_TOKEN_KEY=KEY_HEX)
    applied = veil("apply", "-p", policy, src, env=env)
    assert applied.returncode == 0, applied.stderr
    proc = veil("detokenize", "-p", policy, "-", stdin=applied.stdout, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == doc


def test_detokenize_non_utf8_input_fails_without_traceback() -> None:
    proc = veil("detokenize", "--key-env", "MY_KEY", "-", stdin=b"\xff\xfe tok_", env=_env(MY_KEY=KEY_HEX))
    assert proc.returncode in (1, 2)
    _no_traceback(proc)
    assert proc.stderr.startswith(b"veil detokenize: ")


def test_detokenize_plain_text_log_is_not_json_escaped(policy_file: PolicyFile, tmp_path: Path) -> None:
    policy = policy_file(TOKENIZE_POLICY)
    env = _env(VEIL_TOKEN_KEY=KEY_HEX)
    applied = veil("apply", "-p", policy, "-t", "application/json", "-",
                   stdin=json.dumps({"user": {"email": 'Jane "JJ" Roe'}}).encode(), env=env)
    token = json.loads(applied.stdout)["user"]["email"]
    log = tmp_path / "app.log"
    log.write_text(f"[2024-05-01 10:00] login {token}\n", encoding="utf-8")
    proc = veil("detokenize", "-p", policy, log, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == '[2024-05-01 10:00] login Jane "JJ" Roe\n'


def test_detokenize_with_policy_tries_every_keyring(policy_file: PolicyFile, tmp_path: Path) -> None:
    """Two tokenize keys in one policy: tokens made with the second are restored too (was: first only)."""
    policy = policy_file(
        "version: 1\n"
        "keys:\n  tokens: {env: VEIL_TOKEN_KEY}\n  ids: {env: VEIL_ID_KEY}\n"
        "rules:\n  - fields:\n"
        "      - {path: $.user.email, action: {type: tokenize, key: tokens}}\n"
        "      - {path: $.user.id, action: {type: tokenize, key: ids, scope: ids}}\n"
    )
    env = _env(VEIL_TOKEN_KEY=KEY_HEX, VEIL_ID_KEY="cd" * 64)
    doc = {"user": {"email": SEEDED_EMAIL, "id": "u-1234"}}
    applied = veil("apply", "-p", policy, "-t", "application/json", "-", stdin=json.dumps(doc).encode(), env=env)
    assert applied.returncode == 0, applied.stderr
    assert SEEDED_EMAIL.encode() not in applied.stdout and b"u-1234" not in applied.stdout
    proc = veil("detokenize", "-p", policy, "--scope", "", "--scope", "ids", "-", stdin=applied.stdout, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == doc
    assert proc.stderr == b"veil detokenize: 2 tokens restored\n"


def test_detokenize_with_unset_key_env_is_a_usage_error(tokenized: tuple[Path, Path]) -> None:
    _, out = tokenized
    proc = veil("detokenize", "--key-env", "MY_KEY", out)
    assert proc.returncode == 2
    assert proc.stderr == b"veil detokenize: environment variable MY_KEY is not set\n"


# -- demo ----------------------------------------------------------------------


def test_demo_proxies_requests_and_shows_nothing_sensitive_arrived_or_came_back() -> None:
    proc = veil("demo")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    sections = out.split("--- ")
    passed = [s for s in sections if s.startswith(("arrived upstream", "came back"))]
    sent = "".join(s for s in sections if s.startswith("client sent"))
    assert len(passed) == 4
    for secret in ("jane.doe@example.com", "Jane Doe", "hunter2", "4111", "AKIAIOSFODNN7EXAMPLE", "sk_live_51H",
                   "7946 0958", "203.0.113.7"):
        assert all(secret not in s.split("\nUpstream response, before veil:")[0] for s in passed), secret
    for secret in ("jane.doe@example.com", "hunter2", "AKIAIOSFODNN7EXAMPLE"):
        assert secret in sent
    assert "[REDACTED:" in "".join(passed)
    assert "veil proxy --upstream" in out


def test_payload_demo_prints_before_and_after_without_the_bundled_email() -> None:
    proc = veil("demo", "--payload")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    before, sep, after = out.partition("=== after")
    assert sep, "demo prints an 'after' section"
    assert before.startswith("=== before")
    assert "jane.roe@example.com" in before
    assert "jane.roe@example.com" not in after
    assert "findings:" in after


def test_console_script_entry_point_runs() -> None:
    """The installed ``veil`` script is the same program as ``python -m veil.cli``."""
    script = Path(sys.executable).parent / "veil"
    # `make test` installs veil into the venv it runs from, so the script must be there.
    assert script.exists(), f"console script missing: {script}"
    proc = subprocess.run([str(script), "apply", "-t", "text/plain", "-"], input=f"{SEEDED_EMAIL}\n".encode(),
                          capture_output=True, env=_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"[REDACTED:EMAIL]\n"
