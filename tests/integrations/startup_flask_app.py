"""A Flask app for tests/integrations/test_startup_servers.py, its policy from ``$STARTUP_POLICY``."""

from __future__ import annotations

import os

from flask import Flask

from veil.integrations.flask import Veil

app = Flask(__name__)
app.config["VEIL_POLICY"] = os.environ.get("STARTUP_POLICY")
Veil(app)


@app.get("/")
def root() -> dict[str, str]:
    return {"email": "jane@example.com"}
