"""Vault backends for vault tokens, and what runs around them (resolve, forget, rotate, serve).

The core (``veil.rules``) defines the tokens and the :class:`VaultBackend`
interface and does no I/O; this package opens the files and sockets:
:func:`open_backend` is the connector the compiler calls for each ``vaults:``
entry a policy's vault tokens use.
"""

from __future__ import annotations

import os

from veil.rules.actions.vault_token import VaultBackend, VaultUnavailable
from veil.rules.schema import VaultSpec


def open_backend(name: str, spec: VaultSpec) -> VaultBackend:
    """The backend of ``vaults.<name>``; connections open on first use (safe across forks).

    Raises ValueError (the compiler reports it at ``vaults.<name>``) when the spec
    cannot work: a Redis vault without a URL or without the ``redis`` package.
    """
    from veil.vault.metrics import register_default

    register_default()
    if spec.backend == "sqlite":
        from veil.vault.sqlite import SQLiteVault

        path = (os.environ.get(spec.path_env) if spec.path_env else None) or spec.path
        return SQLiteVault(name, path, timeout=spec.timeout)
    url = (os.environ.get(spec.url_env) if spec.url_env else None) or spec.url
    if not url:
        raise ValueError(f"redis vault '{name}': no URL (set {spec.url_env} or give 'url')")
    try:
        from veil.vault.redis import RedisVault

        return RedisVault(name, url, timeout=spec.timeout)
    except ImportError:
        raise ValueError("a redis vault needs the redis package: pip install 'veil[vault]'") from None


__all__ = ["VaultUnavailable", "open_backend"]
