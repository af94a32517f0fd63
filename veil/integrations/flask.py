"""Flask extension: redact every request and response of an app with one policy.

    from flask import Flask
    from veil.integrations.flask import Veil

    app = Flask(__name__)
    Veil(app, policy="policy.yaml")          # or: veil = Veil(); veil.init_app(app)

Every setting can come from ``app.config`` instead (read by ``init_app``):

- ``VEIL_POLICY``: a policy file path, ``builtin:NAME``, a dict or a Plan; else
  ``$VEIL_POLICY``, else veil's built-in default.
- ``VEIL_ON_ERROR`` (``"block"``/``"passthrough"``), ``VEIL_REQUESTS``, ``VEIL_RESPONSES``,
  ``VEIL_MAX_DECOMPRESSED_BYTES``: the options of :class:`veil.http.Options`.
- ``VEIL_OBSERVER``: an observer, or its dotted path (``"myapp.metrics.METRICS"``),
  imported at start-up.

An argument to ``Veil(...)`` wins over ``app.config``; a value that is None counts as
not set. A bad value is a ValueError/TypeError naming the key when ``init_app`` runs.
It wraps ``app.wsgi_app`` in :class:`veil.middleware.wsgi.WSGIMiddleware`, so failure
semantics are the middleware's (fail closed: 400/413 for requests, 502 for responses).
The middleware is kept in ``app.extensions["veil"]``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from veil.http import Options, parse_options
from veil.middleware.wsgi import WSGIMiddleware
from veil.observe.setting import observer_from_setting
from veil.settings import PolicyArg

if TYPE_CHECKING:
    from flask import Flask

CONFIG_PREFIX = "VEIL_"
_OPTION_TYPES = {"requests": bool, "responses": bool, "max_decompressed_bytes": int}


def _require_flask() -> None:
    try:
        import flask  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("veil.integrations.flask needs flask: install veil[flask]") from exc


class Veil:
    """``Veil(app=None, policy=None, **options)``; options as for WSGIMiddleware, else from ``app.config``."""

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
        policy = self.policy if self.policy is not None else app.config.get(CONFIG_PREFIX + "POLICY")
        middleware = WSGIMiddleware(app.wsgi_app, policy, **options_from_config(app.config, self.options))
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["veil"] = middleware
        return middleware


def options_from_config(config: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The middleware options: ``given`` (the extension's arguments) over ``VEIL_<NAME>`` keys of ``config``."""
    options = dict(given)
    for name in (f.name for f in fields(Options)):
        key = CONFIG_PREFIX + name.upper()
        value = config.get(key)
        if name in options or value is None:
            continue
        expected = _OPTION_TYPES.get(name)
        if expected is not None and (type(value) is not expected):  # bool is an int: exact types only
            raise TypeError(f"app.config[{key!r}] must be {expected.__name__} (got {value!r})")
        if name == "max_decompressed_bytes" and value <= 0:
            raise ValueError(f"app.config[{key!r}] must be a positive int (got {value!r})")
        if name == "on_error" and value not in ("block", "passthrough"):
            raise ValueError(f"app.config[{key!r}] must be 'block' or 'passthrough' (got {value!r})")
        options[name] = observer_from_setting(value, f"app.config[{key!r}]") if name == "observer" else value
    return options
