"""Policy files in tests/corpus/policies: invalid ones fail with a pinned message, valid ones compile.

Each invalid file starts with ``# expect: <anchored regex>`` matched against the
first line of the error (``file:line:col: field: message``). A second line
``# xfail: <reason>`` marks a known defect: the regex then states what a user
needs, and the case is a strict xfail until veil produces it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from veil.errors import PolicyError
from veil.settings import load_policy

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "policies"

ENVIRON = {
    "VEIL_HASH_KEY": "ab" * 64,  # 64 bytes, hex
    "VEIL_TOKEN_KEY": "cd" * 64,
    "VEIL_OLD_TOKEN_KEY": "ef" * 64,
    "VEIL_SHORT_KEY": "ab" * 8,  # 8 bytes: too short for hash and AES-SIV
}

# Errors that exist before there is a data path to name: YAML syntax, a non-mapping document.
NO_FIELD = {"yaml_syntax.yaml", "yaml_unclosed_flow.yaml", "not_a_mapping.yaml"}  # YAML syntax errors come before any field


def _header(path: Path) -> tuple[str, str | None]:
    lines = path.read_text(encoding="utf-8").splitlines()
    expect = re.fullmatch(r"# expect: (.+)", lines[0])
    assert expect, f"{path.name}: first line must be '# expect: <regex>'"
    xfail = re.fullmatch(r"# xfail: (.+)", lines[1]) if len(lines) > 1 else None
    return expect.group(1), xfail.group(1) if xfail else None


def _invalid_cases() -> list[object]:
    cases: list[object] = []
    for path in sorted((CORPUS / "invalid").glob("*.yaml")):
        expect, xfail = _header(path)
        marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
        cases.append(pytest.param(path.name, expect, id=path.stem, marks=marks))
    return cases


def test_corpus_is_big_enough() -> None:
    """The invalid corpus covers at least 20 mistakes and the valid one at least 6 policies."""
    assert len(list((CORPUS / "invalid").glob("*.yaml"))) >= 20
    assert len(list((CORPUS / "valid").glob("*.yaml"))) >= 6


@pytest.mark.parametrize(("name", "expect"), _invalid_cases())
def test_invalid_policy_reports_file_line_column_field(
    name: str, expect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS / "invalid")
    with pytest.raises(PolicyError) as info:
        load_policy(name, environ=ENVIRON)
    err = info.value
    first = str(err).splitlines()[0]
    assert re.match(expect, first), f"{first!r} does not match {expect!r}"
    assert err.source == name
    assert err.line >= 1 and err.column >= 1
    if name not in NO_FIELD:
        assert err.field, "a located error names the field"
        assert first.startswith(f"{name}:{err.line}:{err.column}: {err.field}: ")


def test_several_problems_are_reported_one_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS / "invalid")
    with pytest.raises(PolicyError) as info:
        load_policy("several_errors.yaml", environ=ENVIRON)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert re.match(r"^several_errors\.yaml:5:7: rules\[0\]\.fields\[0\]\.path: invalid JSONPath", lines[0])
    assert re.match(r"^several_errors\.yaml:7:19: rules\[1\]\.scan\.detectors\[0\]: unknown detector 'NOPE'", lines[1])


def test_key_errors_never_quote_key_material(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key of the wrong length is reported by size, not by content."""
    monkeypatch.chdir(CORPUS / "invalid")
    with pytest.raises(PolicyError) as info:
        load_policy("token_key_too_short.yaml", environ=ENVIRON)
    assert ENVIRON["VEIL_SHORT_KEY"] not in str(info.value)


@pytest.mark.parametrize(
    "name", [pytest.param(p.name, id=p.stem) for p in sorted((CORPUS / "valid").glob("*.yaml"))]
)
def test_valid_policy_compiles(name: str) -> None:
    plan = load_policy(CORPUS / "valid" / name, environ=ENVIRON)
    summary = plan.summary()
    assert summary["rules"], "a compiled plan has at least one rule"
    assert summary["source"].endswith(name)


def test_valid_policy_with_env_key_fails_without_the_variable() -> None:
    """keys: resolve from the given environ only; a missing variable is a policy error, not a crash."""
    with pytest.raises(PolicyError, match=r"keys\.hash: environment variable VEIL_HASH_KEY is not set$"):
        load_policy(CORPUS / "valid" / "fields_and_actions.yaml", environ={"VEIL_TOKEN_KEY": "cd" * 64})
