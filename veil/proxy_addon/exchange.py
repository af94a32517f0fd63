"""What one flow carries between the addon's hooks, and its headers as mitmproxy holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from veil.http import Headers, SniffedStream, describe, header_value, str_headers
from veil.http.exchange import Exchange as SharedExchange
from veil.http.exchange import Exchanges, ResponseBody
from veil.proxy_addon.stream import ResponseStream
from veil.rules.restore import Restorer, TokenLedger


@dataclass(slots=True, frozen=True)
class Head:
    """A message's headers as decoded once, kept with the mitmproxy field tuple they came from."""

    fields: object
    headers: Headers
    content_type: str
    content_encoding: str
    content_length: int
    """As declared; 0 when absent or not a number."""


def head_of(message: Any, seen: Head | None = None) -> Head:
    """``message``'s headers decoded, or ``seen`` again when mitmproxy still holds the very same
    field tuple (its headers are replaced, never changed in place, so the identity says nothing changed)."""
    fields = message.headers.fields
    if seen is not None and seen.fields is fields:
        return seen
    headers = str_headers(fields)
    return Head(fields, headers, header_value(headers, "content-type"), header_value(headers, "content-encoding"),
                declared_length(headers))


class Exchange(SharedExchange):
    """What one flow keeps between hooks: the plan it started with (a hot reload never changes
    a flow half way), its request route, and what the reply may restore."""

    def __init__(self, exchanges: Exchanges, method: str, host: str, path: str, limit: int) -> None:
        super().__init__(exchanges, method, host, path, limit)
        self.restorer: Restorer | None = None
        """What the reply may restore: the tokens ``ledger`` records, and no others."""
        self.ledger: TokenLedger | None = None
        """The tokens veil made in what the request sent (head, body, WebSocket messages)."""
        self.body: ResponseBody | None = None
        """The response as ``responseheaders`` began it (its head redacted, its mode chosen)."""
        self.stream: ResponseStream | SniffedStream | None = None
        """The stream function veil set on the response, if any."""
        self.unread: set[str] = set()
        """Directions veil itself let stream through unread (binary, over the limit under passthrough)."""
        self.request_head: Head | None = None
        self.response_head: Head | None = None
        """The headers each direction's first hook decoded: its second hook reuses them if unchanged."""
        self.failed = ""
        """Set when the response failed in ``responseheaders``: the ``response`` hook blocks it
        (a response set earlier would get the upstream's body written into it)."""

    def restore_with(self, restorer: Restorer | None, minted: dict[str, bool]) -> None:
        """Let the reply restore what ``restorer`` opens, of the tokens this request sends
        (recorded into ``minted``, which the flow keeps: a reloaded addon finds them there)."""
        self.ledger = restorer.ledger(minted) if restorer is not None else None
        self.restorer = self.ledger.restorer() if self.ledger is not None else None

    def record_sent(self, received: str | bytes, sent: str | bytes) -> None:
        """Note a part of the request as it came and as it leaves (see ``ledger``)."""
        if self.ledger is not None:
            self.ledger.record(received, sent)

    def describe(self, direction: str) -> str:
        """``METHOD, rules: a,b``: what a log line may say about this flow instead of its path
        (which can carry an e-mail or a token)."""
        return describe(self.plan, self.route(direction, ""))


def declared_length(headers: Headers) -> int:
    try:
        return int(header_value(headers, "content-length") or 0)
    except ValueError:
        return 0
