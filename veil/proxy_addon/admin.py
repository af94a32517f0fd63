"""The admin addon: operational endpoints on their own port, ``/healthz``, ``/readyz``, ``/metrics``.

:class:`AdminAddon` owns the ``veil_metrics_*`` options: when a port is set it makes the
Prometheus observer, hands it to the redaction addon, and serves it with :class:`AdminServer`.

Served from a daemon thread by the standard library's WSGI server, away from
the proxied traffic: probes and scrapes never queue behind redaction work, and
traffic never reaches them. Bind it to localhost or a cluster-internal address:
metrics carry rule ids and counts (never values), but they are not public.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from mitmproxy import ctx, exceptions

if TYPE_CHECKING:
    from veil.observe.prometheus import Metrics
    from veil.proxy_addon.addon import VeilAddon

StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # probes every few seconds would drown the proxy's own log


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class AdminServer:
    """Serves the endpoints until ``stop``; ``ready()`` decides what ``/readyz`` answers."""

    def __init__(self, host: str, port: int, metrics: Metrics, ready: Callable[[], bool]) -> None:
        self.metrics_app = metrics.wsgi_app()
        self.ready = ready
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
        return _text(start_response, "404 Not Found", b"not found: try /healthz, /readyz or /metrics\n")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class AdminAddon:
    """Serves /healthz, /readyz (ready once the redaction addon runs with a plan) and /metrics."""

    def __init__(self, redaction: VeilAddon) -> None:
        self.redaction = redaction
        self.metrics: Metrics | None = None
        self.server: AdminServer | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            "veil_metrics_port", int, 0,
            "Port for /healthz, /readyz and /metrics (Prometheus). 0: no operational endpoints.",
        )
        loader.add_option("veil_metrics_host", str, "127.0.0.1", "Address the operational endpoints bind to.")

    def configure(self, updated: set[str]) -> None:
        if updated & {"veil_metrics_port", "veil_metrics_host"}:
            self._start(ctx.options.veil_metrics_host, ctx.options.veil_metrics_port)

    def done(self) -> None:
        self._stop()

    def count_reload(self, outcome: str) -> None:
        """A policy reload happened (``ok`` or ``error``): ``veil_policy_reloads_total``."""
        if self.metrics is not None:
            self.metrics.policy_reloads.labels(outcome).inc()

    def _start(self, host: str, port: int) -> None:
        self._stop()
        if port <= 0:
            return
        import prometheus_client

        from veil.observe.prometheus import Metrics

        if self.metrics is None:
            self.metrics = Metrics(registry=prometheus_client.CollectorRegistry())
            self.redaction.observe_with(self.metrics)
        try:
            self.server = AdminServer(host, port, self.metrics, self.redaction.ready)
        except OSError as exc:
            raise exceptions.OptionsError(f"veil_metrics_port: cannot listen on {host}:{port}: {exc}") from None

    def _stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def _text(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
