"""Flask extension: redact every request and response of an app with one policy.

    from flask import Flask
    from veil.integrations.flask import Veil

    app = Flask(__name__)
    Veil(app, policy="policy.yaml")          # or: veil = Veil(); veil.init_app(app)

The policy is, in order: the ``policy`` argument, ``app.config["VEIL_POLICY"]``,
``$VEIL_POLICY``, else veil's built-in default. It wraps ``app.wsgi_app`` in
:class:`veil.middleware.wsgi.WSGIMiddleware`, so failure semantics are the
middleware's (fail closed: 400/413 for requests, 502 for responses). The
middleware is kept in ``app.extensions["veil"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veil.http import parse_options
from veil.middleware.wsgi import WSGIMiddleware
from veil.settings import PolicyArg

if TYPE_CHECKING:
    from flask import Flask


def _require_flask() -> None:
    try:
        import flask  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("veil.integrations.flask needs flask: install veil[flask]") from exc


class Veil:
    """``Veil(app=None, policy=None, **options)``; options as for WSGIMiddleware."""

    def __init__(self, app: Flask | None = None, policy: PolicyArg = None, **options: Any) -> None:
        parse_options(options)  # fail at construction, not at init_app
        self.policy = policy
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> WSGIMiddleware:
        _require_flask()
        if "veil" in app.extensions:
            # Wrapping twice would redact twice (and tokenize tokens); refuse instead.
            raise RuntimeError("Veil is already initialised on this app")
        policy = self.policy if self.policy is not None else app.config.get("VEIL_POLICY")
        middleware = WSGIMiddleware(app.wsgi_app, policy, **self.options)
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["veil"] = middleware
        return middleware
