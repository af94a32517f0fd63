"""A FastAPI app for tests/integrations/test_startup_servers.py, its policy from ``$STARTUP_POLICY``
(a server imports this module itself, so the path comes from the environment)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from veil.middleware import VeilASGIMiddleware

app = FastAPI()
# As the README writes it: Starlette builds this middleware inside its first ASGI call (the lifespan one).
app.add_middleware(VeilASGIMiddleware, policy=os.environ.get("STARTUP_POLICY"))


@app.get("/")
def root() -> dict[str, str]:
    return {"email": "jane@example.com"}
