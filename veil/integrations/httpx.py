"""Redact what an httpx client sends to a vendor, and restore tokens in what comes back.

    import httpx
    from veil.integrations.httpx import RedactingTransport

    client = httpx.Client(transport=RedactingTransport(policy="egress.yaml", detokenize=True))
    client.post("https://api.vendor.example/v1/chat", json={"prompt": "mail jane@example.com"})

Direction: for an egress client, ``request`` is what leaves to the vendor and
``response`` is what the vendor sends back. Request bodies, headers and the
query string are redacted with the plan before they leave; with
``detokenize=True`` veil tokens in the vendor's response (``tok_EMAIL_k1_...``,
e.g. echoed by an LLM) are replaced with the original values, so the caller
sees real data while the vendor never did. Response bodies are not redacted
unless ``redact_responses=True``.

Fail closed: a request body veil cannot process raises ``RedactionError`` and
nothing is sent. Streaming request bodies (generators) are read in full first,
up to the plan's body limit.

The transport wraps another one (by default httpx's own), following httpx's
"custom transports that wrap the default" pattern, so bodies can be rewritten,
which event hooks cannot do.
"""

from __future__ import annotations

from typing import Any

from veil.middleware._http import Options, header_value, redact_buffered, redact_head
from veil.rules.plan_types import Route
from veil.rules.restore import Restorer
from veil.settings import PolicyArg, resolve_plan

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("veil.integrations.httpx needs httpx: install veil[httpx]") from exc



class _Redactor:
    def __init__(self, policy: PolicyArg, detokenize: bool, redact_responses: bool) -> None:
        self.plan = resolve_plan(policy)
        self.redact_responses = redact_responses
        self.options = Options()
        # With detokenize=True every key of the policy may open the vendor's tokens, in the default scope.
        rings = self.plan.keyrings() if detokenize else ()
        self.restorer = Restorer(tuple((ring, ("",)) for ring in rings)) if rings else None

    def request(self, request: httpx.Request, body: bytes) -> httpx.Request:
        url = request.url
        route = Route("request", request.method, url.host, url.path, request.headers.get("content-type", ""))
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
        query = url.query.decode("ascii")
        headers, query, _ = redact_head(self.plan, route, headers, query)
        encoding = header_value(headers, "content-encoding")
        new_body, _, _ = redact_buffered(self.plan, route, body, route.content_type, encoding, self.options)
        return httpx.Request(
            request.method,
            url.copy_with(query=query.encode("ascii")),
            headers=headers,
            content=new_body,
            extensions=request.extensions,
        )

    def response(self, request: httpx.Request, response: httpx.Response, body: bytes) -> httpx.Response:
        ctype = response.headers.get("content-type", "")
        if self.redact_responses:
            route = Route("response", request.method, request.url.host, request.url.path, ctype)
            body, _, _ = redact_buffered(self.plan, route, body, ctype, "", self.options)
        if self.restorer is not None:
            body, _ = self.restorer.restore_body(body, ctype, kind="json" if "json" in ctype else "text")
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=body,
                              request=request, extensions=response.extensions)


class RedactingTransport(httpx.BaseTransport):
    """A sync transport: ``httpx.Client(transport=RedactingTransport(policy=...))``."""

    def __init__(self, policy: PolicyArg = None, *, transport: httpx.BaseTransport | None = None,
                 detokenize: bool = False, redact_responses: bool = False, **transport_options: Any) -> None:
        self._inner = transport or httpx.HTTPTransport(**transport_options)
        self._redactor = _Redactor(policy, detokenize, redact_responses)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        outgoing = self._redactor.request(request, request.read())
        response = self._inner.handle_request(outgoing)
        try:
            # Decoded (gzip etc. removed): tokens are found in the plain bytes.
            body = b"".join(httpx.Response(response.status_code, headers=response.headers,
                                           stream=response.stream).iter_bytes())
        finally:
            response.close()
        return self._redactor.response(request, response, body)

    def close(self) -> None:
        self._inner.close()


class AsyncRedactingTransport(httpx.AsyncBaseTransport):
    """The async twin: ``httpx.AsyncClient(transport=AsyncRedactingTransport(policy=...))``."""

    def __init__(self, policy: PolicyArg = None, *, transport: httpx.AsyncBaseTransport | None = None,
                 detokenize: bool = False, redact_responses: bool = False, **transport_options: Any) -> None:
        self._inner = transport or httpx.AsyncHTTPTransport(**transport_options)
        self._redactor = _Redactor(policy, detokenize, redact_responses)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        outgoing = self._redactor.request(request, await request.aread())
        response = await self._inner.handle_async_request(outgoing)
        try:
            decoded = httpx.Response(response.status_code, headers=response.headers, stream=response.stream)
            body = b"".join([chunk async for chunk in decoded.aiter_bytes()])
        finally:
            await response.aclose()
        return self._redactor.response(request, response, body)

    async def aclose(self) -> None:
        await self._inner.aclose()


__all__ = ["AsyncRedactingTransport", "RedactingTransport"]
