"""Ending a stream whose headers already went out, with one log line instead of a traceback.

Once a streamed response's status and first lines are on the wire, a failure can no
longer become a 502, and ending the body cleanly would look complete to the client. The
adapter raises :class:`StreamAborted` instead: the server closes the connection, and the
client sees a broken stream, never raw bytes.

Servers log an exception that escapes the app with its traceback. veil has already logged
one warning naming the reason, so :func:`quiet_server_tracebacks` adds a filter to the
error loggers of the servers known to log that way (uvicorn, including gunicorn's
uvicorn worker; hypercorn; gunicorn's own workers) that drops their record when, and
only when, the exception is a ``StreamAborted``. Other servers (wsgiref, werkzeug's
development server, daphne, waitress) print the traceback; its message is the reason
code, never payload.
"""

from __future__ import annotations

import logging

from veil.errors import RedactionError

SERVER_ERROR_LOGGERS = ("uvicorn.error", "hypercorn.error", "gunicorn.error")


class StreamAborted(RedactionError):
    """Raised out of the app so the server aborts the connection; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, f"response stream aborted by veil: {reason}")


class _DropStreamAborted(logging.Filter):
    """Drops a server's record of a :class:`StreamAborted`: veil logged the one line it needs."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, StreamAborted)


_FILTER = _DropStreamAborted()


def quiet_server_tracebacks() -> None:
    """Install the filter on the known servers' error loggers (idempotent; called by each adapter)."""
    for name in SERVER_ERROR_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
