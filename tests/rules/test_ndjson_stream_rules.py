"""An NDJSON body is redacted under the same rules whether it streams line by line or is read whole.

Adapters stream an identity-encoded NDJSON reply and buffer an encoded one (``veil.http.bodies``),
and ``veil apply`` reads an NDJSON file line by line: the lines used to be matched as
``application/json`` when streamed and as the body's own type when whole, so a rule's
``content_types`` applied in one mode only (the README's "Narrowing the default" policy redacted a
plain export and passed the gzipped one; a rule for ``application/x-ndjson`` did the opposite).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from veil import Route, compile_policy, default_plan
from veil.rules.stream_redact import StreamRedactor

JSON_ONLY = """version: 1
rules:
  - match: {direction: response, content_types: ["application/json", "application/*+json"]}
    classify: true
    scan: {detectors: [EMAIL, PHONE, CREDIT_CARD, US_SSN, IBAN]}
"""
NDJSON_ONLY = """version: 1
rules:
  - match: {content_types: ["application/x-ndjson", "application/jsonl"]}
    fields:
      - {path: "$.secret_ref", action: redact}
"""
BODY = (b'{"email": "jane@example.com", "note": "card 4111 1111 1111 1111", "secret_ref": "abc"}\n'
        b'{"n": 1}\n\n{"secret_ref": "def", "to": "+44 20 7946 0958"}\n')


def _streamed(plan: object, route: Route, chunk: int) -> bytes:
    redactor = StreamRedactor(plan, route, "ndjson")  # type: ignore[arg-type]
    out = b"".join(redactor.feed(BODY[i : i + chunk]) for i in range(0, len(BODY), chunk))
    return out + redactor.close()


@pytest.mark.parametrize("policy", [JSON_ONLY, NDJSON_ONLY, None], ids=["json-only", "ndjson-only", "default"])
@pytest.mark.parametrize("ctype", ["application/x-ndjson", "application/jsonl", "application/x-ndjson; charset=utf-8"])
@pytest.mark.parametrize("chunk", [1, 7, len(BODY)])
def test_streamed_lines_equal_the_whole_body(policy: str | None, ctype: str, chunk: int) -> None:
    plan = compile_policy(policy) if policy else default_plan()
    route = Route("response", "GET", "api.example.com", "/export", ctype)
    whole = plan.redact_body(BODY, ctype, route).output
    assert _streamed(plan, route, chunk) == whole


def test_each_policy_decides_as_its_content_types_say() -> None:
    route = Route("response", "GET", "api.example.com", "/export", "application/x-ndjson")
    assert _streamed(compile_policy(JSON_ONLY), route, 5) == BODY  # no rule for NDJSON: unchanged both ways
    out = _streamed(compile_policy(NDJSON_ONLY), route, 5)
    assert b'"abc"' not in out and b'"def"' not in out and b"jane@example.com" in out


@pytest.mark.parametrize("policy", [JSON_ONLY, NDJSON_ONLY], ids=["json-only", "ndjson-only"])
def test_veil_apply_line_by_line_equals_the_whole_file(tmp_path: Path, policy: str) -> None:
    (tmp_path / "policy.yaml").write_text(policy)
    (tmp_path / "export.ndjson").write_bytes(BODY)
    route = Route("response", "", "", "", "application/x-ndjson")
    whole = compile_policy(policy).redact_body(BODY, "application/x-ndjson", route).output
    run = subprocess.run(
        [sys.executable, "-m", "veil.cli", "apply", "--policy", str(tmp_path / "policy.yaml"), "--direction", "response",
         "-t", "application/x-ndjson", str(tmp_path / "export.ndjson")],
        capture_output=True, check=True,
    )
    assert run.stdout == whole
