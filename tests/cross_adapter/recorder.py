"""What every case app shares, whatever its server interface: record the request it received, and find
the response a ``/respond/<case id>`` request asks for.

A record is one JSON line appended to ``$CASE_LOG`` before the app answers (the test empties the file
before each request, so the file holds exactly what one request delivered). Bytes are kept byte for
byte as latin-1 text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from tests.cross_adapter.model import Response
from tests.cross_adapter.table import RESPONSES

RESPOND = "/respond/"
PAUSE = 0.05
"""Seconds between the chunks of a streamed response, so each one leaves the app on its own."""


def record(method: str, path: str, query: str, headers: Iterable[tuple[str, str]], body: bytes) -> None:
    entry = {
        "method": method,
        "path": path,
        "query": query,
        "headers": [[name.lower(), value] for name, value in headers],
        "body": body.decode("latin-1"),
    }
    with open(os.environ["CASE_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def response_for(path: str) -> Response | None:
    """The case response a path asks for, None for any other path (answered 200 ``ok``)."""
    if not path.startswith(RESPOND):
        return None
    return RESPONSES[path[len(RESPOND):]]
