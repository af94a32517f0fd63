"""The worked example (examples/vault/) end to end over real HTTP, commands as written.

``veil apply`` writes tokens to the SQLite vault; ``veil serve detokenize`` gives
them back per client; ``veil vault forget`` erases a subject; ``veil detokenize
--service`` is a client. Audit lines and metrics are checked value- and token-free.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from veil.rules.actions.vault_token import VAULT_TOKEN_PATTERN
from veil.vault.client import DetokenizeClient, DetokenizeError
from tests.servers import ROOT, free_port, serve
from tests.vault.conftest import KEY_TEXT

EXAMPLE = ROOT / "examples" / "vault"
POLICY = "examples/vault/policy.yaml"
CLIENTS = "examples/vault/clients.yaml"
SUPPORT, ANALYTICS = "support-key-0123456789", "analytics-key-0123456789"
BODY = (EXAMPLE / "body.json").read_bytes()
VALUES = ("jane.doe@example.com", "+1 415 555 0100")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("vault")
    return {**os.environ, "VEIL_TOKEN_KEY": KEY_TEXT, "VEIL_VAULT_PATH": str(where / "vault.db"),
            "VEIL_CLIENT_SUPPORT_KEY": SUPPORT, "VEIL_CLIENT_ANALYTICS_KEY": ANALYTICS,
            "AUDIT": str(where / "audit.jsonl")}


def veil(env: dict[str, str], *args: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "veil", *args], input=data, env=env, cwd=ROOT,
                          capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def service(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("log") / "service.log"
    args = ["veil", "serve", "detokenize", "--policy", POLICY, "--clients", CLIENTS,
            "--listen", f"127.0.0.1:{port}", "--audit-log", env["AUDIT"]]
    with serve(args, port=port, ready="/healthz", log=log, env=env) as base:
        yield base


@pytest.fixture(scope="module")
def tokenized(env: dict[str, str]) -> str:
    done = veil(env, "apply", "--policy", POLICY, "examples/vault/body.json")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert not any(v in out for v in VALUES) and len(re.findall(VAULT_TOKEN_PATTERN, out)) == 2
    return out


def post(base: str, key: str | None, body: str, ctype: str = "application/json") -> httpx.Response:
    headers = {"content-type": ctype, **({"authorization": f"Bearer {key}"} if key else {})}
    return httpx.post(base + "/v1/detokenize", content=body, headers=headers, timeout=10, trust_env=False)


def test_healthz(service: str) -> None:
    assert httpx.get(service + "/healthz", trust_env=False).status_code == 200


def test_support_gets_emails_back_and_phones_stay_tokens(service: str, tokenized: str) -> None:
    reply = post(service, SUPPORT, tokenized)
    assert reply.status_code == 200
    doc = reply.json()["customer"]
    assert doc["email"] == "jane.doe@example.com"
    assert re.fullmatch(VAULT_TOKEN_PATTERN, doc["phone"])


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded"])
def test_other_content_types(service: str, tokenized: str, ctype: str) -> None:
    email_token = json.loads(tokenized)["customer"]["email"]
    reply = post(service, SUPPORT, f"email={email_token}&x=1", ctype)
    expected = "jane.doe%40example.com" if ctype.endswith("urlencoded") else "jane.doe@example.com"
    assert reply.status_code == 200 and reply.text == f"email={expected}&x=1"


def test_analytics_gets_nothing_back(service: str, tokenized: str) -> None:
    reply = post(service, ANALYTICS, tokenized)
    assert reply.status_code == 200 and json.loads(reply.text) == json.loads(tokenized)


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_no_or_a_wrong_key_is_refused(service: str, tokenized: str, key: str | None) -> None:
    reply = post(service, key, tokenized)
    assert reply.status_code == 401 and not any(v in reply.text for v in VALUES)


def test_the_python_client_and_the_cli_client(service: str, tokenized: str, env: dict[str, str]) -> None:
    with DetokenizeClient(service, SUPPORT) as client:
        assert b"jane.doe@example.com" in client.detokenize(tokenized, "application/json")
    with DetokenizeClient(service, "nope") as client, pytest.raises(DetokenizeError) as caught:
        client.detokenize(tokenized)
    assert caught.value.status == 401
    done = veil(env, "detokenize", "--service", service, "--client-key-env", "VEIL_CLIENT_SUPPORT_KEY",
                data=tokenized.encode())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["customer"]["email"] == "jane.doe@example.com"


def test_audit_lines_are_value_and_token_free(service: str, tokenized: str, env: dict[str, str]) -> None:
    post(service, SUPPORT, tokenized, "application/json").raise_for_status()
    for request_id in ("jane.doe@example.com", "ok-id_1.2"):  # an id with a value in it is replaced
        httpx.post(service + "/v1/detokenize", content="x", trust_env=False,
                   headers={"authorization": f"Bearer {SUPPORT}", "x-request-id": request_id}).raise_for_status()
    assert json.loads(Path(env["AUDIT"]).read_text().splitlines()[-1])["request_id"] == "ok-id_1.2"
    post(service, SUPPORT, tokenized, "application/json").raise_for_status()
    lines = [json.loads(line) for line in Path(env["AUDIT"]).read_text().splitlines()]
    assert lines and {"time", "request_id", "client", "route", "outcome", "tokens", "types"} <= set(lines[-1])
    assert lines[-1]["client"] == "support" and lines[-1]["tokens"] == {"ok": 1, "denied": 1}
    assert lines[-1]["types"] == {"EMAIL": 1, "PHONE": 1}
    text = Path(env["AUDIT"]).read_text()
    assert not any(v in text for v in VALUES) and re.search(VAULT_TOKEN_PATTERN, text) is None
    assert SUPPORT not in text and ANALYTICS not in text


def test_metrics_count_outcomes(service: str, tokenized: str) -> None:
    post(service, ANALYTICS, tokenized)
    text = httpx.get(service + "/metrics", trust_env=False).text
    denied = re.search(r'^veil_token_resolve_total\{outcome="denied"\} (\S+)$', text, re.M)
    assert denied is not None and float(denied[1]) >= 2
    assert "veil_token_resolve_seconds_bucket" in text and 'veil_token_resolve_total{outcome="forgotten"}' in text


def test_forget_erases_the_subject_for_every_client(service: str, env: dict[str, str]) -> None:
    body = BODY.replace(b"cus_1001", b"cus_3003").replace(b"jane.doe", b"ann.poe")
    done = veil(env, "apply", "--policy", POLICY, "-t", "application/json", data=body)
    tokenized = done.stdout.decode()
    assert "ann.poe@example.com" in post(service, SUPPORT, tokenized).text
    forgot = veil(env, "vault", "forget", "cus_3003", "--policy", POLICY)
    assert forgot.returncode == 0, forgot.stderr
    reply = post(service, SUPPORT, tokenized)
    assert reply.status_code == 200 and "ann.poe@example.com" not in reply.text
    assert json.loads(reply.text) == json.loads(tokenized)
    assert 'veil_token_resolve_total{outcome="forgotten"} 1.0' in httpx.get(service + "/metrics", trust_env=False).text


def test_rate_limit(env: dict[str, str], tmp_path: Path, tokenized: str) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  support:\n    key_env: VEIL_CLIENT_SUPPORT_KEY\n    types: [EMAIL]\n"
                       "    rate_limit: 3\n")
    port = free_port()
    args = ["veil", "serve", "detokenize", "--policy", POLICY, "--clients", str(clients),
            "--listen", f"127.0.0.1:{port}", "--audit-log", str(tmp_path / "audit.jsonl")]
    with serve(args, port=port, ready="/healthz", log=tmp_path / "log", env=env) as base:
        statuses = [post(base, SUPPORT, tokenized).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def test_a_bad_clients_file_is_named_at_its_line(env: dict[str, str], tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  support:\n    key_env: VEIL_CLIENT_SUPPORT_KEY\n    typs: [EMAIL]\n")
    done = veil(env, "serve", "detokenize", "--policy", POLICY, "--clients", str(clients))
    assert done.returncode == 2
    assert f"{clients}:4:5: clients.support.typs: unknown field 'typs'" in done.stderr.decode()
    clients.write_text("clients:\n  support:\n    key_env: VEIL_NOT_SET_ANYWHERE\n")
    done = veil(env, "serve", "detokenize", "--policy", POLICY, "--clients", str(clients))
    assert f"{clients}:3:5: clients.support.key_env: environment variable VEIL_NOT_SET_ANYWHERE is not set" in (
        done.stderr.decode())


def test_tls(env: dict[str, str], tmp_path: Path, tokenized: str) -> None:
    from tests.proxy_addon.tls import make_server_files

    files = make_server_files(tmp_path)
    trust = ssl.create_default_context(cafile=str(files.ca_cert))
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    args = ["veil", "serve", "detokenize", "--policy", POLICY, "--clients", CLIENTS, "--listen", f"127.0.0.1:{port}",
            "--audit-log", str(tmp_path / "audit.jsonl"), "--ssl-certfile", str(files.cert),
            "--ssl-keyfile", str(files.key)]

    def ready() -> bool:
        return httpx.get(base + "/healthz", verify=trust, trust_env=False).status_code == 200

    with serve(args, port=port, ready="/healthz", log=tmp_path / "log", env=env, probe=ready):
        with DetokenizeClient(base, SUPPORT, verify=trust) as client:
            assert b"jane.doe@example.com" in client.detokenize(tokenized, "application/json")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", trust_env=False, timeout=5).raise_for_status()
