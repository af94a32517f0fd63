"""What the ASGI and WSGI middleware log when redaction fails (issue #15): the reason code, the
method and the ids of the rules on the route; never the path (which holds an e-mail here), a
body, nor the message of an exception raised inside the engine (third-party text can quote it)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from werkzeug.test import Client

import veil
from veil.middleware import ASGIMiddleware, WSGIMiddleware

EMAIL = "jane@example.com"
PATH = f"/users/{EMAIL}/orders"


def crash(*args: object, **kwargs: object) -> None:
    raise ValueError(f"invalid literal for int() with base 10: {EMAIL!r}")


async def asgi_echo(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


def wsgi_echo(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


def post(adapter: str, body: bytes) -> int:
    if adapter == "wsgi":
        return Client(WSGIMiddleware(wsgi_echo)).post(PATH, data=body, content_type="application/json").status_code

    async def run() -> int:
        transport = httpx.ASGITransport(app=ASGIMiddleware(asgi_echo))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.post(PATH, content=body, headers={"content-type": "application/json"})).status_code

    return asyncio.run(run())


@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
@pytest.mark.parametrize(("body", "crashes", "status", "reason"), [
    (b'{"email": "jane@example.com", ', False, 400, "invalid_json"),  # the engine's own failure
    (b'{"email": "jane@example.com"}', True, 400, "internal_error"),  # an exception quoting the payload
])
def test_a_failure_log_names_reason_method_and_rules_never_path_or_payload(
    adapter: str, body: bytes, crashes: bool, status: int, reason: str,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if crashes:
        monkeypatch.setattr(veil.Plan, "redact_body", crash)
    with caplog.at_level(logging.DEBUG, logger="veil"):
        assert post(adapter, body) == status
    text = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                     for r in caplog.records)
    assert EMAIL not in text and "jane" not in text and "/users" not in text, text
    assert f"request redaction failed: {reason} (POST, rules: default-" in text, text
    if crashes:
        assert "ValueError" in text and "in crash" in text  # type and frames: the bug can still be found
