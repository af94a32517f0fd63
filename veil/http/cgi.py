"""CGI-style environs (a WSGI ``environ``, Django's ``request.META``): host and head rewriting."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from veil.http.headers import redact_head, redact_request_path
from veil.rules.plan import Plan
from veil.rules.plan_types import Route


def cgi_host(environ: Mapping[str, Any]) -> str:
    """The host a WSGI environ (or Django's META) was addressed to."""
    return str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))


def cgi_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``HTTP_*`` entries as header pairs (``HTTP_X_REQUEST_ID`` -> ``x-request-id``), and
    ``CONTENT_TYPE`` as ``content-type`` (its parameters are scanned: :mod:`veil.rules.protocol_headers`)."""
    pairs = [(k[5:].replace("_", "-").lower(), environ[k]) for k in environ if k.startswith("HTTP_")]
    if environ.get("CONTENT_TYPE"):
        pairs.append(("content-type", environ["CONTENT_TYPE"]))
    return pairs


def redact_cgi_head(plan: Plan, route: Route, environ: MutableMapping[str, Any]) -> bool:
    """Rewrite the ``HTTP_*`` headers, ``CONTENT_TYPE`` and ``QUERY_STRING`` of a WSGI environ (or
    Django's META) in place; True when something changed. Raises RedactionError."""
    keys = [k for k in environ if k.startswith("HTTP_") or (k == "CONTENT_TYPE" and environ[k])]
    query = environ.get("QUERY_STRING", "")
    headers, new_query, report = redact_head(plan, route, cgi_headers(environ), query)
    if not report.changed:
        return False
    for key in keys:
        del environ[key]
    for name, value in headers:
        if name == "content-type":  # CGI's own key, not an HTTP_ one
            environ["CONTENT_TYPE"] = value
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        sep = "; " if name == "cookie" else ", "  # PEP 3333 servers join repeated headers the same way
        environ[key] = environ[key] + sep + value if key in environ else value
    environ["QUERY_STRING"] = new_query
    for raw in ("RAW_URI", "REQUEST_URI"):  # gunicorn / uWSGI keep the original target, query included
        if raw in environ and new_query != query:
            environ[raw] = environ[raw].partition("?")[0] + (f"?{new_query}" if new_query else "")
    return True


_PATH_SAFE = "/!$&'()*+,;=:@~-._"
"""What a path keeps unencoded when a decoded path is turned back into a raw one."""


def raw_path_of(decoded: bytes) -> str:
    """A percent-decoded path (bytes) as a raw path the plan reads segment by segment."""
    return quote(decoded, safe=_PATH_SAFE)


def redact_cgi_path(plan: Plan, route: Route, environ: MutableMapping[str, Any]) -> bool:
    """Hand the app the redacted path: ``PATH_INFO`` (decoded, latin-1 as PEP 3333 has it) and
    the path part of gunicorn's ``RAW_URI`` / uWSGI's ``REQUEST_URI``; True when it changed.
    ``route.path`` stays the original: veil's own rules match on it. Raises RedactionError."""
    info = str(environ.get("PATH_INFO", ""))
    raw = raw_path_of(info.encode("latin-1"))
    new, report = redact_request_path(plan, route, raw)
    if not report.changed:
        return False
    environ["PATH_INFO"] = unquote_to_bytes(new).decode("latin-1")
    redact_raw_targets(plan, route, environ)
    return True


def redact_raw_targets(plan: Plan, route: Route, environ: MutableMapping[str, Any]) -> None:
    """The path part of gunicorn's ``RAW_URI`` and uWSGI's ``REQUEST_URI`` (the original target,
    kept beside ``PATH_INFO``) redacted as the path is; their query part is left to
    :func:`redact_cgi_head`. For an adapter that sets the decoded path itself (Django's
    ``path_info``). Raises RedactionError."""
    for key in ("RAW_URI", "REQUEST_URI"):
        if key in environ:
            path, mark, query = str(environ[key]).partition("?")
            environ[key] = redact_request_path(plan, route, path)[0] + mark + query
