"""What the proxy process writes to its log on failure paths (issue #15): reason codes, the
method and the ids of the policy rules that apply, never payload text nor the raw path.

Real processes on loopback: the upstreams of ``test_proxy_process.py`` and
``test_websocket_process.py``, and the proxy as ``veil proxy`` and as ``mitmdump -s``. Every
request seeds ``jane@example.com`` in its path, its query and its body; the test then reads the
proxy's whole output (stdout and stderr).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest

import veil
from tests.proxy_addon.test_proxy_process import Proxy, run_proxy, run_upstream
from tests.proxy_addon.test_websocket_process import EchoServer, echo_server  # noqa: F401 (fixture)
from tests.proxy_addon.ws_client import Closed, WebSocketClient
from tests.servers import free_port, serve

EMAIL = "jane@example.com"
SEEDED = f"/users/{EMAIL}/orders?owner={EMAIL}"


def addon_script() -> str:
    return subprocess.run([sys.executable, "-m", "veil.proxy_addon"], capture_output=True, text=True,
                          check=True).stdout.strip()


@contextmanager
def run_mitmdump(directory: Path, upstream: str, *options: str) -> Iterator[Proxy]:
    """``mitmdump -s <veil's script>`` in reverse mode, logging at info level (veil's warnings included)."""
    port, admin_port = free_port(), free_port()
    admin = f"http://127.0.0.1:{admin_port}"
    log = directory / "mitmdump.log"
    args = ["tests.proxy_addon.mitmdump_main", "-s", addon_script(), "--mode", f"reverse:{upstream}",
            "--listen-host", "127.0.0.1", "--listen-port", str(port), "--set", f"confdir={directory / 'confdir'}",
            "--set", f"veil_metrics_port={admin_port}", "--set", "termlog_verbosity=info", *options]
    with serve(args, port=port, ready="/readyz", log=log,
               probe=lambda: httpx.get(f"{admin}/readyz", timeout=1).status_code == 200) as url:
        yield Proxy(url, admin, log)


Starter = Callable[[Path, str], AbstractContextManager[Proxy]]
STARTERS: dict[str, Starter] = {
    "veil-proxy": lambda directory, upstream: run_proxy(directory, "--upstream", upstream),
    "mitmdump-script": lambda directory, upstream: run_mitmdump(directory, upstream, "--set", "flow_detail=0"),
}


@pytest.mark.parametrize("start", STARTERS, ids=list(STARTERS))
def test_failure_paths_log_reasons_and_rule_ids_never_the_path_or_the_body(
    start: str, tmp_path: Path, echo_server: EchoServer,  # noqa: F811
) -> None:
    broken = b'{"email": "' + EMAIL.encode() + b'", '
    json_type = {"content-type": "application/json"}
    with run_upstream(tmp_path) as upstream, STARTERS[start](tmp_path, upstream.url) as proxy:
        refused = httpx.post(proxy.url + SEEDED, content=broken, headers=json_type, timeout=10)
        bad_gzip = httpx.post(proxy.url + SEEDED, content=b"x" * 40, timeout=10,
                              headers={**json_type, "content-encoding": "gzip"})
        replaced = httpx.get(f"{proxy.url}/bad-json?owner={EMAIL}", timeout=10)
    (tmp_path / "ws").mkdir()
    with STARTERS[start](tmp_path / "ws", echo_server.url) as ws_proxy:
        with WebSocketClient(ws_proxy.url.replace("http://", "ws://") + f"/ws/{EMAIL}?test=log") as ws:
            ws.send(EMAIL.encode())  # binary: dropped, the connection closed
            with pytest.raises(Closed):
                ws.receive()
    assert (refused.status_code, bad_gzip.status_code, replaced.status_code) == (400, 400, 502)
    log, ws_log = proxy.log.read_text(), ws_proxy.log.read_text()
    for text in (log, ws_log):
        assert EMAIL not in text and "jane" not in text, text
    for reason in ("invalid_json", "bad_encoding"):
        assert f"request redaction failed: {reason}" in log
    assert "response redaction failed: invalid_json" in log
    assert "binary_message" in ws_log
    rule_ids = {rule.id for rule in veil.default_plan().rules}
    assert any(f"rules: {rule_id}" in log for rule_id in rule_ids), log


@pytest.mark.parametrize("detail", ["1", "3"])
def test_mitmdump_never_prints_a_flow_before_veil_has_rewritten_it(tmp_path: Path, detail: str) -> None:
    """mitmdump's dumper prints each flow (URL from flow_detail 1, headers from 2, bodies from 3) in its
    own ``response`` hook, which runs before veil's: veil turns it off, and says so."""
    with run_upstream(tmp_path) as upstream, run_mitmdump(tmp_path, upstream.url, "--set",
                                                          f"flow_detail={detail}") as proxy:
        refused = httpx.post(proxy.url + SEEDED, content=b'{"email": "' + EMAIL.encode() + b'", ', timeout=10,
                             headers={"content-type": "application/json"})
        profile = httpx.get(f"{proxy.url}/profile?owner={EMAIL}", timeout=10)
    assert refused.status_code == 400 and profile.status_code == 200 and EMAIL not in profile.text
    log = proxy.log.read_text()
    assert EMAIL not in log and "jane" not in log, log
    assert f"flow_detail={detail} would make mitmdump print flows" in log
