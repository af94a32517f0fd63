"""Start every adapter once and send one case through one of them, returning what crossed it.

Processes (each on 127.0.0.1, started by ``tests.servers.serve``, always terminated):
uvicorn with the Starlette case app behind ASGIMiddleware; gunicorn with the WSGI case app behind
WSGIMiddleware; gunicorn with the Django case project (VeilMiddleware); a bare uvicorn case app as the
upstream, with ``veil proxy --upstream`` in front of it, and Envoy with ``veil extproc`` in front of it too
(``envoy.py``; only with veil[envoy]). The httpx transport runs in the test process,
against the bare upstream. All of them use the policy file the test writes (``VEIL_POLICY``, ``--policy``).
Each app appends what it received to its own record file (see ``recorder.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.cross_adapter.envoy import start_envoy_adapter
from tests.cross_adapter.model import Case, Request, Response
from tests.cross_adapter.policy import POLICY_YAML
from tests.cross_adapter.recorder import RESPOND
from tests.servers import free_port, serve
from veil import RedactionError
from veil.integrations.httpx import RedactingTransport


@dataclass(frozen=True)
class Record:
    """A request as the app (or upstream) received it."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one send produced: the client's reply (or the transport's error) and what reached the app."""

    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    raised: str = ""
    """The reason of the RedactionError the httpx transport raised, else empty."""
    received: Record | None = None


@dataclass(frozen=True)
class Target:
    base: str
    log: Path
    transport: RedactingTransport | None = None
    """For ``httpx``: the client-side transport under test (``base`` is then the bare upstream)."""

    def send(self, case: Case) -> Outcome:
        self.log.write_text("")
        try:
            reply = self._exchange(case)
        except RedactionError as exc:
            return Outcome(raised=exc.reason, received=self._received())
        return Outcome(reply.status_code, tuple(reply.headers.multi_items()), reply.content, "", self._received())

    def _exchange(self, case: Case) -> httpx.Response:
        transport = self.transport or httpx.HTTPTransport()
        with httpx.Client(transport=transport, timeout=10, trust_env=False) as client:
            sent = case.sent
            if isinstance(sent, Response):
                return client.get(f"{self.base}{RESPOND}{case.id}")
            assert isinstance(sent, Request)
            url = f"{self.base}{sent.path}" + (f"?{sent.query}" if sent.query else "")
            headers = [("content-type", sent.content_type), *sent.headers] if sent.content_type else list(sent.headers)
            return client.request(sent.method, url, content=sent.body, headers=headers)

    def _received(self) -> Record | None:
        lines = self.log.read_text().splitlines()
        if not lines:
            return None
        assert len(lines) == 1, f"one request, {len(lines)} records"
        entry = json.loads(lines[0])
        return Record(entry["method"], entry["path"], entry["query"], [tuple(h) for h in entry["headers"]],
                      entry["body"].encode("latin-1"))


@contextmanager
def start_adapters(directory: Path) -> Iterator[dict[str, Target]]:
    """Every adapter, running with the test's policy, by name."""
    policy = directory / "policy.yaml"
    policy.write_text(POLICY_YAML)
    targets: dict[str, Target] = {}
    with ExitStack() as stack:

        def start(name: str, args: list[str], port: int, ready: str, **env: str) -> Target:
            log = directory / f"{name}.records"
            log.write_text("")
            url = stack.enter_context(serve(
                args, port=port, ready=ready, log=directory / f"{name}.log",
                drop_env=("VEIL_POLICY", "DJANGO_SETTINGS_MODULE"),
                env={"CASE_LOG": str(log), "VEIL_POLICY": str(policy), **env}))
            return Target(url, log)

        def uvicorn(name: str, app: str) -> Target:
            port = free_port()
            return start(name, ["uvicorn", app, "--host", "127.0.0.1", "--port", str(port)], port, "/ready")

        def gunicorn(name: str, app: str, **env: str) -> Target:
            port = free_port()
            return start(name, ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", app], port, "/ready",
                         **env)

        targets["asgi"] = uvicorn("asgi", "tests.cross_adapter.asgi_app:app")
        targets["wsgi"] = gunicorn("wsgi", "tests.cross_adapter.wsgi_app:app")
        targets["django"] = gunicorn("django", "tests.cross_adapter.django_site:application",
                                     DJANGO_SETTINGS_MODULE="tests.cross_adapter.django_site")
        upstream = uvicorn("upstream", "tests.cross_adapter.asgi_app:upstream")
        port, admin_port = free_port(), free_port()
        admin = f"http://127.0.0.1:{admin_port}"
        proxy_url = stack.enter_context(serve(
            ["veil.cli", "proxy", "--upstream", upstream.base, "--policy", str(policy),
             "--listen", f"127.0.0.1:{port}", "--metrics-port", str(admin_port)],
            port=port, ready="/readyz", log=directory / "proxy.log",
            probe=lambda: httpx.get(f"{admin}/readyz", timeout=1).status_code == 200))
        targets["proxy"] = Target(proxy_url, upstream.log)
        transport = RedactingTransport(str(policy), redact_responses=True)
        stack.callback(transport.close)
        targets["httpx"] = Target(upstream.base, upstream.log, transport)
        envoy_url = stack.enter_context(start_envoy_adapter(directory, policy, int(upstream.base.rpartition(":")[2])))
        if envoy_url is not None:  # Envoy + veil extproc (issue 17), with veil[envoy]
            targets["envoy"] = Target(envoy_url, upstream.log)
        yield targets
