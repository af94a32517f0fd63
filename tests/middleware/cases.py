"""One table of HTTP cases run through every adapter (ASGI, WSGI, Django, proxy).

Each adapter test sends ``body`` with ``content_type``/``encoding`` through the
adapter (as a request to an echo app, and as the app's response) and asserts
the bytes that arrive equal :func:`expected` computed with the plan directly.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

import veil
from veil.http import Options, redact_buffered


@dataclass(frozen=True)
class Case:
    name: str
    content_type: str
    body: bytes
    encoding: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=())
    query: str = ""
    must_vanish: tuple[bytes, ...] = ()


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


CASES = [
    Case("json", "application/json", b'{"user": {"email": "jane@example.com"}, "note": "ok"}',
         must_vanish=(b"jane@example.com",)),
    Case("json_free_text", "application/json; charset=utf-8", b'{"msg": "call +44 20 7946 0958 now"}',
         must_vanish=(b"7946 0958",)),
    Case("json_untouched", "application/json", b'{ "status" : "ok", "n": [1, 2.50] }'),
    Case("vendor_json", "application/vnd.api+json", b'{"data": {"card": "4111 1111 1111 1111"}}',
         must_vanish=(b"4111 1111 1111 1111",)),
    Case("form", "application/x-www-form-urlencoded", b"q=hello&email=jane%40example.com&password=hunter2",
         must_vanish=(b"hunter2", b"jane%40example.com")),
    Case("text", "text/plain", "José: jose@exemplo.com.br 電話".encode(), must_vanish=("jose@exemplo".encode(),)),
    Case("binary", "application/octet-stream", b"\x00\xffjane@example.com"),
    # Types that say nothing (issue 15): the head is sniffed; text is read, binary passes unread.
    Case("json_as_octet_stream", "application/octet-stream", b'{"email": "jane@example.com"}',
         must_vanish=(b"jane@example.com",)),
    Case("text_untyped", "", b"write to jane@example.com", must_vanish=(b"jane@example.com",)),
    Case("gzip_json_as_binary_octet_stream", "binary/octet-stream", _gz(b'{"email": "jane@example.com"}'),
         encoding="gzip", must_vanish=(b"jane@example.com",)),
    Case("binary_unknown", "application/unknown", b"GIF89a\x01\x00\x01\x00\x80\x00\x00jane@example.com"),
    Case("gzip_json", "application/json", _gz(b'{"email": "jane@example.com"}'), encoding="gzip",
         must_vanish=(b"jane@example.com",)),
    Case("headers_and_query", "application/json", b"{}",
         headers=(("authorization", "Bearer abc.def.ghi"), ("x-request-id", "r-1")),
         query="page=2&access_token=s3cr3t&email=jane%40example.com", must_vanish=(b"s3cr3t",)),
]


def expected(plan: veil.Plan, case: Case, direction: str, method: str = "POST", path: str = "/echo") -> bytes:
    """The body bytes the plan itself produces for ``case`` in ``direction``."""
    route = veil.Route(direction, method, "127.0.0.1", path, case.content_type)
    out, _, _ = redact_buffered(plan, route, case.body, case.content_type, case.encoding, Options())
    return out
