"""The shapes of the cross-adapter table: what a case sends, and what must cross each adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Side = Literal["request", "response"]
ADAPTERS = ("asgi", "wsgi", "django", "proxy", "httpx", "envoy")


@dataclass(frozen=True)
class Request:
    """A request as the client sends it (request side: what the adapter must redact)."""

    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "POST"
    path: str = "/v1/items"
    query: str = ""


@dataclass(frozen=True)
class Response:
    """A response as the app (or upstream, or vendor) produces it, in the chunks it sends them in."""

    chunks: tuple[bytes, ...]
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    status: int = 200


@dataclass(frozen=True)
class Crossed:
    """What arrives on the far side of the adapter: the app / upstream / vendor for a request, the client
    for a response. ``headers`` lists only the names the case checks; ``query`` None is not checked."""

    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    query: str | None = None
    path: str | None = None
    status: int = 200


@dataclass(frozen=True)
class Refused:
    """The adapter answers ``status`` with ``body`` itself; on the request side nothing reaches the app."""

    status: int
    body: bytes


@dataclass(frozen=True)
class Raised:
    """The httpx transport raises RedactionError with this reason (a client library has no status to give)."""

    reason: str


Expected = Crossed | Refused | Raised


@dataclass(frozen=True)
class Case:
    """One row: ``sent`` goes through every adapter in ``adapters``; ``expected`` is what must cross,
    unless ``per_adapter`` names a different (not defective) outcome for one adapter. ``defects`` marks
    adapters that let data through today, with the issue item that fixes it (strict xfail)."""

    id: str
    side: Side
    sent: Request | Response
    expected: Expected
    per_adapter: dict[str, Expected] = field(default_factory=dict)
    adapters: tuple[str, ...] = ADAPTERS
    defects: dict[str, str] = field(default_factory=dict)

    def expected_for(self, adapter: str) -> Expected:
        return self.per_adapter.get(adapter, self.expected)
