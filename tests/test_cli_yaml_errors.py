"""YAML indentation mistakes in user terms with file:line:col (issue #16), as ``veil check`` prints them.

Cases with a field live in tests/corpus/policies/invalid/yaml_indentation*.yaml; these have none
(the mistake comes before any field) or are near misses that must still compile."""

from __future__ import annotations

import pytest

from tests.test_cli import PolicyFile, _no_traceback, policy_file, veil

__all__ = ["policy_file"]  # the fixture, shared with test_cli

UNEXPECTED_COLON = ("invalid YAML: unexpected ':' at column {column}: a 'key: value' cannot start here; this line "
                    "may be indented further than the line before it allows, or a value holding ': ' needs quotes")


@pytest.mark.parametrize(
    ("text", "where", "column"),
    [
        ("version: 1\n rules:\n  - scan: true\n", "2:2", 7),  # a top-level key indented by one space
        ("version: 1\nrules:\n  - id: a\n    headers: [{name: x}]\n  - note: a: b\n", "5:3", 12),  # ': ' unquoted
    ],
)
def test_check_unexpected_colon_is_explained(policy_file: PolicyFile, text: str, where: str, column: int) -> None:
    path = policy_file(text)
    proc = veil("check", path)
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stderr.decode() == f"{path}:{where}: {UNEXPECTED_COLON.format(column=column)}\n"


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nrules:\n  - id: a\n    fields:\n      - path: $.a\n     action: drop\n",
        "version: 1\nrules:\n  - id: a\n    fields:\n      - path: $.a\n   - id: b\n",
        "version: 1\nrules:\n  - headers:\n    - name: x\n      - name: y\n",
    ],
)
def test_check_never_shows_pyyaml_token_names(policy_file: PolicyFile, text: str) -> None:
    proc = veil("check", policy_file(text))
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "bad indentation" in err
    assert "<block" not in err and "expected <" not in err


@pytest.mark.parametrize(
    "text",
    [
        'version: 1\nrules:\n  - id: a\n    headers: [{name: "a: b"}]\n',  # quoted ': ' is fine
        "version: 1\nrules:\n  - headers:\n    - name: x\n    - name: y\n",  # list items aligned
        "version: 1\nrules:\n  - headers:\n      - name: x\n      - name: y\n",  # indented further, consistently
    ],
)
def test_check_near_misses_compile(policy_file: PolicyFile, text: str) -> None:
    proc = veil("check", policy_file(text))
    assert proc.returncode == 0, proc.stderr
