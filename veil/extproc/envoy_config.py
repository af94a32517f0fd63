"""The Envoy configuration ``veil envoy`` runs: a reverse proxy whose ext_proc filter is ``veil extproc``.

Pure: values in, a JSON-able dict out (Envoy reads JSON as YAML). ``examples/gateways/envoy.yaml``
is the same configuration written out for users who run their own Envoy.

Choices that matter for safety, each set here:

- ``failure_mode_allow: false``: when veil is unreachable, Envoy answers 500 instead of letting the
  message through unredacted;
- ``allow_mode_override: true``: veil asks per message for the body mode its type needs (buffered
  documents, streamed SSE/NDJSON, partially buffered for a body whose head decides, none where no
  rule applies). The static body modes are ``NONE``, so no body is taken before veil answered its
  headers: under a static ``BUFFERED`` mode, Envoy answers 413 (500 for a response) itself when more
  than its buffer limit arrives before that answer (a large upload on a fast link), and a static
  ``STREAMED`` or ``BUFFERED_PARTIAL`` one makes Envoy drop every Content-Length at the headers;
- ``mutation_rules.disallow_is_error: true``: a header change Envoy would refuse (a system header)
  fails the message instead of being silently dropped with the original value kept;
- the buffer limits sit a little above the policy's ``max_body_bytes``, so that veil's limit is the
  one that applies (with veil's JSON error) rather than Envoy's own 413;
- the filter's gRPC stream declares that buffer limit to veil (``veil-buffer-limit-bytes``): Envoy
  sends a body that ends in trailers without ``end_of_stream``, like one it cut at its buffer, and cuts
  only above that limit, so veil reads such a body within it as whole (:mod:`veil.extproc.bodies`);
- ``message_timeout`` is long enough for a large body to be redacted (Envoy's default is 200 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

BUFFER_SLACK = 64 * 1024
"""Bytes Envoy may buffer beyond veil's limit, so a body just over it still reaches veil to be refused."""
DEFAULT_BUFFER_LIMIT = 10 * 1024 * 1024 + BUFFER_SLACK
"""Above the policy's default ``limits.max_body_bytes`` (10 MiB), as ``examples/gateways/envoy.yaml`` sets it."""
BUFFER_LIMIT_METADATA = "veil-buffer-limit-bytes"
"""The gRPC metadata in which the gateway declares its buffer limit: the same number as its
``per_connection_buffer_limit_bytes`` (listener and upstream cluster), never more."""


def socket_address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def upstream_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``--upstream``; raises ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--upstream must be an http:// or https:// URL, got {url!r}")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"--upstream takes no path or query (requests keep theirs), got {url!r}")
    return parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def ext_proc_filter(message_timeout_s: float = 10.0, buffer_limit: int = DEFAULT_BUFFER_LIMIT) -> dict[str, Any]:
    """The ext_proc HTTP filter, talking to the ``veil_extproc`` cluster; ``buffer_limit``: Envoy's, declared."""
    return {
        "name": "envoy.filters.http.ext_proc",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
            "grpc_service": {"envoy_grpc": {"cluster_name": "veil_extproc"}, "initial_metadata": [
                {"key": BUFFER_LIMIT_METADATA, "value": str(buffer_limit)}]},
            "failure_mode_allow": False,
            "allow_mode_override": True,
            "processing_mode": {
                "request_header_mode": "SEND", "response_header_mode": "SEND",
                "request_body_mode": "NONE", "response_body_mode": "NONE",
                "request_trailer_mode": "SEND", "response_trailer_mode": "SEND",
            },
            "message_timeout": f"{message_timeout_s}s",
            "mutation_rules": {"disallow_is_error": True},
        },
    }


def envoy_config(
    listen: tuple[str, int], upstream: str, extproc_ports: Sequence[int], *, max_body_bytes: int,
    extproc_host: str = "127.0.0.1", admin_port: int = 0,
) -> dict[str, Any]:
    """A complete bootstrap: listener on ``listen`` -> ext_proc (every worker port an endpoint) -> ``upstream``."""
    scheme, up_host, up_port = upstream_of(upstream)
    buffer_limit = max_body_bytes + BUFFER_SLACK
    upstream_cluster: dict[str, Any] = {
        "name": "upstream",
        "type": "STRICT_DNS" if not _is_ip(up_host) else "STATIC",
        "connect_timeout": "5s",
        "per_connection_buffer_limit_bytes": buffer_limit,
        "load_assignment": {"cluster_name": "upstream", "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": socket_address(up_host, up_port)}}]}]},
    }
    if scheme == "https":
        upstream_cluster["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "sni": up_host}}
    config: dict[str, Any] = {
        "static_resources": {
            "listeners": [{
                "name": "veil",
                "address": socket_address(*listen),
                "per_connection_buffer_limit_bytes": buffer_limit,
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager"
                                 ".v3.HttpConnectionManager",
                        "stat_prefix": "veil",
                        "route_config": {"virtual_hosts": [{
                            "name": "upstream", "domains": ["*"],
                            # No route timeout: SSE and NDJSON replies may stream for minutes.
                            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "upstream", "timeout": "0s"}}],
                        }]},
                        "http_filters": [
                            ext_proc_filter(buffer_limit=buffer_limit),
                            {"name": "envoy.filters.http.router", "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
                        ],
                    },
                }]}],
            }],
            "clusters": [upstream_cluster, {
                "name": "veil_extproc",
                "type": "STATIC",
                "connect_timeout": "1s",
                "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}}}},
                "load_assignment": {"cluster_name": "veil_extproc", "endpoints": [{"lb_endpoints": [
                    {"endpoint": {"address": socket_address(extproc_host, port)}} for port in extproc_ports]}]},
            }],
        },
    }
    if admin_port:
        config["admin"] = {"address": socket_address("127.0.0.1", admin_port)}
    return config


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
