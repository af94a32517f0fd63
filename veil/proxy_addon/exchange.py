"""What one flow carries between the addon's hooks, and header conversions for mitmproxy."""

from __future__ import annotations

from dataclasses import dataclass

from veil.middleware._http import Options, header_bytes, header_value
from veil.proxy_addon.stream import ResponseStream
from veil.rules.plan import Plan
from veil.rules.plan_types import Route
from veil.rules.restore import Restorer

Headers = list[tuple[str, str]]


@dataclass(slots=True)
class Exchange:
    """What one flow keeps between hooks: the plan it started with, and its request route."""

    plan: Plan
    options: Options
    method: str
    host: str
    path: str
    limit: int
    restorer: Restorer | None = None
    stream: ResponseStream | None = None
    failed: str = ""
    """Set when the response failed in ``responseheaders``: the ``response`` hook blocks it
    (a response set earlier would get the upstream's body written into it)."""

    def route(self, direction: str, content_type: str) -> Route:
        return Route(direction, self.method, self.host, self.path, content_type)


def declared_length(headers: Headers) -> int:
    try:
        return int(header_value(headers, "content-length") or 0)
    except ValueError:
        return 0


def raw_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), header_bytes(v)) for k, v in headers]  # case kept: mitmproxy sends it as is
