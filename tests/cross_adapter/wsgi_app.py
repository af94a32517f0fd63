"""The case app as a plain WSGI app behind veil's WSGIMiddleware (``$VEIL_POLICY``); served by gunicorn
in the cross-adapter test."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from tests.cross_adapter.recorder import PAUSE, record, response_for
from veil.middleware.wsgi import WSGIMiddleware


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    named = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}
    pairs = [(named[key], value) for key, value in environ.items() if key in named and value]
    pairs += [(key[5:].replace("_", "-").lower(), value) for key, value in environ.items() if key.startswith("HTTP_")]
    return pairs


def _read(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(environ["wsgi.input"].read(int(length)))
    return b""


def _paced(chunks: tuple[bytes, ...]) -> Iterator[bytes]:
    for n, chunk in enumerate(chunks):
        if n:
            time.sleep(PAUSE)
        yield chunk


def case_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    record(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""), _headers(environ), _read(environ))
    case = response_for(path)
    if case is None:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    headers = list(case.headers)
    if len(case.chunks) == 1:
        headers.append(("Content-Length", str(len(case.chunks[0]))))
        start_response(f"{case.status} X", headers)
        return [case.chunks[0]]
    start_response(f"{case.status} X", headers)
    return _paced(case.chunks)


app = WSGIMiddleware(case_app)
