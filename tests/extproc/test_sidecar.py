"""``veil envoy``: a real Envoy with a generated configuration and ``veil extproc``, supervised, stopped
cleanly (issue 17). One sidecar serves the module; the stop test runs its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.extproc.gateway import has_envoy_extra
from tests.extproc.test_workers import children, wait
from tests.extproc.upstream import Upstream, serve_upstream
from tests.servers import ROOT, free_port
from veil.cli import main
from veil.extproc.sidecar import free_ports
from veil.extproc.workers import accepts

pytestmark = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")

# Above Envoy's default buffer (1 MiB): a body between the two only passes when Envoy's limits follow the policy's.
LIMIT = 6 * 1024 * 1024
POLICY = f"""\
version: 1
limits: {{max_body_bytes: {LIMIT}}}
rules:
  - id: pii
    scan: {{detectors: [EMAIL], action: redact}}
"""


def start_sidecar(policy: Path, upstream: Upstream, log: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str, int]:
    """``veil envoy`` in front of ``upstream``: (process, base URL, first ext_proc port), once Envoy answers."""
    port, extproc = free_port(), free_ports(1)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "veil", "envoy", "--upstream", upstream.base,
                                 "--listen", f"127.0.0.1:{port}", "--policy", str(policy), "--extproc-port",
                                 str(extproc), "--metrics-port", "0", *extra],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            httpx.get(f"{base}/sidecar-ready", timeout=1)
            return proc, base, extproc
        except httpx.TransportError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Upstream]]:
    directory = tmp_path_factory.mktemp("sidecar")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    with serve_upstream(free_port()) as upstream:
        proc, base, _ = start_sidecar(policy, upstream, directory / "sidecar.log")
        try:
            yield base, upstream
        finally:
            stop(proc)


def test_sidecar_redacts_what_crosses_it(sidecar: tuple[str, Upstream]) -> None:
    base, upstream = sidecar
    with httpx.Client(timeout=10, trust_env=False) as c:
        r = c.post(f"{base}/v1/items", content=b'{"email": "jane@example.com"}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert upstream.last.body == b'{"email": "[REDACTED:EMAIL]"}'


@pytest.mark.parametrize(("size", "status"), [
    (5 * 1024 * 1024, 200),  # over Envoy's default 1 MiB buffer and gRPC's default 4 MiB message, under the policy's 6 MiB
    (LIMIT + 1, 413),  # over the policy's limit: veil's own refusal
])
def test_envoy_buffer_limits_follow_the_policy(sidecar: tuple[str, Upstream], size: int, status: int) -> None:
    base, upstream = sidecar
    body = _document(size).replace(b"y" * 18, b" jane@example.com ", 1)  # rewritten: a large reply from veil too
    with httpx.Client(timeout=20, trust_env=False) as c:
        r = c.post(f"{base}/v1/upload", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    if status == 200:
        assert upstream.last.body == body.replace(b"jane@example.com", b"[REDACTED:EMAIL]")
    else:
        assert r.json()["reason"] == "body_too_large"


def _document(size: int) -> bytes:
    """A JSON list of strings of exactly ``size`` bytes, none over the default max_string_bytes (1 MiB)."""
    piece = 64 * 1024
    strings = ["x" * piece] * (size // (piece + 3))
    text = json.dumps(strings, separators=(",", ":"))
    pad = size - len(text) - (3 if strings else 2)  # ',"' + '"' (or '["' + '"]' alone)
    text = text[:-1] + ("," if strings else "") + json.dumps("y" * pad) + "]"
    assert len(text) == size
    return text.encode()


def test_sigterm_stops_envoy_and_the_processor(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    with serve_upstream(free_port()) as upstream:
        proc, base, extproc = start_sidecar(policy, upstream, tmp_path / "sidecar.log")
        port = int(base.rpartition(":")[2])
        assert accepts("127.0.0.1", port) and accepts("127.0.0.1", extproc)
        assert stop(proc) == 0
    assert not accepts("127.0.0.1", port), "Envoy still listens"
    assert not accepts("127.0.0.1", extproc), "the processor still listens"


def test_a_processor_that_dies_stops_envoy_and_the_sidecar_exits_1_naming_it(tmp_path: Path) -> None:
    """SIGKILL to ``veil extproc``: ``veil envoy`` says which child died, stops Envoy itself, and exits 1."""
    policy, log = tmp_path / "policy.yaml", tmp_path / "sidecar.log"
    policy.write_text(POLICY)
    with serve_upstream(free_port()) as upstream:
        proc, base, _ = start_sidecar(policy, upstream, log)
        try:
            extproc, envoy = _extproc_and_envoy(proc.pid)
            os.kill(extproc, signal.SIGKILL)
            assert proc.wait(timeout=30) == 1, log.read_text()
        finally:
            if proc.poll() is None:
                stop(proc)
    # Checked at once, not waited for: the sidecar stops and reaps Envoy before it exits. An Envoy left
    # behind keeps running (orphaned, not killed with its parent), so a failing run kills it.
    envoy_left = Path(f"/proc/{envoy}").exists()
    if envoy_left:
        os.kill(envoy, signal.SIGKILL)
    assert not envoy_left, "Envoy outlived the sidecar"
    assert not accepts("127.0.0.1", int(base.rpartition(":")[2])), "Envoy still listens"
    assert "veil envoy: veil extproc exited with -9; stopping" in log.read_text()


def test_a_killed_sidecar_takes_envoy_and_the_processor_with_it(tmp_path: Path) -> None:
    """SIGKILL to ``veil envoy`` itself (the OOM killer's way): it cannot stop its children, so each
    asked the kernel to be signalled when it dies (``veil.extproc.lifetime``); none keeps the ports,
    workers of the processor included."""
    policy, log = tmp_path / "policy.yaml", tmp_path / "sidecar.log"
    policy.write_text(POLICY)
    with serve_upstream(free_port()) as upstream:
        proc, base, extproc_port = start_sidecar(policy, upstream, log, "--workers", "2")
        extproc, envoy = _extproc_and_envoy(proc.pid)
        left = [extproc, envoy, *children(extproc)]
        assert len(left) == 4, left  # Envoy, the processor's supervisor and its two workers
        proc.kill()
        proc.wait(timeout=10)
        try:
            wait(lambda: not [pid for pid in left if _running(pid)], timeout=30)
        finally:
            for pid in left:
                if _running(pid):
                    os.kill(pid, signal.SIGKILL)
    assert not accepts("127.0.0.1", int(base.rpartition(":")[2])), "Envoy still listens"
    assert not accepts("127.0.0.1", extproc_port), "the processor still listens"


def _running(pid: int) -> bool:
    """Whether ``pid`` is alive: neither gone nor a zombie no one has reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _extproc_and_envoy(sidecar: int) -> tuple[int, int]:
    """The PIDs of the sidecar's two children, told apart by their command lines."""
    by_role: dict[str, int] = {}
    for pid in children(sidecar):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        by_role["extproc" if b"extproc" in argv else "envoy"] = pid
    assert set(by_role) == {"extproc", "envoy"}, by_role
    return by_role["extproc"], by_role["envoy"]


@pytest.mark.parametrize(("args", "message"), [
    (["envoy", "--upstream", "ftp://app"], "--upstream must be an http:// or https:// URL"),
    (["envoy", "--upstream", "http://app/api"], "--upstream takes no path or query"),
    (["envoy", "--upstream", "http://app", "--listen", "8080"], "--listen must be HOST:PORT"),
    (["extproc", "--listen", "50051"], "--listen must be HOST:PORT"),
])
def test_wrong_arguments_exit_2_saying_what_is_expected(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*args, "--metrics-port", "0"]) == 2  # before anything starts
    assert message in capsys.readouterr().err
