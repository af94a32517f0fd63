"""Operational endpoints on their own port: ``/healthz``, ``/readyz``, ``/metrics``, ``/policy``.

Shared by ``veil proxy`` (:mod:`veil.proxy_addon.admin`) and ``veil extproc``
(:mod:`veil.extproc.server`). Served from a daemon thread by the standard library's
WSGI server, away from the traffic: probes and scrapes never queue behind redaction
work, and traffic never reaches them. Bind it to localhost or a cluster-internal
address: metrics carry rule ids and counts (never values), but they are not public.

``/policy`` answers JSON naming the policy in use: ``digest`` (``sha256:<16 hex>``),
``revision`` (the policy's own, or null), ``source`` (its file or ``builtin:NAME``),
``loaded_at`` (when it was compiled, UTC) and ``rules`` (how many); 503 before a plan is loaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

if TYPE_CHECKING:
    from veil.observe.prometheus import Metrics
    from veil.rules.plan import Plan

StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # probes every few seconds would drown the server's own log


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class AdminServer:
    """Serves the endpoints until ``stop``; ``ready()`` decides what ``/readyz`` answers.

    Raises OSError when ``host:port`` cannot be bound (port 0 picks a free one: ``self.port``).
    """

    def __init__(
        self, host: str, port: int, metrics: Metrics, ready: Callable[[], bool],
        policy: Callable[[], Plan | None] | None = None,
    ) -> None:
        self.metrics_app = metrics.wsgi_app()
        self.ready = ready
        self.policy = policy
        """The plan in use now, for ``/policy`` (None: the server does not say)."""
        self.server = make_server(host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="veil admin", daemon=True)
        self.thread.start()

    def app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            result: Iterable[bytes] = self.metrics_app(environ, start_response)
            return result
        if path == "/healthz":
            return _text(start_response, "200 OK", b"ok\n")
        if path == "/readyz":
            if self.ready():
                return _text(start_response, "200 OK", b"ready\n")
            return _text(start_response, "503 Service Unavailable", b"not ready\n")
        if path == "/policy" and self.policy is not None:
            return _policy(start_response, self.policy())
        return _text(start_response, "404 Not Found", b"not found: try /healthz, /readyz, /metrics or /policy\n")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _text(start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain") -> list[bytes]:
    start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _policy(start_response: StartResponse, plan: Plan | None) -> list[bytes]:
    if plan is None:
        return _text(start_response, "503 Service Unavailable", b'{"error": "no policy loaded yet"}\n', "application/json")
    info = {**plan.lineage.as_dict(), "rules": len(plan.rules)}
    return _text(start_response, "200 OK", json.dumps(info, indent=2).encode() + b"\n", "application/json")
