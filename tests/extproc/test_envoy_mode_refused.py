"""A real Envoy whose ext_proc filter ignores veil's ``mode_override`` (``allow_mode_override: false``, the
static body modes NONE of the example): the bodies veil asks for never come and cross unread. veil fails
closed where Envoy lets it (``body_mode_refused``): a request's reply is replaced by veil's JSON error; a
response without trailers has already gone out when veil can tell, so it is logged and counted.

One Envoy, one ``veil extproc`` and one upstream serve the module.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.extproc.gateway import (
    example_config,
    has_envoy_extra,
    run_envoy,
    run_extproc,
)
from tests.extproc.upstream import Reply, Upstream, serve_upstream
from tests.servers import free_port

pytestmark = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")

POLICY = """\
version: 1
rules:
  - id: detectors
    scan:
      detectors: [EMAIL]
      action: redact
"""
DOC = b'{"email": "jane@example.com"}'
REFUSED = '{{"error":"veil_redaction_failed","reason":"body_mode_refused","direction":"{direction}"}}'
FIX = "set allow_mode_override: true in the ext_proc filter"


@dataclass
class Gateway:
    base: str
    upstream: Upstream
    admin: str
    log: Path
    grpc_port: int


def ext_proc_filter(config: dict[str, Any]) -> dict[str, Any]:
    [listener] = config["static_resources"]["listeners"]
    filters = listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    [found] = [f["typed_config"] for f in filters if f["name"] == "envoy.filters.http.ext_proc"]
    assert isinstance(found, dict)
    return found


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("envoy-mode-refused")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    port = free_port()
    with serve_upstream(free_port()) as upstream, run_extproc(policy, directory, port=port) as (ports, admin):
        config = example_config(free_port(), int(upstream.base.rpartition(":")[2]), ports, 1024 * 1024)
        ext_proc_filter(config)["allow_mode_override"] = False  # the setting a user's gateway lacks
        with run_envoy(config, directory) as base:
            yield Gateway(base, upstream, admin, directory / f"extproc-{port}.log", port)


def refusals(gateway: Gateway, direction: str) -> float:
    """``veil_errors_total`` for body_mode_refused in ``direction``, as the admin port says."""
    text = httpx.get(f"{gateway.admin}/metrics", timeout=5).text
    for line in text.splitlines():
        if (line.startswith("veil_errors_total{") and 'reason="body_mode_refused"' in line
                and f'direction="{direction}"' in line and 'adapter="extproc"' in line):
            return float(line.rpartition(" ")[2])
    return 0.0


def warnings(gateway: Gateway) -> list[str]:
    return [line for line in gateway.log.read_text().splitlines() if "body_mode_refused" in line]


def wait_for(check: Any, timeout: float = 10) -> None:
    """Until ``check()`` holds (the gRPC stream's end reaches veil just after the client's reply)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(0.05)


def test_the_example_sets_allow_mode_override() -> None:
    """The module's premise: the example's filter allows overrides, and only this module turns it off."""
    assert ext_proc_filter(example_config(1, 2, [3], 1024))["allow_mode_override"] is True


def test_request_body_the_gateway_never_sent_refuses_its_reply(gateway: Gateway) -> None:
    before, lines = refusals(gateway, "request"), len(warnings(gateway))
    with httpx.Client(timeout=20, trust_env=False) as c:
        r = c.post(f"{gateway.base}/users/1", content=DOC, headers={"content-type": "application/json"})
    assert (r.status_code, r.text) == (400, REFUSED.format(direction="request"))
    assert gateway.upstream.last.body == DOC  # Envoy let it cross before veil could tell: why this is an error
    assert refusals(gateway, "request") == before + 1
    new = warnings(gateway)[lines:]
    assert len(new) == 1 and FIX in new[0] and "jane" not in new[0] and "/users" not in new[0]


def test_response_body_the_gateway_never_sent_is_logged_and_counted(gateway: Gateway) -> None:
    before, lines = refusals(gateway, "response"), len(warnings(gateway))
    gateway.upstream.answer(Reply((DOC,)))
    with httpx.Client(timeout=20, trust_env=False) as c:
        r = c.get(f"{gateway.base}/users/1")
    assert r.status_code == 200  # its head and body went out before veil could tell (no trailers to refuse at)
    wait_for(lambda: refusals(gateway, "response") == before + 1)
    new = warnings(gateway)[lines:]
    assert len(new) == 1 and FIX in new[0] and "jane" not in new[0] and "/users" not in new[0]


def test_an_exchange_without_bodies_is_not_an_error(gateway: Gateway) -> None:
    """Near miss: nothing was asked for, nothing is missing. The refused POST after them is counted
    before its reply goes out, and by then the GETs' streams have ended: only it is counted."""
    before = refusals(gateway, "request") + refusals(gateway, "response")
    with httpx.Client(timeout=20, trust_env=False) as c:
        for n in (1, 2):
            gateway.upstream.answer(Reply((b"",)))
            assert c.get(f"{gateway.base}/users/{n}").status_code == 200
        gateway.upstream.answer(Reply((b"",)))
        assert c.post(f"{gateway.base}/users/3", content=DOC).status_code == 400
    assert refusals(gateway, "request") + refusals(gateway, "response") == before + 1


@contextmanager
def trailing_upstream() -> Iterator[int]:
    """An HTTP/1.1 upstream whose every reply is DOC, chunked, ending in a trailer (uvicorn sends none);
    yields its port. Each connection gets one reply and is closed."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head and (got := conn.recv(65536)):
                    head += got
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n"
                             b"trailer: x-done\r\n\r\n" + b"%x\r\n" % len(DOC) + DOC + b"\r\n0\r\nx-done: 1\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


def test_response_body_the_gateway_never_sent_fails_at_its_trailers(
    gateway: Gateway, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """With trailers veil can still answer: the client never gets the reply as complete. Envoy turns veil's
    refusal into its 502 JSON error while the head is still held, and resets the stream once it went out."""
    directory = tmp_path_factory.mktemp("envoy-trailers")
    with trailing_upstream() as port:
        config = example_config(free_port(), port, [gateway.grpc_port], 1024 * 1024)
        ext_proc_filter(config)["allow_mode_override"] = False
        [upstream] = [c for c in config["static_resources"]["clusters"] if c["name"] == "upstream"]
        upstream["typed_extension_protocol_options"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http_protocol_options": {"enable_trailers": True}}}}  # Envoy drops them else
        with run_envoy(config, directory) as base, httpx.Client(timeout=20, trust_env=False) as c:
            before = refusals(gateway, "response")
            try:
                r = c.get(f"{base}/users/1")
                outcome: tuple[int, str] = (r.status_code, r.text)
            except httpx.RemoteProtocolError:  # the stream was reset after the head went out
                outcome = (0, "")
    assert outcome in ((502, REFUSED.format(direction="response")), (0, ""))
    assert refusals(gateway, "response") == before + 1
