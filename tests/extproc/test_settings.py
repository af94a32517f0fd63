"""``veil extproc`` and ``veil envoy`` read ``veil proxy``'s ``VEIL_*`` variables for the options they share with
it: a flag wins over its variable, the variable over the default (issue 17's audit; the proxy's own table is
tests/proxy_addon/test_proxy_settings.py).

The table tests capture the configuration each command would run with, the way that module does;
one real ``veil extproc`` takes its admin port from ``VEIL_METRICS_PORT`` alone.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.extproc.gateway import has_envoy_extra
from tests.servers import free_port, serve
from veil.cli import build_parser, cmd_envoy, cmd_extproc
from veil.server_settings import (
    DEFAULT_ADMIN_PORT,
    EnvoySettings,
    ExtProcSettings,
    ProxySettings,
    ServerSettings,
    env_var,
)

pytestmark = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")

COMMANDS = ("extproc", "envoy")
UPSTREAM = ["--upstream", "http://app:8000"]  # veil envoy's one required option


def required(command: str) -> list[str]:
    return UPSTREAM if command == "envoy" else []


@pytest.fixture(autouse=True)
def no_veil_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment with no ``VEIL_*`` server variable."""
    for name in {*ProxySettings.model_fields, *EnvoySettings.model_fields, "workers", "extproc_port"}:
        monkeypatch.delenv(env_var(name), raising=False)


def subparser(command: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = sub.choices[command]
    return parser


def run_config(command: str, argv: list[str]) -> Any:
    """What ``veil COMMAND ARGV`` would run with: the ExtProcConfig or SidecarConfig, captured instead of run."""
    captured: list[Any] = []

    def capture(config: Any, **_: Any) -> int:
        captured.append(config)
        return 0

    args = build_parser().parse_args([command, *argv])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("veil.extproc.run.serve", capture)
        patch.setattr("veil.extproc.sidecar.run_sidecar", capture)
        assert (cmd_extproc if command == "extproc" else cmd_envoy)(args) == 0
    return captured[0]


CASES: list[tuple[str, dict[str, str], list[str], dict[str, Any]]] = [
    # (what, environment, command line, expected configuration)
    ("the variables configure every option shared with veil proxy",
     {"VEIL_METRICS_PORT": "9000", "VEIL_METRICS_HOST": "0.0.0.0", "VEIL_POLICY": "builtin:app",
      "VEIL_LISTEN": "0.0.0.0:7000", "VEIL_POLICY_HEADER": "1", "VEIL_WARM_SECONDS": "2.5"},
     [],
     {"metrics_port": 9000, "metrics_host": "0.0.0.0", "policy": "builtin:app", "listen": "0.0.0.0:7000",
      "policy_header": True, "warm_seconds": 2.5}),
    ("a flag wins over its variable",
     {"VEIL_METRICS_PORT": "9000", "VEIL_POLICY": "builtin:app", "VEIL_LISTEN": "0.0.0.0:7000",
      "VEIL_WARM_SECONDS": "2.5"},
     ["--metrics-port", "0", "--policy", "builtin:strict", "--listen", "127.0.0.1:7001", "--warm-seconds", "0"],
     {"metrics_port": 0, "policy": "builtin:strict", "listen": "127.0.0.1:7001", "warm_seconds": 0.0}),
    ("a flag equal to its default still wins over the variable",
     {"VEIL_METRICS_PORT": "9000"}, ["--metrics-port", str(DEFAULT_ADMIN_PORT)], {"metrics_port": DEFAULT_ADMIN_PORT}),
    ("a flag wins over the variable for that option only",
     {"VEIL_METRICS_PORT": "9000", "VEIL_METRICS_HOST": "0.0.0.0"}, ["--metrics-port", "0"],
     {"metrics_port": 0, "metrics_host": "0.0.0.0"}),
    ("an empty variable counts as unset", {"VEIL_METRICS_PORT": "", "VEIL_POLICY": ""}, [],
     {"metrics_port": DEFAULT_ADMIN_PORT, "policy": ""}),
    ("VEIL_POLICY_HEADER takes true as well as 1", {"VEIL_POLICY_HEADER": "true"}, [], {"policy_header": True}),
    ("variables of options not shared with veil proxy are not read",
     {"VEIL_WORKERS": "3", "VEIL_EXTPROC_PORT": "7100", "VEIL_ON_ERROR": "ignore", "VEIL_CONFDIR": "/nowhere"}, [],
     {"workers": 1}),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("what", "environ", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_shared_options_come_from_flags_then_variables_then_defaults(
    command: str, what: str, environ: dict[str, str], argv: list[str], expected: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    config = run_config(command, [*required(command), *argv])
    assert {name: getattr(config, name) for name in expected} == expected


@pytest.mark.parametrize("command", COMMANDS)
def test_without_variables_each_option_has_the_parsers_default(command: str) -> None:
    """The defaults the help states are the ones that run (the settings' defaults cannot drift from argparse's)."""
    parsed = build_parser().parse_args([command, *required(command)])
    config = run_config(command, required(command))
    shared = set(ExtProcSettings.model_fields) - {"listen", "policy"}
    assert {name: getattr(config, name) for name in shared} == {name: getattr(parsed, name) for name in shared}
    assert parsed.policy is None and config.policy == ""  # both: the built-in default
    assert config.listen == parsed.listen == ("127.0.0.1:50051" if command == "extproc" else "127.0.0.1:8080")
    assert config.metrics_port == DEFAULT_ADMIN_PORT and config.warm_seconds == 1.0


def test_veil_envoy_takes_its_upstream_from_veil_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_UPSTREAM", "http://app:9000")
    assert run_config("envoy", []).upstream == "http://app:9000"
    assert run_config("envoy", ["--upstream", "http://other:1"]).upstream == "http://other:1"


ERRORS = [
    # (command, environment, command line, the whole of stderr)
    ("extproc", {"VEIL_METRICS_PORT": "nine"}, [],
     r"veil extproc: --metrics-port \(VEIL_METRICS_PORT\): Input should be a valid integer.*, got 'nine'"),
    ("envoy", {"VEIL_METRICS_PORT": "nine"}, UPSTREAM,
     r"veil envoy: --metrics-port \(VEIL_METRICS_PORT\): Input should be a valid integer.*, got 'nine'"),
    ("extproc", {}, ["--metrics-port", "70000"],  # a flag is held to the same range
     r"veil extproc: --metrics-port \(VEIL_METRICS_PORT\): Input should be less than or equal to 65535, got 70000"),
    ("envoy", {"VEIL_WARM_SECONDS": "soon"}, UPSTREAM,
     r"veil envoy: --warm-seconds \(VEIL_WARM_SECONDS\): Input should be a valid number.*, got 'soon'"),
    ("extproc", {"VEIL_POLICY_HEADER": "maybe"}, [],
     r"veil extproc: --policy-header \(VEIL_POLICY_HEADER\): Input should be a valid boolean.*, got 'maybe'"),
    ("envoy", {}, [], r"veil envoy: give --upstream URL \(VEIL_UPSTREAM\): the app Envoy is in front of"),
]


@pytest.mark.parametrize(("command", "environ", "argv", "message"), ERRORS)
def test_a_bad_setting_is_a_usage_error_naming_its_flag_and_variable(
    command: str, environ: dict[str, str], argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("veil.extproc.run.serve", lambda *a, **k: pytest.fail("served a bad configuration"))
    monkeypatch.setattr("veil.extproc.sidecar.run_sidecar", lambda *a, **k: pytest.fail("ran a bad configuration"))
    args = build_parser().parse_args([command, *argv])
    assert (cmd_extproc if command == "extproc" else cmd_envoy)(args) == 2
    assert re.fullmatch(message + r"\n", capsys.readouterr().err)


@pytest.mark.parametrize(("command", "settings"), [("extproc", ExtProcSettings), ("envoy", EnvoySettings)])
def test_exactly_the_options_shared_with_veil_proxy_name_their_variable_in_their_help(
    command: str, settings: type[ServerSettings],
) -> None:
    assert set(settings.model_fields) <= set(ProxySettings.model_fields)  # veil proxy's variables, no new ones
    options = [a for a in subparser(command)._actions if a.dest != "help" and a.help != argparse.SUPPRESS]
    with_variable = {a.dest for a in options if f"env: {env_var(a.dest)})" in (a.help or "")}
    assert with_variable == set(settings.model_fields)
    assert not [a.dest for a in options if a.dest not in with_variable and "env:" in (a.help or "")]


def test_veil_extproc_serves_its_admin_port_from_veil_metrics_port(tmp_path: Path) -> None:
    """No --metrics-port on the command line: the admin endpoints are on the variable's port (the wait for
    /readyz to answer 200 there fails the test otherwise)."""
    admin = free_port()
    args = ["veil", "extproc", "--listen", f"127.0.0.1:{free_port()}", "--policy", "builtin:strict"]
    env = {"VEIL_METRICS_PORT": str(admin), "VEIL_WARM_SECONDS": "0"}

    def ready() -> bool:
        return httpx.get(f"http://127.0.0.1:{admin}/readyz", timeout=1, trust_env=False).status_code == 200

    with serve(args, port=admin, ready="/readyz", log=tmp_path / "extproc.log", env=env, probe=ready) as base:
        metrics = httpx.get(f"{base}/metrics", timeout=5, trust_env=False)
    assert metrics.status_code == 200 and "veil_" in metrics.text
