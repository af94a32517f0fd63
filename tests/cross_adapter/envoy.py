"""The cross-adapter table's Envoy adapter: the example Envoy config with ``veil extproc`` as its ext_proc
filter, in front of the same bare upstream as the proxy (issue 17). Not started without veil[envoy]."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.extproc.gateway import example_config, has_envoy_extra, run_envoy, run_extproc
from tests.servers import free_port
from veil import load_policy


@contextmanager
def start_envoy_adapter(directory: Path, policy: Path, upstream_port: int) -> Iterator[str | None]:
    """Envoy's base URL (its upstream: ``upstream_port``), or None when veil[envoy] is missing."""
    if not has_envoy_extra():
        yield None
        return
    with ExitStack() as stack:
        workdir = directory / "envoy"
        workdir.mkdir()
        ports, _ = stack.enter_context(run_extproc(policy, workdir))
        # Envoy's buffer a little above veil's limit, as the example says: veil's limit is the one that applies.
        limit = load_policy(policy).limits.max_body_bytes
        config = example_config(free_port(), upstream_port, ports, limit + 64 * 1024)
        yield stack.enter_context(run_envoy(config, workdir))
