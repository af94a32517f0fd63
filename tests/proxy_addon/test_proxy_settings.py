"""``veil proxy``'s settings: flags over ``VEIL_*`` variables over defaults, the admin port, the egress profile.

The table tests build :class:`ProxySettings` the way ``veil proxy`` does (the CLI's flags as
keyword arguments, the environment as ``monkeypatch`` sets it). One real ``veil proxy`` runs
with no arguments at all, configured only by its environment, as a container would start it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from veil.cli import build_parser, cmd_proxy
from veil.proxy_addon.run import mitmproxy_options
from veil.server_settings import DEFAULT_ADMIN_PORT, ProxySettings, env_var
from tests.proxy_addon.test_proxy_process import Upstream, run_upstream
from tests.servers import free_port, serve

WELL_KNOWN_PORTS = {
    9090: "Prometheus", 9091: "Pushgateway", 9093: "Alertmanager", 9100: "node exporter",
    9464: "OpenTelemetry's Prometheus exporter", 9901: "Envoy admin", 15000: "Istio/Envoy admin",
    15020: "Istio agent", 15090: "Istio Prometheus", 4191: "Linkerd admin", 8888: "OTel Collector metrics",
}


@pytest.fixture(autouse=True)
def no_veil_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment with no ``VEIL_*`` proxy variable."""
    for name in ProxySettings.model_fields:
        monkeypatch.delenv(env_var(name), raising=False)


def proxy_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = sub.choices["proxy"]
    return parser


# -- flags, variables, defaults ---------------------------------------------------------------------

CASES: list[tuple[str, dict[str, str], list[str], dict[str, Any]]] = [
    # (what, environment, command line, expected settings)
    ("variables alone configure everything",
     {"VEIL_UPSTREAM": "http://app:8000", "VEIL_LISTEN": "0.0.0.0:8080", "VEIL_METRICS_PORT": "9000",
      "VEIL_METRICS_HOST": "0.0.0.0", "VEIL_POLICY": "builtin:app", "VEIL_ON_ERROR": "passthrough",
      "VEIL_CONFDIR": "/etc/veil/ca"},
     [],
     {"upstream": "http://app:8000", "listen": "0.0.0.0:8080", "metrics_port": 9000, "metrics_host": "0.0.0.0",
      "policy": "builtin:app", "on_error": "passthrough", "confdir": "/etc/veil/ca", "egress": False}),
    ("a flag wins over its variable",
     {"VEIL_UPSTREAM": "http://app:8000", "VEIL_LISTEN": "0.0.0.0:8080", "VEIL_METRICS_PORT": "9000"},
     ["--listen", "127.0.0.1:9999", "--metrics-port", "0"],
     {"listen": "127.0.0.1:9999", "metrics_port": 0, "upstream": "http://app:8000"}),
    ("--egress on the command line replaces VEIL_UPSTREAM",
     {"VEIL_UPSTREAM": "http://app:8000"}, ["--egress"], {"egress": True, "upstream": None}),
    ("--upstream on the command line replaces VEIL_EGRESS",
     {"VEIL_EGRESS": "1"}, ["--upstream", "http://b:1"], {"egress": False, "upstream": "http://b:1"}),
    ("VEIL_EGRESS takes true as well as 1", {"VEIL_EGRESS": "true"}, [], {"egress": True}),
    ("VEIL_SET is split like a shell line",
     {"VEIL_EGRESS": "1", "VEIL_SET": 'flow_detail=0 "modify_headers=/~q/X-A/b c"'}, [],
     {"set": ("flow_detail=0", "modify_headers=/~q/X-A/b c")}),
    ("--set replaces VEIL_SET", {"VEIL_EGRESS": "1", "VEIL_SET": "a=1"}, ["--set", "b=2", "--set", "c=3"],
     {"set": ("b=2", "c=3")}),
    ("an empty variable counts as unset", {"VEIL_UPSTREAM": "http://a:1", "VEIL_METRICS_PORT": ""}, [],
     {"metrics_port": DEFAULT_ADMIN_PORT}),
    ("variables of other veil parts are not the proxy's",
     {"VEIL_UPSTREAM": "http://a:1", "VEIL_KEY": "00", "VEIL_PORT": "1"}, [], {"listen": "127.0.0.1:8080"}),
    ("defaults", {"VEIL_UPSTREAM": "http://a:1"}, [],
     {"listen": "127.0.0.1:8080", "metrics_port": DEFAULT_ADMIN_PORT, "metrics_host": "127.0.0.1", "policy": "",
      "on_error": "", "confdir": None, "set": (), "warm_seconds": 1.0}),
    ("the warm-up from its variable, off with 0 on the command line",
     {"VEIL_UPSTREAM": "http://a:1", "VEIL_WARM_SECONDS": "2.5"}, [], {"warm_seconds": 2.5}),
    ("--warm-seconds 0 turns the warm-up off", {"VEIL_UPSTREAM": "http://a:1", "VEIL_WARM_SECONDS": "2.5"},
     ["--warm-seconds", "0"], {"warm_seconds": 0.0}),
]


def settings_from(argv: list[str]) -> ProxySettings:
    """What ``veil proxy ARGV`` would run with: cmd_proxy's settings, captured instead of served."""
    captured: list[ProxySettings] = []

    def fake_serve(settings: ProxySettings) -> int:
        captured.append(settings)
        return 0

    args = build_parser().parse_args(["proxy", *argv])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("veil.proxy_addon.run.serve", fake_serve)
        assert cmd_proxy(args) == 0
    return captured[0]


@pytest.mark.parametrize(("what", "environ", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_settings_come_from_flags_then_variables_then_defaults(
    what: str, environ: dict[str, str], argv: list[str], expected: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = settings_from(argv)
    assert {name: getattr(settings, name) for name in expected} == expected


ERRORS = [
    # (environment, command line, what stderr must say)
    ({}, [], "give --upstream URL (VEIL_UPSTREAM) for a reverse proxy or --egress (VEIL_EGRESS=1)"),
    ({"VEIL_UPSTREAM": "http://a:1", "VEIL_EGRESS": "1"}, [], "not both or neither"),
    ({"VEIL_UPSTREAM": "http://a:1", "VEIL_METRICS_PORT": "nine"}, [], "--metrics-port (VEIL_METRICS_PORT): "),
    ({"VEIL_UPSTREAM": "http://a:1"}, ["--metrics-port", "70000"], "--metrics-port (VEIL_METRICS_PORT): "),
    ({"VEIL_UPSTREAM": "http://a:1", "VEIL_LISTEN": "8080"}, [], "--listen (VEIL_LISTEN): must be HOST:PORT"),
    ({"VEIL_EGRESS": "maybe"}, [], "--egress (VEIL_EGRESS): "),
    ({"VEIL_UPSTREAM": "http://a:1", "VEIL_ON_ERROR": "ignore"}, [], "--on-error (VEIL_ON_ERROR): "),
    ({"VEIL_UPSTREAM": "http://a:1"}, ["--warm-seconds", "-1"], "--warm-seconds (VEIL_WARM_SECONDS): "),
    ({"VEIL_UPSTREAM": "http://a:1", "VEIL_WARM_SECONDS": "soon"}, [], "--warm-seconds (VEIL_WARM_SECONDS): "),
]


@pytest.mark.parametrize(("environ", "argv", "message"), ERRORS)
def test_a_bad_setting_is_a_usage_error_naming_its_flag_and_variable(
    environ: dict[str, str], argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("veil.proxy_addon.run.serve", lambda settings: pytest.fail("served a bad configuration"))
    assert cmd_proxy(build_parser().parse_args(["proxy", *argv])) == 2
    err = capsys.readouterr().err
    assert err.startswith("veil proxy: ") and message in err


def test_every_proxy_option_is_a_setting_and_its_help_names_its_variable() -> None:
    options = [a for a in proxy_parser()._actions if a.dest != "help"]
    assert {a.dest for a in options} == set(ProxySettings.model_fields)
    for action in options:
        assert f"env: {env_var(action.dest)})" in (action.help or ""), action.dest


# -- the admin port ---------------------------------------------------------------------------------


def test_the_admin_port_default_is_one_constant_clear_of_well_known_monitoring_ports() -> None:
    assert DEFAULT_ADMIN_PORT not in WELL_KNOWN_PORTS, WELL_KNOWN_PORTS.get(DEFAULT_ADMIN_PORT)
    assert ProxySettings(egress=True).metrics_port == DEFAULT_ADMIN_PORT
    help_text = next(a.help for a in proxy_parser()._actions if a.dest == "metrics_port")
    assert f"default: {DEFAULT_ADMIN_PORT};" in (help_text or "")


# -- the policy each mode starts with ---------------------------------------------------------------

POLICIES = [
    # (environment, command line, veil_policy handed to the addon)
    ({}, ["--egress"], "builtin:egress"),
    ({}, ["--upstream", "http://a:1"], ""),  # "": the addon's default, builtin:strict
    ({}, ["--egress", "--policy", "builtin:strict"], "builtin:strict"),
    ({"VEIL_POLICY": "builtin:logs"}, ["--egress"], "builtin:logs"),
    ({"VEIL_POLICY": "builtin:logs"}, ["--upstream", "http://a:1"], "builtin:logs"),
]


@pytest.mark.parametrize(("environ", "argv", "policy"), POLICIES)
def test_egress_defaults_to_the_egress_profile_and_reverse_mode_to_strict(
    environ: dict[str, str], argv: list[str], policy: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert mitmproxy_options(settings_from(argv))["veil_policy"] == policy


# -- a real proxy configured by its environment alone -----------------------------------------------


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    with run_upstream(tmp_path_factory.mktemp("upstream")) as server:
        yield server


def test_veil_proxy_with_no_arguments_runs_from_its_environment_and_egress_keeps_the_vendor_credential(
    upstream: Upstream, tmp_path: Path,
) -> None:
    """``VEIL_EGRESS=1 ... veil proxy``: the client's own API key reaches its vendor, personal data does not."""
    port, admin_port = free_port(), free_port()
    env = {"VEIL_EGRESS": "1", "VEIL_LISTEN": f"127.0.0.1:{port}", "VEIL_METRICS_PORT": str(admin_port),
           "VEIL_CONFDIR": str(tmp_path / "confdir")}
    with serve(["veil.cli", "proxy"], port=port, ready="/readyz", log=tmp_path / "proxy.log", env=env,
               probe=lambda: httpx.get(f"http://127.0.0.1:{admin_port}/readyz", timeout=1).status_code == 200) as url:
        with httpx.Client(proxy=url, timeout=10) as client:
            reply = client.post(f"{upstream.url}/echo", json={"note": "mail jane@example.com"},
                                headers={"X-Test-Id": "env-egress", "Authorization": "Bearer sk-vendor-key-123"})
    assert reply.status_code == 200
    [record] = upstream.arrived("env-egress")
    assert ["authorization", "Bearer sk-vendor-key-123"] in record["headers"]
    assert "jane@example.com" not in record["body"]
