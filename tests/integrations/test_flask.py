"""veil.integrations.flask.Veil on real Flask apps, through werkzeug's LintMiddleware."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.middleware.lint import LintMiddleware
from werkzeug.test import Client

from veil.integrations.flask import Veil
from veil.middleware.wsgi import WSGIMiddleware

POLICY = "version: 1\nrules:\n  - fields: [{path: $.secret}]\n"  # only $.secret, so the default cannot be the one at work


def make_app() -> Flask:
    app = Flask(__name__)

    @app.post("/echo")
    def echo() -> Response:
        return jsonify(request.get_json())

    @app.get("/customer")
    def customer() -> Response:
        return jsonify({"email": "jane@example.com", "secret": "s3cr3t"})

    return app


def client(app: Flask) -> Client:
    return Client(LintMiddleware(app))


def test_veil_app_redacts_requests_and_responses() -> None:
    app = make_app()
    Veil(app)
    c = client(app)
    assert c.post("/echo", json={"email": "jane@example.com"}).json == {"email": "[REDACTED:EMAIL]"}
    assert c.get("/customer").json == {"email": "[REDACTED:EMAIL]", "secret": "[REDACTED:SECRET]"}


def test_init_app_later_works_the_same() -> None:
    app = make_app()
    veil = Veil(policy={"version": 1, "rules": [{"fields": [{"path": "$.secret"}]}]})
    middleware = veil.init_app(app)
    assert isinstance(middleware, WSGIMiddleware) and app.extensions["veil"] is middleware
    assert client(app).get("/customer").json == {"email": "jane@example.com", "secret": "[REDACTED:FIELD]"}


def test_policy_path_from_app_config(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    app = make_app()
    app.config["VEIL_POLICY"] = str(policy)
    Veil(app)
    assert client(app).get("/customer").json == {"email": "jane@example.com", "secret": "[REDACTED:FIELD]"}
    assert app.extensions["veil"].plan.source == str(policy)


def test_initialising_twice_is_refused() -> None:
    app = make_app()
    veil = Veil(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        veil.init_app(app)


def test_options_are_checked_at_construction() -> None:
    with pytest.raises(TypeError, match="'respones'"):
        Veil(respones=False)
    app = make_app()
    Veil(app, responses=False)
    assert client(app).get("/customer").json == {"email": "jane@example.com", "secret": "s3cr3t"}
