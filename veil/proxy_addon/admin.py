"""The admin addon: operational endpoints on their own port, ``/healthz``, ``/readyz``, ``/metrics``, ``/policy``.

:class:`AdminAddon` owns the ``veil_metrics_*`` options: when a port is set it makes the
Prometheus observer, hands it to the redaction addon, and serves it with
:class:`veil.observe.admin.AdminServer` (shared with ``veil extproc``; it says where to bind it).
It also owns ``veil_records``: the file (``-``: stdout) that
:class:`veil.observe.records.FindingRecorder` writes the findings of sampled messages to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, exceptions

from veil.observe.admin import AdminServer

if TYPE_CHECKING:
    from veil.observe.prometheus import Metrics
    from veil.observe.records import FindingRecorder
    from veil.proxy_addon.addon import VeilAddon


class AdminAddon:
    """Serves /healthz, /readyz (ready once the redaction addon runs with a plan) and /metrics."""

    def __init__(self, redaction: VeilAddon) -> None:
        self.redaction = redaction
        self.metrics: Metrics | None = None
        self.recorder: FindingRecorder | None = None
        self.server: AdminServer | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            "veil_metrics_port", int, 0,
            "Port for /healthz, /readyz and /metrics (Prometheus). 0: no operational endpoints.",
        )
        loader.add_option("veil_metrics_host", str, "127.0.0.1", "Address the operational endpoints bind to.")
        loader.add_option(
            "veil_records", str, "",
            "File the findings of sampled messages (the policy's sample:) are written to as NDJSON, "
            "for veil discover ('-': stdout; '{pid}' is replaced by the process id). Empty: none.",
        )

    def configure(self, updated: set[str]) -> None:
        if updated & {"veil_metrics_port", "veil_metrics_host"}:
            self._start(ctx.options.veil_metrics_host, ctx.options.veil_metrics_port)
        if "veil_records" in updated:
            self._record(ctx.options.veil_records)

    def done(self) -> None:
        self._stop()
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

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
            self._observe()
        try:
            self.server = AdminServer(host, port, self.metrics, self.redaction.ready, policy=lambda: self.redaction.plan)
        except OSError as exc:
            raise exceptions.OptionsError(f"veil_metrics_port: cannot listen on {host}:{port}: {exc}") from None

    def _record(self, target: str) -> None:
        from veil.observe.records import FindingRecorder

        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        if target:
            try:
                self.recorder = FindingRecorder(target)
            except OSError as exc:
                raise exceptions.OptionsError(f"veil_records: cannot write {target}: {exc}") from None
        self._observe()

    def _observe(self) -> None:
        """Hand the redaction addon every observer there is (metrics, records)."""
        from veil.observe.records import Observers

        observers = [o for o in (self.metrics, self.recorder) if o is not None]
        if len(observers) == 1:
            self.redaction.observe_with(observers[0])
        elif observers:
            self.redaction.observe_with(Observers(*observers))

    def _stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

