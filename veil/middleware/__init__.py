"""In-process middleware: ``from veil.middleware import ASGIMiddleware, WSGIMiddleware``.

Both take ``(app, policy=None, **options)``; ``policy`` is a policy file path,
a dict, or a compiled Plan, and None means ``$VEIL_POLICY`` or the built-in
default. Imported lazily so that using one does not import the other.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ASGIMiddleware", "WSGIMiddleware"]


def __getattr__(name: str) -> Any:
    if name == "ASGIMiddleware":
        from veil.middleware.asgi import ASGIMiddleware

        return ASGIMiddleware
    if name == "WSGIMiddleware":
        from veil.middleware.wsgi import WSGIMiddleware

        return WSGIMiddleware
    raise AttributeError(name)
