"""``veil proxy`` as a real process on loopback, between real clients and a real upstream.

What runs (every process on 127.0.0.1, on free ports, started by ``tests.servers.serve``,
which always terminates it):

- ``uvicorn tests.proxy_addon.upstream_app:app``: the upstream. It appends every request
  it receives to a JSON-lines file (``$UPSTREAM_LOG``), so a test sees exactly what arrived
  upstream, whatever the proxy did to the reply. A test tags its requests with an
  ``X-Test-Id`` header and reads back only its own records.
- ``python -m veil.cli proxy --upstream ...`` three times: with the built-in default
  policy, with a policy that tokenizes e-mails and restores them in the reply, and with a
  policy file that the hot reload test rewrites.
- A second uvicorn serving the same app over HTTPS (a throwaway CA made with
  ``cryptography``), and ``veil proxy --egress`` in front of it: the client trusts
  mitmproxy's CA from ``--confdir``, and the proxy trusts the upstream's CA.

Clients are httpx and curl (``/usr/bin/curl``). Readiness and reloads are awaited by
bounded polling; streaming is checked against the upstream's own ``time.monotonic()``
stamps, never against wall-clock thresholds. The hook-by-hook behaviour is in
``test_addon.py``; this file checks that the same holds over real sockets.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.proxy_addon.flows import KEY_ENV, KEY_HEX, RESTORE_POLICY
from tests.proxy_addon.tls import ServerFiles, make_server_files
from tests.servers import PII, assert_profile_redacted, free_port, serve

CURL = "/usr/bin/curl"
SECRETS = ("s3cr3t", "sk_live_51Habcdefghijklmnop", "abc123session")

EMAIL_FIELD_POLICY = "version: 1\nrules:\n  - fields: [{path: $.email, action: redact}]\n"
EMAIL_AND_PHONE_POLICY = (
    "version: 1\nrules:\n  - fields: [{path: $.email, action: redact}, {path: $.phone, action: redact}]\n"
)
INVALID_POLICY = "version: 1\nrules:\n  - fields:\n      - path: '$..['\n        action: redact\n"

T = TypeVar("T")


# -- processes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    url: str
    log: Path

    def arrived(self, test_id: str) -> list[dict[str, Any]]:
        """The requests tagged ``X-Test-Id: test_id`` that reached the upstream, as it recorded them."""
        if not self.log.exists():
            return []
        records = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [r for r in records if ["x-test-id", test_id] in r["headers"]]


@dataclass(frozen=True)
class Proxy:
    url: str
    admin: str
    log: Path


@contextmanager
def run_upstream(directory: Path, tls: ServerFiles | None = None) -> Iterator[Upstream]:
    """The upstream app under uvicorn, over HTTPS with ``tls``; ready once ``/health`` answers 200."""
    port = free_port()
    verify: ssl.SSLContext | bool
    record = directory / "upstream.jsonl"
    args = ["uvicorn", "tests.proxy_addon.upstream_app:app", "--host", "127.0.0.1", "--port", str(port)]
    url, verify = f"http://127.0.0.1:{port}", True
    if tls is not None:
        args += ["--ssl-keyfile", str(tls.key), "--ssl-certfile", str(tls.cert)]
        url, verify = f"https://127.0.0.1:{port}", ssl.create_default_context(cafile=str(tls.ca_cert))
    with serve(args, port=port, ready="/health", log=directory / "uvicorn.log", env={"UPSTREAM_LOG": str(record)},
               probe=lambda: httpx.get(f"{url}/health", verify=verify, timeout=1).status_code == 200):
        yield Upstream(url, record)


@contextmanager
def run_proxy(directory: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Proxy]:
    """``veil proxy ARGS`` on a free port; ready once its ``/readyz`` answers 200."""
    port, admin_port = free_port(), free_port()
    admin = f"http://127.0.0.1:{admin_port}"
    command = ["veil.cli", "proxy", *args, "--listen", f"127.0.0.1:{port}", "--metrics-port", str(admin_port)]
    log = directory / "proxy.log"
    with serve(command, port=port, ready="/readyz", log=log, env=env,
               probe=lambda: httpx.get(f"{admin}/readyz", timeout=1).status_code == 200) as url:
        yield Proxy(url, admin, log)


def eventually(check: Callable[[], T], what: str, timeout: float = 10) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.1)


def curl(*args: str) -> str:
    """Run curl, without ~/.curlrc and without proxy variables from the environment; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    done = subprocess.run([CURL, "-q", "-sS", *args], capture_output=True, text=True, timeout=20, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    with run_upstream(tmp_path_factory.mktemp("upstream")) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """The reverse proxy with the built-in default policy."""
    with run_proxy(tmp_path_factory.mktemp("proxy"), "--upstream", upstream.url) as server:
        yield server


@pytest.fixture(scope="module")
def token_proxy(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """The reverse proxy tokenizing e-mails on requests and restoring them in replies."""
    directory = tmp_path_factory.mktemp("token-proxy")
    policy = directory / "policy.yaml"
    policy.write_text(RESTORE_POLICY)
    with run_proxy(directory, "--upstream", upstream.url, "--policy", str(policy),
                   env={KEY_ENV: KEY_HEX}) as server:
        yield server


@dataclass(frozen=True)
class Egress:
    proxy: Proxy
    upstream: Upstream
    mitm_ca: Path
    """mitmproxy's CA certificate, which clients of the egress proxy trust."""
    upstream_ca: Path


@pytest.fixture(scope="module")
def egress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Egress]:
    """An HTTPS upstream and ``veil proxy --egress`` for clients to reach it through.

    With ``builtin:strict``, not the egress default (``builtin:egress``, which leaves vendors' replies
    untouched): these tests check that redaction works both ways over the proxy's TLS.
    """
    directory = tmp_path_factory.mktemp("egress")
    files = make_server_files(directory)
    confdir = directory / "confdir"
    with run_upstream(directory, tls=files) as server, run_proxy(
        directory, "--egress", "--policy", "builtin:strict", "--confdir", str(confdir),
        "--set", f"ssl_verify_upstream_trusted_ca={files.ca_cert}",
    ) as proxy:
        yield Egress(proxy, server, confdir / "mitmproxy-ca-cert.pem", files.ca_cert)


def write_policy(path: Path, text: str) -> None:
    """Replace the file in one step, as a ConfigMap update does: the watcher never sees half a file."""
    staged = path.with_suffix(".new")
    staged.write_text(text)
    os.replace(staged, path)


def reply_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: {")]


# -- request direction ------------------------------------------------------------------------------


def test_credentials_cookies_query_secrets_and_pii_never_reach_the_upstream(proxy: Proxy, upstream: Upstream) -> None:
    sent = {"order": 7, "email": "jane@example.com", "note": "card 4111 1111 1111 1111"}
    r = httpx.post(f"{proxy.url}/echo?access_token=s3cr3t&page=2", json=sent, timeout=10, headers={
        "Authorization": "Bearer sk_live_51Habcdefghijklmnop", "Cookie": "session=abc123session",
        "X-Test-Id": "request-direction"})
    assert r.status_code == 200
    [record] = upstream.arrived("request-direction")
    seen = json.dumps(record)
    for value in (*PII, *SECRETS):
        assert value not in seen
    assert record["query"].endswith("&page=2") and record["query"].startswith("access_token=")
    body = json.loads(record["body"])
    assert body["order"] == 7 and body["email"] == "[REDACTED:EMAIL]"
    assert ["authorization", "[REDACTED:SECRET]"] in record["headers"]
    assert ["cookie", "session=[REDACTED:SECRET]"] in record["headers"]


def test_a_json_request_veil_cannot_parse_is_refused_400_and_never_forwarded(
    proxy: Proxy, upstream: Upstream
) -> None:
    r = httpx.post(f"{proxy.url}/echo", content=b'{"email": "jane@example.com"', timeout=10,
                   headers={"Content-Type": "application/json", "X-Test-Id": "invalid-request"})
    assert r.status_code == 400
    assert r.json() == {"error": "veil_redaction_failed", "reason": "invalid_json", "direction": "request"}
    assert upstream.arrived("invalid-request") == []


def test_curl_request_arrives_upstream_redacted(proxy: Proxy, upstream: Upstream) -> None:
    out = curl(f"{proxy.url}/echo?api_key=s3cr3t", "-H", "Content-Type: application/json", "-H",
               "X-Test-Id: curl-request", "--data", '{"email": "jane@example.com", "n": 1}')
    assert json.loads(out) == {"email": "[REDACTED:EMAIL]", "n": 1}
    [record] = upstream.arrived("curl-request")
    assert "s3cr3t" not in record["query"] and "jane@example.com" not in record["body"]


# -- response direction -----------------------------------------------------------------------------


def test_profile_reaches_the_client_without_pii(proxy: Proxy) -> None:
    assert_profile_redacted(httpx.get(f"{proxy.url}/profile", timeout=10))


def test_a_session_cookie_set_by_the_upstream_reaches_the_client_without_its_value(proxy: Proxy) -> None:
    r = httpx.get(f"{proxy.url}/set-cookie", timeout=10)
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("session=") and "s3ss10n-c00k1e-value" not in cookie


def test_a_gzip_response_stays_gzip_and_its_decoded_body_is_redacted(proxy: Proxy) -> None:
    with httpx.Client(timeout=10) as client, client.stream("GET", f"{proxy.url}/gzip") as r:
        assert r.headers["content-encoding"] == "gzip"
        raw = b"".join(r.iter_raw())
    doc = json.loads(gzip.decompress(raw))
    assert doc["customer"]["email"] == "[REDACTED:EMAIL]" and doc["id"] == 42
    for value in PII:
        assert value not in json.dumps(doc)


def test_a_json_response_veil_cannot_parse_is_replaced_by_a_502(proxy: Proxy) -> None:
    r = httpx.get(f"{proxy.url}/bad-json", timeout=10)
    assert r.status_code == 502
    assert r.json() == {"error": "veil_redaction_failed", "reason": "invalid_json", "direction": "response"}
    assert "jane@example.com" not in r.text


def test_curl_response_reaches_the_client_without_pii(proxy: Proxy) -> None:
    out = curl(f"{proxy.url}/profile")
    for value in PII:
        assert value not in out
    assert json.loads(out)["customer"]["phone"] == "[REDACTED:PHONE]"


# -- streaming --------------------------------------------------------------------------------------


def test_sse_events_arrive_redacted_before_the_upstream_produces_the_last_one(proxy: Proxy) -> None:
    """Arrival times are compared with the upstream's own time.monotonic() stamps (one clock on one machine)."""
    arrivals: list[tuple[float, dict[str, Any]]] = []
    with httpx.Client(timeout=10) as client, client.stream("GET", f"{proxy.url}/sse") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-length" not in r.headers
        for line in r.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.monotonic(), json.loads(line[5:])))
    events = [event for _, event in arrivals]
    assert [e["n"] for e in events] == [0, 1, 2, 3, 4]
    assert all(e["email"] == "[REDACTED:EMAIL]" for e in events)
    first_arrival, last_produced = arrivals[0][0], events[-1]["produced_at"]
    assert first_arrival < last_produced  # streamed through, not buffered until the end
    assert all(event["produced_at"] <= arrived for arrived, event in arrivals)


# -- round trip -------------------------------------------------------------------------------------


def test_an_email_sent_to_a_vendor_leaves_as_a_token_and_comes_back_restored(
    token_proxy: Proxy, upstream: Upstream
) -> None:
    r = httpx.post(f"{token_proxy.url}/vendor/chat", json={"prompt": "please mail jane@example.com"},
                   headers={"X-Test-Id": "round-trip"}, timeout=10)
    assert r.status_code == 200
    assert r.json() == {"answer": "I will write to jane@example.com"}
    [record] = upstream.arrived("round-trip")
    assert "jane@example.com" not in record["body"]
    assert re.fullmatch(r"please mail tok_EMAIL_\S+", json.loads(record["body"])["prompt"])


def test_a_token_streamed_back_in_four_character_deltas_is_restored(token_proxy: Proxy, upstream: Upstream) -> None:
    r = httpx.post(f"{token_proxy.url}/vendor/chat/stream", json={"prompt": "please mail jane@example.com"},
                   headers={"X-Test-Id": "round-trip-stream"}, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    [record] = upstream.arrived("round-trip-stream")
    assert "tok_EMAIL_" in record["body"] and "jane@example.com" not in record["body"]
    deltas = [event["choices"][0]["delta"]["content"] for event in reply_events(r.text)]
    assert "".join(deltas) == "I will write to jane@example.com"
    assert "tok_" not in r.text and r.text.endswith("data: [DONE]\n\n")


# -- hot reload -------------------------------------------------------------------------------------


def test_a_valid_policy_edit_takes_effect_and_an_invalid_one_keeps_the_old_plan(
    upstream: Upstream, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(EMAIL_FIELD_POLICY)
    sent = {"email": "jane@example.com", "phone": "+44 20 7946 0958"}

    with run_proxy(tmp_path, "--upstream", upstream.url, "--policy", str(policy)) as proxy:

        def echoed() -> dict[str, Any]:
            r = httpx.post(f"{proxy.url}/echo", json=sent, timeout=10)
            assert r.status_code == 200
            return dict(r.json())

        def metric(sample: str) -> bool:
            return sample in httpx.get(f"{proxy.admin}/metrics", timeout=5).text

        assert echoed() == {"email": "[REDACTED:FIELD]", "phone": "+44 20 7946 0958"}

        write_policy(policy, EMAIL_AND_PHONE_POLICY)
        eventually(lambda: echoed()["phone"] == "[REDACTED:FIELD]", "the new field rule redacts the phone")
        assert metric('veil_policy_reloads_total{outcome="ok"} 1.0')

        write_policy(policy, INVALID_POLICY)
        eventually(lambda: metric('veil_policy_reloads_total{outcome="error"} 1.0'), "the failed reload is counted")
        error = re.compile(r"policy\.yaml:4:\d+: rules\[0\]\.fields\[0\]\.path")
        eventually(lambda: error.search(proxy.log.read_text()), "the proxy logs the error with file:line:col")
        assert echoed() == {"email": "[REDACTED:FIELD]", "phone": "[REDACTED:FIELD]"}  # still the second plan
        assert metric('veil_policy_reloads_total{outcome="ok"} 1.0')


# -- operational endpoints --------------------------------------------------------------------------


def test_health_readiness_and_proxy_metrics_are_served_on_the_metrics_port(proxy: Proxy) -> None:
    assert httpx.get(f"{proxy.url}/profile", timeout=10).status_code == 200  # at least one body counted
    assert httpx.get(f"{proxy.admin}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{proxy.admin}/readyz", timeout=5).status_code == 200
    metrics = httpx.get(f"{proxy.admin}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert re.search(r'^veil_bodies_total\{adapter="proxy",direction="response",outcome="rewritten"\} \d+\.0$',
                     metrics.text, re.MULTILINE)


# -- egress over HTTPS ------------------------------------------------------------------------------


def test_egress_https_request_and_reply_are_redacted_for_a_client_trusting_the_proxy_ca(egress: Egress) -> None:
    trust_proxy = ssl.create_default_context(cafile=str(egress.mitm_ca))
    with httpx.Client(proxy=egress.proxy.url, verify=trust_proxy, timeout=10) as client:
        r = client.post(f"{egress.upstream.url}/echo", headers={"X-Test-Id": "egress"},
                        json={"email": "jane@example.com", "note": "card 4111 1111 1111 1111"})
    assert r.status_code == 200
    assert r.json() == {"email": "[REDACTED:EMAIL]", "note": "card [REDACTED:CREDIT_CARD]"}
    [record] = egress.upstream.arrived("egress")
    assert "jane@example.com" not in record["body"] and "4111" not in record["body"]


def test_egress_https_fails_for_a_client_that_does_not_trust_the_proxy_ca(egress: Egress) -> None:
    """Trusting only the real upstream's CA is not enough: the proxy presents its own certificate."""
    trust_upstream = ssl.create_default_context(cafile=str(egress.upstream_ca))
    with httpx.Client(proxy=egress.proxy.url, verify=trust_upstream, timeout=10) as client, pytest.raises(
        httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"
    ):
        client.post(f"{egress.upstream.url}/echo", headers={"X-Test-Id": "egress-untrusted"},
                    json={"email": "jane@example.com"})
    assert egress.upstream.arrived("egress-untrusted") == []


def test_curl_through_the_egress_proxy_is_redacted_both_ways_over_https(egress: Egress) -> None:
    through = ("--proxy", egress.proxy.url, "--cacert", str(egress.mitm_ca))
    curl(*through, f"{egress.upstream.url}/echo", "-H", "Content-Type: application/json",
         "-H", "X-Test-Id: egress-curl", "--data", '{"note": "mail jane@example.com"}')
    [record] = egress.upstream.arrived("egress-curl")
    assert json.loads(record["body"]) == {"note": "mail [REDACTED:EMAIL]"}

    out = curl(*through, f"{egress.upstream.url}/profile")
    for value in PII:
        assert value not in out
    assert json.loads(out)["customer"]["email"] == "[REDACTED:EMAIL]"


# -- the same addon under plain mitmdump --------------------------------------------------------------


def test_the_addon_script_under_plain_mitmdump_redacts_both_ways(
    upstream: Upstream, tmp_path: Path
) -> None:
    """``mitmdump -s "$(python -m veil.proxy_addon)"``, as the README shows it."""
    script = subprocess.run([sys.executable, "-m", "veil.proxy_addon"], capture_output=True, text=True,
                            check=True).stdout.strip()
    port, admin_port = free_port(), free_port()
    args = ["tests.proxy_addon.mitmdump_main", "-q", "-s", script, "--mode", f"reverse:{upstream.url}",
            "--listen-host", "127.0.0.1", "--listen-port", str(port), "--set", f"confdir={tmp_path / 'confdir'}",
            "--set", f"veil_metrics_port={admin_port}"]
    admin = f"http://127.0.0.1:{admin_port}"
    with serve(args, port=port, ready="/readyz", log=tmp_path / "mitmdump.log",
               probe=lambda: httpx.get(f"{admin}/readyz", timeout=1).status_code == 200) as url:
        sent = httpx.post(f"{url}/echo", json={"email": "jane@example.com"}, timeout=10,
                          headers={"X-Test-Id": "mitmdump-script"})
        profile = httpx.get(f"{url}/profile", timeout=10)
    [record] = upstream.arrived("mitmdump-script")
    assert "jane@example.com" not in json.dumps(record) and sent.status_code == 200
    assert profile.status_code == 200
    for value in PII:
        assert value not in profile.text


def test_with_the_upstream_down_bad_requests_are_still_refused_and_others_get_a_502(tmp_path: Path) -> None:
    """``veil proxy`` reads a request before it connects upstream (connection_strategy=lazy)."""
    with run_proxy(tmp_path, "--upstream", f"http://127.0.0.1:{free_port()}") as proxy:
        refused = httpx.post(f"{proxy.url}/echo", content=b'{"email": "jane@example.com"', timeout=10,
                             headers={"content-type": "application/json"})
        unreachable = httpx.get(f"{proxy.url}/profile", timeout=10)
    assert refused.status_code == 400 and refused.json()["reason"] == "invalid_json"
    assert unreachable.status_code == 502
