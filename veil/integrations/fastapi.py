"""FastAPI / Starlette: veil is plain ASGI middleware, so one line wires it in.

    from fastapi import FastAPI
    from veil.middleware import VeilASGIMiddleware

    app = FastAPI()
    app.add_middleware(VeilASGIMiddleware, policy="policy.yaml")

or ``add_veil(app, policy="policy.yaml")``, which also compiles the policy at once:
a bad one raises where ``add_veil`` is called, as the app module is imported (with
``add_middleware`` Starlette builds the middleware in the lifespan call, whose
failure stops the server too). Options are those of
:class:`veil.middleware.asgi.ASGIMiddleware` (``on_error``, ``requests``,
``responses``, ``max_decompressed_bytes``, ``observer``). Nothing here imports FastAPI.
"""

from __future__ import annotations

from typing import Any

from veil.middleware.asgi import ASGIMiddleware
from veil.settings import PolicyArg, resolve_plan


def add_veil(app: Any, policy: PolicyArg = None, **options: Any) -> None:
    """``app.add_middleware(VeilASGIMiddleware, policy=policy, **options)`` for a Starlette or FastAPI
    app, with the policy compiled now (a PolicyError here, not at the first request)."""
    app.add_middleware(ASGIMiddleware, policy=resolve_plan(policy), **options)
