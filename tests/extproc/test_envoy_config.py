"""The Envoy configuration ``veil envoy`` generates, and the example users copy, agree and load (issue 17)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("grpc", reason="needs veil[envoy]")  # veil.extproc needs it to import

from tests.extproc.gateway import EXAMPLE, envoy_path, has_envoy_extra
from veil.extproc.envoy_config import (
    BUFFER_SLACK,
    envoy_config,
    ext_proc_filter,
    upstream_of,
)


def _example_filter() -> dict[str, Any]:
    config = yaml.safe_load(EXAMPLE.read_text())
    [listener] = config["static_resources"]["listeners"]
    [chain] = listener["filter_chains"]
    [manager] = chain["filters"]
    filters = manager["typed_config"]["http_filters"]
    [ext_proc] = [f for f in filters if f["name"] == "envoy.filters.http.ext_proc"]
    return dict(ext_proc)


def test_example_uses_the_same_ext_proc_filter_as_veil_envoy() -> None:
    assert _example_filter() == ext_proc_filter()


def test_fail_closed_settings_are_on() -> None:
    typed = ext_proc_filter()["typed_config"]
    assert typed["failure_mode_allow"] is False
    assert typed["allow_mode_override"] is True
    assert typed["mutation_rules"] == {"disallow_is_error": True}
    # No body before veil answered the headers: a static BUFFERED mode has Envoy answer 413 itself when
    # more than its buffer arrives first (a large upload), STREAMED or BUFFERED_PARTIAL drop Content-Length.
    modes = typed["processing_mode"]
    assert (modes["request_body_mode"], modes["response_body_mode"]) == ("NONE", "NONE")


def test_buffer_limits_follow_the_policy_limit() -> None:
    config = envoy_config(("127.0.0.1", 8080), "http://127.0.0.1:8000", [50051, 50052], max_body_bytes=1000)
    resources = config["static_resources"]
    assert resources["listeners"][0]["per_connection_buffer_limit_bytes"] == 1000 + BUFFER_SLACK
    clusters = {c["name"]: c for c in resources["clusters"]}
    assert clusters["upstream"]["per_connection_buffer_limit_bytes"] == 1000 + BUFFER_SLACK
    # ...and declared to veil, which reads a body within it that ends in trailers as whole.
    manager = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    [ext_proc] = [f["typed_config"] for f in manager["http_filters"] if f["name"] == "envoy.filters.http.ext_proc"]
    assert ext_proc["grpc_service"]["initial_metadata"] == [{"key": "veil-buffer-limit-bytes",
                                                               "value": str(1000 + BUFFER_SLACK)}]
    endpoints = clusters["veil_extproc"]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert [e["endpoint"]["address"]["socket_address"]["port_value"] for e in endpoints] == [50051, 50052]


@pytest.mark.parametrize(("url", "parsed"), [
    ("http://127.0.0.1:8000", ("http", "127.0.0.1", 8000)),
    ("http://app", ("http", "app", 80)),
    ("https://api.example.com/", ("https", "api.example.com", 443)),
])
def test_upstream_url(url: str, parsed: tuple[str, str, int]) -> None:
    assert upstream_of(url) == parsed


@pytest.mark.parametrize(("url", "message"), [
    ("127.0.0.1:8000", "must be an http:// or https:// URL"),  # no scheme
    ("ftp://host", "must be an http:// or https:// URL"),
    ("http://host/api", "takes no path or query"),  # near miss of "/" alone
    ("http://host/?a=1", "takes no path or query"),
])
def test_upstream_url_errors_say_what_is_expected(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        upstream_of(url)


@pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")
@pytest.mark.parametrize("upstream", ["http://127.0.0.1:8000", "https://api.example.com"])
def test_envoy_accepts_the_generated_configuration(tmp_path: Path, upstream: str) -> None:
    path = tmp_path / "envoy.json"
    path.write_text(json.dumps(envoy_config(("127.0.0.1", 8080), upstream, [50051], max_body_bytes=10, admin_port=9901)))
    done = subprocess.run([str(envoy_path()), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
