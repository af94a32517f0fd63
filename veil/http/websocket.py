"""WebSocket messages, one whole message at a time, decided the same way in every adapter.

A server hands the adapter each whole message (mitmproxy's ``websocket_message`` hook, an ASGI
``websocket.receive`` or ``websocket.send``); the adapter asks :func:`redact_message` what may
cross and converts the answer back to its server's message.

- **Text** messages are redacted on the upgrade request's route: one that is a JSON document
  (an object, an array, or a top-level string or number) as a JSON body, any other as text. A
  message from the client is a ``request``, one to the client a ``response`` (the upstream's
  through the proxy, the app's through the ASGI middleware).
- Text that only looks like JSON (it opens with ``{``, ``[`` or ``"`` but orjson rejects it:
  ``NaN``, a lone surrogate, a trailing comma...) is read as text, and then once more as a
  lenient parser (Python's ``json``) would read it, its string escapes decoded: a value hidden
  behind ``\\u0040`` that survives the text pass refuses the message (``invalid_json``).
- **Binary** messages cannot be read: they must not cross, unless the adapter's option says
  they carry no text (audio frames, say).
- **Any failure** (binary, over ``limits.max_body_bytes``, an internal error) raises
  :class:`veil.errors.RedactionError`: the adapter drops the message and closes the connection
  (code 1008, policy violation, with :func:`close_reason`), and drops every later message.
  ``on_error: passthrough`` does not apply: a message has no error answer to fall back on,
  so the connection is the only thing left to refuse, and a raw message must not cross.
- Each message is reported to the adapter's observer once: ``rewritten``, ``unchanged``,
  ``skipped`` (binary let through unread) or ``error`` (counted in ``veil_errors_total``).

Close reasons are text too (at most 123 bytes): :func:`redact_close_reason`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from veil.errors import RedactionError
from veil.http.aborts import StreamAborted
from veil.http.exchange import Exchange
from veil.http.failures import engine_errors
from veil.rules.plan_types import EMPTY_REPORT, Report, Route
from veil.rules.restore import Restorer, TokenLedger

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
POLICY_VIOLATION = 1008
"""The close code veil sends when a message must not cross (RFC 6455, section 7.4.1)."""
SUBPROTOCOL_HEADER = "sec-websocket-protocol"
"""The handshake header that offers subprotocols (request) and names the chosen one (response)."""
MAX_CLOSE_REASON = 123
"""The most bytes a close frame's reason may hold (RFC 6455, section 5.5: 125 minus the code)."""


class WebSocketClosed(StreamAborted, OSError):
    """Raised to an app that sends on a WebSocket veil has closed, as ASGI servers raise an
    ``OSError`` on a closed socket; servers' logs drop it like any :class:`StreamAborted`."""

    def __init__(self, reason: str) -> None:
        RedactionError.__init__(self, reason, f"WebSocket closed by veil: {reason}")


def close_reason(reason: str) -> str:
    """The reason veil's close frame carries: its reason code, never payload text."""
    return f"veil: {reason}"


def redact_message(
    exchange: Exchange, direction: str, content: bytes, *, text: bool, binary_passes: bool,
    restorer: Restorer | None = None, ledger: TokenLedger | None = None,
) -> bytes:
    """The message as it may cross (``content`` itself when nothing changed).

    ``direction``: ``request`` (from the client) or ``response`` (to it); ``text``: a text
    message (UTF-8), else binary. ``restorer`` opens tokens in a ``response``; ``ledger``
    records the tokens a ``request`` made, so later responses may open them. Raises
    RedactionError (reported to the observer) when the message must not cross.
    """
    started = time.perf_counter()
    try:
        with engine_errors("websocket message"):
            if not text:
                if not binary_passes:
                    raise RedactionError("binary_message", "binary WebSocket messages are not read")
                out, report = content, EMPTY_REPORT
            elif len(content) > exchange.limit:
                raise RedactionError("body_too_large", "WebSocket message is over the limit")
            else:
                out, report = _redact_text(exchange, direction, content, restorer)
    except RedactionError as exc:
        _observe(exchange, direction, "error", EMPTY_REPORT, started, len(content), exc.reason)
        raise
    if ledger is not None and direction == "request":
        ledger.record(content, out)  # tokens made here may come back in later responses
    outcome = "skipped" if not text else ("rewritten" if out != content else "unchanged")
    _observe(exchange, direction, outcome, report, started, len(content))
    return content if out == content else out


def refused(exchange: Exchange, direction: str, size: int, reason: str, detail: str) -> RedactionError:
    """The error for a message the adapter refuses before reading it (one its server would
    send differently from how veil would read it), reported to the observer as ``error``."""
    _observe(exchange, direction, "error", EMPTY_REPORT, time.perf_counter(), size, reason)
    return RedactionError(reason, detail)


def offered_subprotocols(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The subprotocols a handshake's (redacted) ``Sec-WebSocket-Protocol`` headers offer, in
    order, as servers build an ASGI scope's ``subprotocols`` from them."""
    return [name.strip() for key, value in headers if key.lower() == SUBPROTOCOL_HEADER
            for name in value.split(",") if name.strip()]


def redact_close_reason(exchange: Exchange, direction: str, reason: str) -> str:
    """A close frame's reason as it may cross, cut to :data:`MAX_CLOSE_REASON` bytes (a
    placeholder can be longer than what it replaced). Raises RedactionError (observed)."""
    if not reason:
        return reason
    started = time.perf_counter()
    content = reason.encode("utf-8", "surrogatepass")
    try:
        with engine_errors("websocket close reason"):
            out = exchange.plan.redact_body(content, TEXT, exchange.route(direction, TEXT)).output
    except RedactionError as exc:
        _observe(exchange, direction, "error", EMPTY_REPORT, started, len(content), exc.reason)
        raise
    if out == content:
        return reason
    return out[:MAX_CLOSE_REASON].decode("utf-8", "ignore")  # "ignore": a character cut in two is dropped


def _redact_text(exchange: Exchange, direction: str, content: bytes, restorer: Restorer | None) -> tuple[bytes, Report]:
    plan = exchange.plan
    opener = content.lstrip()[:1]
    if opener and opener in _JSON_VALUE_OPENERS:
        try:
            result = plan.redact_body(content, JSON, exchange.route(direction, JSON))
            return _restored(direction, result.output, "json", restorer), result.report
        except RedactionError as exc:
            if exc.reason != "invalid_json":
                raise
    # Free text, or text that only looks like JSON: every detector runs over all of it.
    route = exchange.route(direction, TEXT)
    result = plan.redact_body(content, TEXT, route)
    if opener and opener in _ESCAPED_VALUE_OPENERS and b"\\" in result.output:
        _refuse_hidden_escapes(exchange, route, result.output)
    return _restored(direction, result.output, "text", restorer), result.report


_JSON_VALUE_OPENERS = frozenset(bytes([byte]) for byte in b'{["-0123456789')
"""First bytes of a JSON document orjson may parse (``true``, ``false``, ``null`` hold nothing)."""
_ESCAPED_VALUE_OPENERS = frozenset((b"{", b"[", b'"'))
"""First bytes of a document that can hold JSON strings, whose escapes a parser decodes."""
_JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_SHORT_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def json_unescaped(text: str) -> str:
    """``text`` with every JSON string escape decoded, wherever it stands, as a parser decodes
    the strings of a document (``\\u0040`` is ``@``; a surrogate pair one character)."""
    if "\\" not in text:
        return text
    decoded = _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else _SHORT_ESCAPES[m[2]], text)
    return decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _refuse_hidden_escapes(exchange: Exchange, route: Route, out: bytes) -> None:
    """Text that looks like JSON and is none still reaches parsers that accept it (Python's
    ``json`` takes ``NaN`` and lone surrogates): what they would decode from ``out`` must hold
    nothing the plan redacts, else the message is refused."""
    text = out.decode("utf-8", "surrogatepass")
    decoded = json_unescaped(text)
    if decoded != text and exchange.plan.redact_text(decoded, route).report.changed:
        raise RedactionError("invalid_json", "a text message that opens like JSON but is none "
                                             "hides a value behind its string escapes")


def _restored(direction: str, body: bytes, kind: str, restorer: Restorer | None) -> bytes:
    if direction != "response" or restorer is None:
        return body
    return restorer.restore_body(body, JSON if kind == "json" else TEXT, kind=kind)[0]


def _observe(exchange: Exchange, direction: str, outcome: str, report: Report, started: float, size: int,
             reason: str = "") -> None:
    exchange.options.observer.observe(
        adapter=exchange.adapter, direction=direction, outcome=outcome, report=report,
        seconds=time.perf_counter() - started, size=size, reason=reason,
    )
