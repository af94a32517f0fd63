"""``veil apply`` and ``veil detect`` defaults (issue #16): every rule applies unless narrowed,
every default is in ``--help``, and an input no rule applies to is said so, never silently passed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tests.test_cli import RESPONSE_ONLY_POLICY, SEEDED_EMAIL, PolicyFile, policy_file, veil
from veil.cli import build_parser
from veil.rules.compiler import compile_policy
from veil.rules.plan_types import Route

__all__ = ["policy_file"]  # the fixture, shared with test_cli

REQUEST_AND_RESPONSE_POLICY = """\
version: 1
rules:
  - id: request-card
    match: {direction: request}
    fields: [{path: $.card}]
  - id: response-secret
    match: {direction: response}
    fields: [{path: $.secret}]
"""

ORDERS_ONLY_POLICY = """\
version: 1
rules:
  - id: orders-secret
    match: {paths: ["/api/orders"], methods: [POST]}
    fields: [{path: $.secret}]
"""


@pytest.mark.parametrize(
    ("direction", "applied"),
    [
        ("any", {"request-card", "response-secret"}),
        ("request", {"request-card"}),
        ("response", {"response-secret"}),
    ],
)
def test_route_direction_any_takes_rules_of_every_direction(direction: str, applied: set[str]) -> None:
    plan = compile_policy(REQUEST_AND_RESPONSE_POLICY)
    assert {rule.id for rule in plan.view(Route(direction), "application/json").rules} == applied


@pytest.mark.parametrize(
    ("args", "card_kept", "secret_kept"),
    [
        ([], False, False),  # any: both rules
        (["-d", "any"], False, False),
        (["-d", "request"], False, True),
        (["-d", "response"], True, False),
    ],
)
def test_apply_default_direction_applies_rules_of_every_direction(
    policy_file: PolicyFile, args: list[str], card_kept: bool, secret_kept: bool
) -> None:
    policy = policy_file(REQUEST_AND_RESPONSE_POLICY)
    proc = veil("apply", "-p", policy, "-t", "application/json", *args, "-",
                stdin=b'{"card": "c-1", "secret": "s-1", "n": 1}')
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n"] == 1
    assert (out["card"] == "c-1") is card_kept
    assert (out["secret"] == "s-1") is secret_kept
    assert b"no rule" not in proc.stderr


def test_detect_default_direction_applies_response_rules(policy_file: PolicyFile) -> None:
    policy = policy_file("version: 1\nrules:\n  - match: {direction: response}\n    scan: true\n")
    line = json.dumps({"id": 1, "text": f"mail {SEEDED_EMAIL}"}).encode() + b"\n"
    found = veil("detect", "-p", policy, "--jsonl", stdin=line)
    assert found.returncode == 0, found.stderr
    assert [f["type"] for f in json.loads(found.stdout)["findings"]] == ["EMAIL"]
    narrowed = veil("detect", "-p", policy, "--jsonl", "-d", "request", stdin=line)
    assert narrowed.returncode == 0
    assert json.loads(narrowed.stdout)["findings"] == []
    assert b"veil detect: no rule of " in narrowed.stderr


@pytest.mark.parametrize(
    ("policy_text", "args", "why"),
    [
        (RESPONSE_ONLY_POLICY, ["-d", "request"], "direction request"),
        (ORDERS_ONLY_POLICY, [], "direction any"),  # no --path, no --method: the rule's match excludes it
        (ORDERS_ONLY_POLICY, ["--path", "/api/orders"], "path /api/orders"),  # method still missing
        (ORDERS_ONLY_POLICY, ["--method", "GET", "--path", "/api/orders"], "method GET"),
    ],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])  # document and line mode
def test_apply_says_when_no_rule_applies_and_exits_0(
    policy_file: PolicyFile, policy_text: str, args: list[str], why: str, content_type: str
) -> None:
    policy = policy_file(policy_text)
    body = b'{"secret": "s-1"}\n'
    proc = veil("apply", "-p", policy, "-t", content_type, *args, "-", stdin=body)
    assert proc.returncode == 0
    assert proc.stdout.rstrip(b"\n") == body.rstrip(b"\n")
    err = proc.stderr.decode()
    assert err.startswith(f"veil apply: no rule of {policy} applies to this input (")
    assert why in err
    assert err.count("\n") == 1
    assert "s-1" not in err


def test_apply_near_miss_rule_applies_no_warning(policy_file: PolicyFile) -> None:
    policy = policy_file(ORDERS_ONLY_POLICY)
    proc = veil("apply", "-p", policy, "-t", "application/json", "--method", "post", "--path", "/api/orders", "-",
                stdin=b'{"secret": "s-1"}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"secret": "[REDACTED:FIELD]"}
    assert proc.stderr == b""


def test_apply_explain_names_rules_the_filters_left_out(policy_file: PolicyFile) -> None:
    policy = policy_file(REQUEST_AND_RESPONSE_POLICY)
    proc = veil("apply", "-p", policy, "-t", "application/json", "-d", "response", "--explain", "-",
                stdin=b'{"card": "c-1", "secret": "s-1"}')
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode().splitlines()
    assert err[0] == "not applied (their match section excludes this input): request-card"
    assert any(line.startswith("response-secret: ") for line in err[1:])


def _options(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.Action]]:
    """Every (command, option) of the parser's subcommands, nested ones too, help excluded."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                command = f"{prefix}{name}"
                found += [(command, a) for a in sub._actions
                          if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
                found += _options(sub, f"{command} ")
    return found


def test_every_option_has_help_and_shows_its_default() -> None:
    options = _options(build_parser())
    assert {name for name, _ in options} >= {"check", "apply", "detect", "detokenize", "proxy", "demo", "keygen",
                                             "policy show"}
    for name, action in options:
        label = f"veil {name} {'/'.join(action.option_strings) or action.dest}"
        assert action.help, f"{label} has no help"
        if action.default not in (None, argparse.SUPPRESS):
            assert "default" in action.help, f"{label} does not show its default {action.default!r}"


def test_help_shows_direction_default() -> None:
    for command in ("apply", "detect"):
        proc = veil(command, "--help")
        assert proc.returncode == 0
        assert b"(default: any)" in proc.stdout
