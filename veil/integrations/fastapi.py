"""FastAPI / Starlette: veil is plain ASGI middleware, so one line wires it in.

    from fastapi import FastAPI
    from veil.middleware import ASGIMiddleware

    app = FastAPI()
    app.add_middleware(ASGIMiddleware, policy="policy.yaml")

or, the same thing, ``add_veil(app, policy="policy.yaml")``. Options are those
of :class:`veil.middleware.asgi.ASGIMiddleware` (``on_error``, ``requests``,
``responses``, ``max_decompressed_bytes``). Nothing here imports FastAPI.
"""

from __future__ import annotations

from typing import Any

from veil.middleware.asgi import ASGIMiddleware
from veil.settings import PolicyArg


def add_veil(app: Any, policy: PolicyArg = None, **options: Any) -> None:
    """``app.add_middleware(ASGIMiddleware, policy=policy, **options)`` for a Starlette or FastAPI app."""
    app.add_middleware(ASGIMiddleware, policy=policy, **options)
