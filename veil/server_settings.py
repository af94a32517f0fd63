"""Settings of the servers veil runs (``veil proxy``, ``veil extproc``, ``veil envoy``), from flags and ``VEIL_*``.

Each option of ``veil proxy``, and each one ``veil extproc`` and ``veil envoy`` share with it,
can come from the environment as ``VEIL_<OPTION>`` (``--metrics-port`` is
``VEIL_METRICS_PORT``), so a container needs no arguments; a
flag given on the command line wins over its variable, and the variable over the
default here. pydantic-settings reads and validates the variables: a bad value
names both the flag and the variable.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from veil.rules.warmup import DEFAULT_SECONDS as WARM_SECONDS
from veil.rules.warmup import MAX_SECONDS as WARM_MAX_SECONDS

DEFAULT_ADMIN_PORT = 9811
"""Default port of ``/healthz``, ``/readyz`` and ``/metrics`` for every server veil runs.

Not 9090 (Prometheus's own port, often on the same host), not 9901 or 15000-15090 (the
admin ports of Envoy and Istio, which share a pod's network with a veil sidecar), not
9464 (OpenTelemetry's Prometheus exporter), 9100 (node exporter), 4191 (Linkerd) or
8888/13133 (the OpenTelemetry Collector's own metrics and health). Prometheus's exporter
range 9100-9999 is fully allocated, so no port in it is free of every exporter; 9811
belongs to none of the components that run beside a proxy sidecar.
"""

ENV_PREFIX = "VEIL_"


def env_var(option: str) -> str:
    """The environment variable of an option: ``metrics_port`` or ``--metrics-port`` -> ``VEIL_METRICS_PORT``."""
    return ENV_PREFIX + option.lstrip("-").replace("-", "_").upper()


def flag(option: str) -> str:
    """The command-line flag of a setting: ``metrics_port`` -> ``--metrics-port``."""
    return "--" + option.replace("_", "-")


class ServerSettings(BaseSettings):
    """What every veil server takes: its policy, its admin port, the policy header and the warm-up.

    Only these options, and each server's own fields below, are read from ``VEIL_*``
    variables; a server's other flags (``veil extproc --workers``...) have none.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid")

    policy: str = ""
    """Policy file or ``builtin:NAME``; empty: the server's default (``VEIL_POLICY`` is this setting's variable)."""
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=DEFAULT_ADMIN_PORT, ge=0, le=65535)
    policy_header: bool = False
    """Responses carry ``veil-policy: sha256:<16 hex>`` (``--policy-header``; mitmproxy's ``veil_policy_header``)."""
    warm_seconds: float = Field(default=WARM_SECONDS, ge=0, le=WARM_MAX_SECONDS)
    """Synthetic traffic through each plan before it serves (``--warm-seconds``; mitmproxy's ``veil_warm_ms``;
    :mod:`veil.rules.warmup`)."""


class ExtProcSettings(ServerSettings):
    """``veil extproc``: an Envoy ext_proc server. ``listen`` is checked when it starts (``--listen must be ...``)."""

    listen: str = "127.0.0.1:50051"


class EnvoySettings(ServerSettings):
    """``veil envoy``: Envoy and ``veil extproc`` in front of ``upstream``, which is required.

    ``upstream`` and ``listen`` are checked when the sidecar starts, with the messages of
    :func:`veil.extproc.sidecar.run_sidecar`.
    """

    listen: str = "127.0.0.1:8080"
    upstream: str = ""

    @model_validator(mode="after")
    def _has_upstream(self) -> EnvoySettings:
        if not self.upstream:
            raise ValueError(f"give {flag('upstream')} URL ({env_var('upstream')}): the app Envoy is in front of")
        return self


class ProxySettings(ServerSettings):
    """``veil proxy``: a reverse proxy in front of ``upstream``, or a forward (``egress``) proxy."""

    on_error: Literal["", "block", "passthrough"] = ""
    listen: str = "127.0.0.1:8080"
    upstream: str | None = None
    egress: bool = False
    confdir: str | None = None
    records: str = ""
    """File the findings of sampled messages go to (mitmproxy's ``veil_records``; ``-``: stdout); empty: none."""
    set: Annotated[tuple[str, ...], NoDecode] = ()
    """mitmproxy options as ``NAME=VALUE``; in ``VEIL_SET``, separated by spaces (quote a value that has some)."""

    @field_validator("set", mode="before")
    @classmethod
    def _split_sets(cls, value: Any) -> Any:
        return tuple(shlex.split(value)) if isinstance(value, str) else value

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("must be HOST:PORT")
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> ProxySettings:
        if bool(self.upstream) == self.egress:
            raise ValueError(
                f"give {flag('upstream')} URL ({env_var('upstream')}) for a reverse proxy or "
                f"{flag('egress')} ({env_var('egress')}=1) for a forward proxy, not both or neither"
            )
        return self

    @property
    def effective_policy(self) -> str:
        """The policy to load: the one given, else ``builtin:egress`` for a forward proxy.

        Egress calls carry the client's own credentials to its vendor; ``strict`` would strip
        them and every call would fail. Reverse mode keeps ``""``: veil's default (``strict``).
        """
        return self.policy or ("builtin:egress" if self.egress else "")


def describe(error: ValidationError) -> str:
    """A settings error in the user's terms: each problem with the flag and variable it came from."""
    lines = []
    for problem in error.errors():
        where = problem["loc"][0] if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        if isinstance(where, str) and where:
            lines.append(f"{flag(where)} ({env_var(where)}): {message}, got {problem['input']!r}")
        else:
            lines.append(message)
    return "; ".join(lines)
