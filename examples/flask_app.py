"""A Flask app behind veil: PII never reaches the views or the clients.

Usage: gunicorn examples.flask_app:app   (policy: $VEIL_POLICY, else veil's default)

    curl -s localhost:8000/customer
    curl -s localhost:8000/echo -H 'content-type: application/json' -d '{"email": "jane@example.com"}'
    curl -sN localhost:8000/events
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Flask, Response, jsonify, request

from veil.integrations.flask import Veil

app = Flask(__name__)
Veil(app)

CUSTOMER = {
    "id": 42,
    "plan": "pro",
    "customer": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+44 20 7946 0958"},
    "card_number": "4111 1111 1111 1111",
}


@app.post("/echo")
def echo() -> Response:
    """What the view received: already redacted by veil."""
    return jsonify(request.get_json())


@app.get("/customer")
def customer() -> Response:
    return jsonify(CUSTOMER)


@app.get("/events")
def events() -> Response:
    """NDJSON, one event at a time: veil redacts each line as it is produced."""

    def generate() -> Iterator[str]:
        for n in range(3):
            yield json.dumps({"seq": n, "email": f"user{n}@example.com", "status": "ok"}) + "\n"
            time.sleep(0.2)

    return Response(generate(), mimetype="application/x-ndjson")
