"""Flask app with a login: a bearer token in the JSON reply and Flask's own signed ``session``
cookie; veil's Flask extension on ``LOGIN_PROFILE`` (none for ``none``).
Run: ``gunicorn tests.login_apps.flask_app:app``."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request, session

from tests.login_apps import common
from veil.integrations.flask import Veil

app = Flask(__name__)
app.secret_key = common.SECRET_KEY
if common.MIDDLEWARE:
    Veil(app, policy=common.POLICY)


def _who() -> str | None:
    if common.bearer(request.headers.get("Authorization")):
        return "bearer"
    return "cookie" if session.get("user") == common.EMAIL else None


@app.post("/login")
def login() -> tuple[Response, int]:
    if not common.credentials_ok(request.get_json(silent=True)):
        return jsonify(error="bad credentials"), 401
    session["user"] = common.EMAIL
    return jsonify(common.login_reply(common.issue_token())), 200


@app.get("/me")
def me() -> tuple[Response, int]:
    how = _who()
    return (jsonify(common.profile_reply(how)), 200) if how else (jsonify(error="unauthorized"), 401)


@app.post("/logout")
def logout() -> tuple[Response, int]:
    if _who() is None:
        return jsonify(error="unauthorized"), 401
    token = common.bearer(request.headers.get("Authorization"))
    if token:
        common.revoke(token)
    session.clear()
    return jsonify(logged_out=True), 200


@app.get("/contact")
def contact() -> tuple[Response, int]:
    return jsonify(common.contact_reply()), 200


@app.post("/notes")
def notes() -> tuple[Response, int]:
    """What the app received: for the egress tests, what the vendor sees."""
    if _who() is None:
        return jsonify(error="unauthorized"), 401
    return jsonify(received=request.get_json()), 200
