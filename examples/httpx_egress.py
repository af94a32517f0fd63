"""Egress: redact what leaves for a vendor, restore tokens in what comes back.

Usage: VEIL_TOKEN_KEY=$(python -c 'print("ab" * 32)') python examples/httpx_egress.py

The "vendor" here is an in-process WSGI app that echoes what it received (no
network is needed); point the client at a real base_url in your code.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from veil.integrations.httpx import RedactingTransport

POLICY = {
    "version": 1,
    "rules": [{"scan": {"action": {"type": "tokenize", "key": "tokens"}}}],
    "keys": {"tokens": {"env": "VEIL_TOKEN_KEY"}},
}


def vendor(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    print("vendor received:", body.decode())
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"reply": f"I will write to {json.loads(body)['to']}"}).encode()]


def main() -> None:
    # A policy dict works like a file: its key comes from $VEIL_TOKEN_KEY.
    transport = RedactingTransport(POLICY, transport=httpx.WSGITransport(app=vendor), detokenize=True)
    with httpx.Client(transport=transport, base_url="http://vendor.example") as client:
        reply = client.post("/v1/chat", json={"to": "jane.roe@example.com"})
    print("caller sees:   ", reply.json())


if __name__ == "__main__":
    main()
