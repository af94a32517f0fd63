"""Exceptions raised by veil.

Every error veil raises on purpose is a :class:`VeilError`. Policy problems are
:class:`PolicyError` and carry where they are (``source``, ``line``, ``column``,
``field``) so a user can fix the file without a traceback. Messages never quote
payload content.
"""

from __future__ import annotations

import codecs
import re

_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd", "compress", "x-compress", "identity"})


_CHARSET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._:+-]{0,39}")
"""The shape of a charset's name (RFC 2978's characters, less those no registered name uses)."""
_MAX_NAME_DIGITS = 8
"""Digits a quoted name may hold: ``ks_c_5601-1987`` has 8; an SSN, a card or a phone number more."""


def charset_named(charset: str) -> str:
    """A declared charset as a message may say it: Python's name for one it knows; one it does not,
    quoted (``'x-foo'``) only when shaped like a charset's name (no ``@``, no space, few digits),
    else ``<unknown charset>``: the sender wrote it, and it could hold an address or a number."""
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError, TypeError):
        pass
    shaped = _CHARSET_NAME.fullmatch(charset) is not None and sum(c.isdigit() for c in charset) <= _MAX_NAME_DIGITS
    return repr(charset) if shaped else "<unknown charset>"


def coding_named(coding: str) -> str:
    """A Content-Encoding as a message may say it: a registered coding by name, never other text."""
    coding = coding.strip().lower()
    return repr(coding) if coding in _CODINGS else "<unknown coding>"


class VeilError(Exception):
    """Base class of every error veil raises on purpose."""


class PolicyError(VeilError):
    """A policy that cannot be loaded or compiled.

    ``str(err)`` is ``source:line:column: field: message``; the parts are also
    attributes so tools can render them their own way. ``line`` and ``column``
    are 1-based, 0 when unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "<policy>",
        line: int = 0,
        column: int = 0,
        field: str = "",
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        where = self.source
        if self.line:
            where += f":{self.line}:{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class PolicyErrors(PolicyError):
    """Several policy problems found in one pass; ``errors`` lists them in file order."""

    def __init__(self, errors: list[PolicyError]) -> None:
        ordered = sorted(errors, key=lambda e: (e.line, e.column, e.field))
        self.errors = ordered
        first = ordered[0]
        super().__init__(
            first.message,
            source=first.source,
            line=first.line,
            column=first.column,
            field=first.field,
        )

    def render(self) -> str:
        return "\n".join(e.render() for e in getattr(self, "errors", []))


class RedactionError(VeilError):
    """A payload veil could not process (invalid JSON, over a limit, bad encoding).

    ``reason`` is a short stable code (``invalid_json``, ``body_too_large``,
    ``too_deep``, ``string_too_long``, ``bad_encoding``) suitable for metrics
    labels; the message says what happened without quoting the payload.
    Adapters add their own codes to the same label, e.g. the ext_proc server's
    ``body_mode_refused`` (a gateway ignored the body mode veil asked for).
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class KeyMaterialError(VeilError):
    """A token or hash key that is missing, malformed, or does not match a token."""
