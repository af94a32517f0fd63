"""In-process middleware: ``from veil.middleware import VeilASGIMiddleware, VeilWSGIMiddleware``.

Both take ``(app, policy=None, **options)``; ``policy`` is a policy file path,
``builtin:NAME``, a dict, or a compiled Plan, and None means ``$VEIL_POLICY`` or
the built-in default. ``ASGIMiddleware``/``WSGIMiddleware`` are the same classes
under their first names, kept for existing imports; the ``Veil`` names cannot
collide with Starlette's own ``WSGIMiddleware``. Imported lazily so that using one
does not import the other.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ASGIMiddleware", "VeilASGIMiddleware", "VeilWSGIMiddleware", "WSGIMiddleware"]


def __getattr__(name: str) -> Any:
    if name in ("ASGIMiddleware", "VeilASGIMiddleware"):
        from veil.middleware.asgi import ASGIMiddleware

        return ASGIMiddleware
    if name in ("WSGIMiddleware", "VeilWSGIMiddleware"):
        from veil.middleware.wsgi import WSGIMiddleware

        return WSGIMiddleware
    raise AttributeError(name)
