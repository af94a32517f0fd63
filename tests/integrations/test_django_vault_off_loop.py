"""Django under a real ASGI server (uvicorn, in this process) with a vault plan: while one request
waits on the vault, the server still answers others.

This module is its own ROOT_URLCONF. The vault (:class:`tests.vault.held.HeldVault`) holds the first
request's token until the second request's response has arrived. veil's async middleware asks the
vault in a worker thread, so the event loop serves the second request meanwhile; asked on the loop,
the second request cannot be served and its client times out (the vault is released in cleanup).
Each case puts the vault's work in another part of the middleware: the request body, a whole
response body, and an async NDJSON stream redacted line by line.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import django  # type: ignore[import-untyped]
import httpx
import pytest
from django.conf import settings  # type: ignore[import-untyped]
from django.core.handlers.asgi import ASGIHandler  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]
from django.test import override_settings  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from tests.threaded_uvicorn import uvicorn_thread
from tests.vault.held import HeldVault, held_plan, while_held

MIDDLEWARE = ["veil.integrations.django.VeilMiddleware"]


def customer_of(case: str) -> bytes:
    """A customer record with an e-mail of its own: a value the plan tokenized before would not ask the vault."""
    return json.dumps({"customer": {"id": "c7", "email": email_of(case)}}).encode()


def email_of(case: str) -> str:
    return f"{case}@example.com"

SEEN: list[bytes] = []
LOOP_THREAD = "uvicorn-loop"


def customers(request: HttpRequest) -> HttpResponse:
    SEEN.append(request.body)
    return HttpResponse(b'{"ok": true}', content_type="application/json")


def customer(request: HttpRequest, case: str) -> HttpResponse:
    return HttpResponse(customer_of(case), content_type="application/json")


async def _feed(case: str) -> AsyncIterator[bytes]:
    yield customer_of(case) + b"\n"


def feed(request: HttpRequest, case: str) -> StreamingHttpResponse:
    return StreamingHttpResponse(_feed(case), content_type="application/x-ndjson")


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"pong": true}', content_type="application/json")


urlpatterns = [path("customers", customers), path("customer/<str:case>", customer), path("feed/<str:case>", feed),
               path("ping", ping)]

CASES = {  # where the vault is asked: (method, path, body) of the first request
    "request-body": ("POST", "/customers", customer_of("request-body")),
    "response-body": ("GET", "/customer/response-body", b""),
    "response-stream": ("GET", "/feed/response-stream", b""),
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, HeldVault]]:
    """One uvicorn serving Django's ASGI handler with veil's middleware under a held vault plan."""
    if not settings.configured:
        settings.configure(SECRET_KEY="veil-tests", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
                           MIDDLEWARE=MIDDLEWARE, INSTALLED_APPS=[], DATABASES={}, USE_TZ=True)
    django.setup()
    vault = HeldVault()
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE, ALLOWED_HOSTS=["*"],
                           VEIL={"POLICY": held_plan(vault)}):
        app = ASGIHandler()  # builds the middleware chain now, under these settings: async, as uvicorn runs it
        try:
            with uvicorn_thread(app, thread_name=LOOP_THREAD) as base:
                yield base, vault
        finally:
            vault.release.set()


@pytest.mark.parametrize("case", CASES)
def test_a_request_waiting_on_the_vault_leaves_the_server_serving(server: tuple[str, HeldVault], case: str) -> None:
    base, vault = server
    SEEN.clear()
    method, target, body = CASES[case]
    headers = {"content-type": "application/json"} if body else {}
    # Fails on the loop: the server cannot answer the second until the vault is released, which happens only after.
    reply, second = while_held(vault, lambda: httpx.request(method, base + target, content=body, headers=headers,
                                                            timeout=30),
                               lambda: httpx.get(f"{base}/ping", timeout=10))
    assert second.status_code == 200 and second.json() == {"pong": True}
    assert reply.status_code == 200, reply.content
    token = vault.issued[-1].token
    crossed = SEEN[0] if case == "request-body" else reply.content
    assert email_of(case).encode() not in crossed
    assert json.loads(crossed.splitlines()[0])["customer"] == {"id": "c7", "email": token}
    assert vault.threads[-1] != LOOP_THREAD  # asked in a worker thread
