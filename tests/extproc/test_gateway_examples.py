"""The gateway examples users copy (examples/gateways/) say what veil's own Envoy configuration says:
fail closed, veil chooses the body mode, the ports of the processor's Deployment agree (issue 17).
The plain Envoy one is run for real by test_envoy_e2e.py."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

pytest.importorskip("grpc", reason="needs veil[envoy]")  # veil.extproc needs it to import

from tests.servers import ROOT
from veil.cli import build_parser
from veil.extproc.envoy_config import BUFFER_LIMIT_METADATA, ext_proc_filter

GATEWAYS = ROOT / "examples" / "gateways"


def _documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((GATEWAYS / name).read_text()) if doc]


def _without_service(typed: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in typed.items() if key != "grpc_service"}


def test_istio_filter_matches_veil_envoys_filter_but_for_its_cluster() -> None:
    [envoy_filter] = _documents("istio-envoyfilter.yaml")
    [patch] = envoy_filter["spec"]["configPatches"]
    assert (patch["applyTo"], patch["patch"]["operation"]) == ("HTTP_FILTER", "INSERT_BEFORE")
    value = patch["patch"]["value"]
    assert value["name"] == "envoy.filters.http.ext_proc"
    assert _without_service(value["typed_config"]) == _without_service(ext_proc_filter()["typed_config"])
    service = value["typed_config"]["grpc_service"]
    assert service["envoy_grpc"]["cluster_name"].startswith("outbound|50051||veil-extproc.")
    # The sidecar's buffer limit, declared as veil envoy declares its own: a body ending in trailers is read whole.
    [declared] = service["initial_metadata"]
    assert declared["key"] == BUFFER_LIMIT_METADATA and declared["value"] == str(1 << 20)


def test_envoy_gateway_policy_fails_closed_and_lets_veil_choose_the_mode() -> None:
    [policy] = _documents("envoy-gateway-extension-policy.yaml")
    assert policy["kind"] == "EnvoyExtensionPolicy"
    [ext_proc] = policy["spec"]["extProc"]
    assert ext_proc["failOpen"] is False
    assert ext_proc["processingMode"]["allowModeOverride"] is True
    # Headers sent, no body before veil asked for one (envoy_config.ext_proc_filter says why).
    assert ext_proc["processingMode"]["request"] == ext_proc["processingMode"]["response"] == {}
    assert ext_proc["messageTimeout"] == "10s"
    assert ext_proc["backendRefs"][0]["port"] == 50051


def test_processor_deployment_runs_a_command_veil_accepts_on_the_ports_it_exposes() -> None:
    service, deployment = _documents("veil-extproc.yaml")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "veil"
    args = build_parser().parse_args(container["args"][1:])
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert args.command == "extproc"
    assert int(args.listen.rpartition(":")[2]) == ports["grpc"] == service["spec"]["ports"][0]["port"]
    assert args.metrics_port == ports["admin"]
