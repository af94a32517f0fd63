"""The ext_proc gRPC server (grpc.aio): one :class:`veil.extproc.exchange.Exchange` per stream.

    veil extproc --listen 127.0.0.1:50051 --policy policy.yaml --metrics-port 9091

One process serves one port; ``--workers N`` (:mod:`veil.extproc.workers`) runs N of these on
N consecutive ports. The policy file is polled and a changed one swapped in
(:class:`veil.http.policy_watch.PolicyWatcher`): streams already open keep the plan they
started with. ``/healthz``, ``/readyz`` and ``/metrics`` are served on the admin port
(:class:`veil.observe.admin.AdminServer`) with the metric names every adapter uses.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as rpc
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    ProcessingRequest,
    ProcessingResponse,
)

from veil.extproc.envoy_config import BUFFER_LIMIT_METADATA
from veil.extproc.exchange import Exchange, shared_by
from veil.http import Options
from veil.http.exchange import Exchanges
from veil.http.policy_watch import PolicyWatcher, watches
from veil.http.warming import warm_for_serving
from veil.observe import NullObserver, Observer
from veil.rules.plan import Plan
from veil.settings import resolve_plan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtProcConfig:
    """What ``veil extproc`` was asked for."""

    listen: str = "127.0.0.1:50051"
    policy: str = ""
    """A policy file (watched), ``builtin:NAME``, or "" for $VEIL_POLICY, else the built-in default."""
    workers: int = 1
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    """0: no admin endpoints."""
    max_body_bytes: int = 0
    """0: the policy's own ``limits.max_body_bytes``; else the smaller of the two."""
    policy_header: bool = False
    """Responses carry ``veil-policy: sha256:<16 hex>``, the digest of the policy in use."""
    warm_seconds: float = 0.0
    """Run synthetic traffic through each plan for up to this long before it serves (:mod:`veil.rules.warmup`):
    at start-up, before the port is bound, and on a reload, before the swap. The CLI's default is 1 s."""

    def address(self, offset: int = 0) -> tuple[str, int]:
        """``listen`` split, the port moved by ``offset`` (worker ``offset`` of N). Raises ValueError."""
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--listen must be HOST:PORT, got {self.listen!r}")
        return host.strip("[]"), int(port) + offset


class ExternalProcessor(rpc.ExternalProcessorServicer):  # type: ignore[misc]
    """The servicer: each ``Process`` stream is one HTTP exchange, answered message by message."""

    def __init__(self, plan: Plan, options: Options, max_body: int = 0) -> None:
        self.plan, self.options, self.max_body = plan, options, max_body
        self._shared: Exchanges | None = None

    def shared(self) -> Exchanges:
        """What the streams starting now share: made again when the plan (a reload) or the options change."""
        shared = self._shared
        if shared is None or shared.plan is not self.plan or shared.options is not self.options:
            shared = self._shared = shared_by(self.plan, self.options)
        return shared

    def use_plan(self, plan: Plan) -> None:
        """Swap in a new plan (a hot reload): streams already open keep theirs."""
        self.plan = plan

    async def Process(
        self, requests: AsyncIterator[ProcessingRequest], context: Any,
    ) -> AsyncIterator[ProcessingResponse]:
        shared = self.shared()
        exchange = Exchange(shared.plan, shared.options, self.max_body, shared, declared_buffer_limit(context))
        inline = not exchange.plan.does_io  # asked once per stream: its plan never changes
        try:
            async for message in requests:
                yield exchange.handle(message) if inline else await self.work(exchange, message)
                if exchange.done:
                    return  # an ImmediateResponse ends the exchange: Envoy sends nothing more
        finally:
            # Envoy closed the stream (or reset it: the exchange ended before its trailers were due):
            # a body veil asked for and never got is reported either way.
            exchange.finish()

    @staticmethod
    async def work(exchange: Exchange, message: ProcessingRequest) -> ProcessingResponse:
        """The answer to one message. A plan that does I/O (vault tokens: a round trip per new value)
        runs in a worker thread, so a slow vault stalls this stream and not every stream of the
        server; a vaultless plan only computes and runs inline (a thread hop would cost more than
        most messages' redaction). A stream's messages come one at a time: never two threads at once."""
        if exchange.plan.does_io:
            return await asyncio.to_thread(exchange.handle, message)  # the context is copied
        return exchange.handle(message)


def declared_buffer_limit(context: Any) -> int:
    """The buffer limit the gateway declares in the stream's gRPC metadata (Envoy's ``initial_metadata``:
    its messages carry none); 0 when it declares none."""
    metadata = context.invocation_metadata() if context is not None else None
    for key, value in metadata or ():
        if key == BUFFER_LIMIT_METADATA and isinstance(value, str) and value.isdigit():
            return int(value)
    return 0


class Worker:
    """One serving process: the gRPC server, the policy watcher, and (alone, not under ``--workers``) the admin port."""

    def __init__(self, config: ExtProcConfig, observer: Observer | None = None) -> None:
        self.config = config
        self.plan = resolve_plan(config.policy or None)  # a policy error stops start-up with its file:line message
        self.warm(self.plan)
        self.metrics: Any = None
        self.processor = ExternalProcessor(
            self.plan, Options(observer=observer or NullObserver(), policy_header=config.policy_header),
            config.max_body_bytes,
        )
        self.server: Any = None
        self.admin: Any = None
        self.watcher: PolicyWatcher | None = None
        self.serving = False
        self.port = 0

    def observe_with(self, metrics: Any) -> None:
        self.metrics = metrics
        self.processor.options = replace(self.processor.options, observer=metrics)

    async def start(self, offset: int = 0) -> None:
        host, port = self.config.address(offset)
        # A buffered body is one gRPC message: gRPC's default 4 MiB cap would fail every larger body
        # (Envoy then answers 500). The body's size is bounded by Envoy's buffer and veil's limit instead.
        self.server = grpc.aio.server(options=[
            ("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1),
        ])
        rpc.add_ExternalProcessorServicer_to_server(self.processor, self.server)
        self.port = self.server.add_insecure_port(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        await self.server.start()
        if watches(self.config.policy):
            self.watcher = PolicyWatcher(Path(self.config.policy), self._swap, lambda: self._count_reload("error"),
                                         current=lambda: self.processor.plan, prepare=self.warm)
            self.watcher.start()
        self.serving = True

    def warm(self, plan: Plan) -> None:
        """Warm ``plan`` before it serves (see :mod:`veil.rules.warmup`): its first requests would pay for it."""
        warm_for_serving(plan, self.config.warm_seconds, log)

    def _swap(self, plan: Plan) -> None:
        self.processor.use_plan(plan)
        gc.unfreeze()  # the old plan was frozen with the rest at start-up: let it go, then freeze the new one
        gc.collect()
        gc.freeze()
        self._count_reload("ok")

    def _count_reload(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.policy_reloads.labels(outcome).inc()

    def ready(self) -> bool:
        return self.serving

    async def stop(self) -> None:
        self.serving = False
        if self.watcher is not None:
            self.watcher.stop()
        if self.server is not None:
            await self.server.stop(grace=2)
        if self.admin is not None:
            self.admin.stop()


def new_metrics() -> Any:
    """A Prometheus observer on its own registry (the names every adapter uses); needs prometheus-client.

    Under ``PROMETHEUS_MULTIPROC_DIR`` (``--workers``) its samples go to that directory, where the
    supervisor's observer adds up every worker's."""
    import prometheus_client

    from veil.observe.prometheus import Metrics

    return Metrics(registry=prometheus_client.CollectorRegistry())


def start_admin(worker: Worker, host: str, port: int) -> None:
    """Serve /healthz, /readyz, /metrics and /policy for ``worker`` on ``host:port``; raises OSError if it cannot bind."""
    from veil.observe.admin import AdminServer

    metrics = new_metrics()
    worker.observe_with(metrics)
    worker.admin = AdminServer(host, port, metrics, worker.ready, policy=lambda: worker.processor.plan)


async def run_worker(config: ExtProcConfig, offset: int = 0, admin: bool = True) -> int:
    """Serve until SIGINT or SIGTERM. ``admin``: this process also serves the admin port (a lone worker)."""
    worker = Worker(config)
    if config.metrics_port:
        if admin:
            start_admin(worker, config.metrics_host, config.metrics_port)
        else:  # under --workers: the supervisor serves every worker's samples
            worker.observe_with(new_metrics())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await worker.start(offset)
    log.info("veil extproc: serving on %s:%d with %r", config.address(offset)[0], worker.port, worker.plan)
    gc.collect()
    gc.freeze()  # the plan and the protobuf modules live as long as the process: keep them out of full collections
    await stopping.wait()
    await worker.stop()
    return 0
