"""Redact log records (stdlib ``logging``) and structlog event dicts with a veil Plan.

Use this when log lines may carry request data: emails in messages, card numbers
in ``extra`` fields, customer data inside exception messages.

    import logging
    from veil.integrations.logging import RedactingFilter

    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())          # $VEIL_POLICY, else the built-in default
    logging.getLogger().addHandler(handler)

Attach the filter to HANDLERS, not loggers: a filter on a logger only sees
records logged through that exact logger, never records that propagate up from
its children (``logging.getLogger("app.db")``), so a logger-level filter on
the root logger misses almost everything. With ``logging.config.dictConfig``::

    logging.config.dictConfig({
        "version": 1,
        "filters": {"veil": {"()": "veil.integrations.logging.RedactingFilter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["veil"]}},
        "root": {"level": "INFO", "handlers": ["console"]},
    })

For structlog, put :class:`RedactingProcessor` just before the renderer::

    structlog.configure(processors=[..., RedactingProcessor(), structlog.processors.JSONRenderer()])

Security caveats:

- The filter rewrites the record in place. Records are shared by all handlers
  of the logger chain, so handlers that run after the filtering one also see
  the redacted record; handlers that run before it see the raw one. Give every
  handler the filter (or put it on every handler of the root logger).
- Direction: log lines are treated as outbound data, so rules are chosen with
  ``Route("request")`` (and no method, host or path).
- Fail closed: if redaction raises (a format string that does not match its
  arguments counts), the message becomes
  ``[veil: log record could not be redacted]`` and the exception, stack and
  extra fields are blanked; the raw text is never emitted. This holds whatever
  the policy's ``on_error`` says: a log line has no client to receive an error.
- Out of reach: when a handler's ``emit`` itself fails while an exception is
  being handled, the stdlib's ``Handler.handleError`` prints that failure to
  stderr with the original exception chained, unredacted. Set
  ``logging.raiseExceptions = False`` in production.
- Arguments are formatted into the message first (``msg % args``) and the
  result is scanned by the detectors; ``record.args`` is then emptied so no
  later formatter can re-insert raw values.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import Any

from veil.rules.plan_types import Route
from veil.settings import PolicyArg, resolve_plan

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

FAILED_MESSAGE = "[veil: log record could not be redacted]"
"""What replaces a record's message (or a structlog event) when redaction raises."""

LOG_ROUTE = Route("request")
"""Log lines are treated as outbound data: rules for the ``request`` direction apply."""

# Attributes every LogRecord has; anything else came from ``extra=`` (or a filter).
# "message" and "asctime" are set by Formatter.format; "taskName" exists from 3.12.
STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

# structlog's ProcessorFormatter plumbing; removed before rendering, must stay objects.
_STRUCTLOG_META = frozenset({"_record", "_from_structlog"})

_JSON_SCALARS = (str, int, float, bool, type(None))
_CONTAINERS = (dict, list, tuple)


class _Redactor:
    """Shared by the filter and the processor: one Plan, resolved once."""

    def __init__(self, policy: PolicyArg) -> None:
        self.plan = resolve_plan(policy)

    def text(self, text: str) -> str:
        return self.plan.redact_text(text, LOG_ROUTE).text

    def field(self, name: str, value: Any) -> Any:
        """Redact one named value (an ``extra`` attribute or a structlog key).

        The value is redacted under its name as ``{name: value}``, so field-name
        rules apply too (``extra={"password": ...}``). Strings are scanned as
        text first; objects that are not JSON-like are logged as ``str()``. A
        value the policy drops comes back as None.
        """
        if isinstance(value, str):
            value = self.text(value)
        elif not _is_json_like(value):
            value = self.text(str(value))
        try:
            redacted, _ = self.plan.redact_json({name: value}, LOG_ROUTE)
        except TypeError:  # orjson refuses it (integers beyond 64 bits): scan it as text
            redacted, _ = self.plan.redact_json({name: self.text(str(value))}, LOG_ROUTE)
        return next(iter(redacted.values()), None)  # the key itself may have been rewritten

    def container(self, value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> Any:
        """A container log argument with field-name rules applied; as is if not JSON-like.

        Leaving it as is is safe: the formatted message is scanned as text anyway.
        """
        if not _is_json_like(value):
            return value
        try:
            redacted, _ = self.plan.redact_json(value, LOG_ROUTE)
        except TypeError:
            return value
        return redacted


def _is_json_like(value: Any) -> bool:
    if isinstance(value, _JSON_SCALARS):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, _JSON_SCALARS) and _is_json_like(v) for k, v in value.items())
    return False


class RedactingFilter(logging.Filter):
    """A ``logging.Filter`` that redacts records in place and never drops one.

    ``policy``: a policy file path, a policy dict, or a compiled Plan; None
    means ``$VEIL_POLICY``, else the built-in default. It is resolved once,
    here; a policy error raises now, not on the first log call. ``name`` is
    ``logging.Filter``'s logger-name prefix (empty: every record).

    What is rewritten: the formatted message (stored back in ``record.msg``,
    with ``record.args = ()``), the exception text (formatted into
    ``record.exc_text``; ``record.exc_info`` is set to None so handlers use
    the redacted text), ``record.stack_info``, and every ``extra`` attribute.

        >>> handler = logging.StreamHandler()
        >>> handler.addFilter(RedactingFilter())
    """

    def __init__(self, policy: PolicyArg = None, name: str = "") -> None:
        super().__init__(name)
        self._redactor = _Redactor(policy)

    def filter(self, record: logging.LogRecord) -> bool:
        if not super().filter(record):
            return True  # outside our name prefix: untouched, but never dropped by us
        try:
            self._redact(record)
        except Exception:  # fail closed, whatever the cause
            _blank(record)
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        r = self._redactor
        # 1. Format, then scan the whole line: detectors see values in context.
        message = r.text(self._format(record))
        # 2. Exception text: Formatter caches it in exc_text; we fill that cache
        #    with redacted text and drop exc_info so nothing re-formats it raw.
        exc_text = record.exc_text
        if record.exc_info and record.exc_info[0] is not None:
            exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = r.text(exc_text) if exc_text else exc_text
        stack_info = r.text(record.stack_info) if record.stack_info else record.stack_info
        extras = {k: r.field(k, v) for k, v in vars(record).items() if k not in STANDARD_ATTRS}
        # 3. Assign only once everything succeeded; on failure _blank() resets all of it.
        record.msg, record.args = message, ()
        record.exc_info, record.exc_text, record.stack_info = None, exc_text, stack_info
        if "message" in vars(record):  # an earlier handler's Formatter cached the raw line
            record.message = message
        for k, v in extras.items():
            setattr(record, k, v)

    def _format(self, record: logging.LogRecord) -> str:
        """``msg % args``, with container arguments redacted first.

        Containers get field-name rules that a text scan cannot apply (a dict
        with a "password" key; ``%(password)s`` with a mapping). Scalars keep
        their type for ``%d``; if the redacted arguments no longer fit the
        format, the raw ones are used: the line is scanned as text either way.
        """
        r = self._redactor
        raw = record.args
        if not raw and isinstance(record.msg, (dict, list)):
            return str(r.container(record.msg))
        if isinstance(raw, tuple):
            record.args = tuple(r.container(a) if isinstance(a, _CONTAINERS) else a for a in raw)
        elif isinstance(raw, Mapping):
            record.args = {
                k: r.field(k, v) if isinstance(k, str) and isinstance(v, (str, *_CONTAINERS)) else v
                for k, v in raw.items()
            }
        try:
            return record.getMessage()
        except (TypeError, ValueError, KeyError):
            record.args = raw
            return record.getMessage()


def _blank(record: logging.LogRecord) -> None:
    record.msg, record.args = FAILED_MESSAGE, ()
    record.exc_info = record.exc_text = record.stack_info = None
    if "message" in vars(record):
        record.message = FAILED_MESSAGE
    for k in list(vars(record)):
        if k not in STANDARD_ATTRS:
            setattr(record, k, FAILED_MESSAGE)


class RedactingProcessor:
    """A structlog processor that redacts every value of the event dict.

    ``policy`` as for :class:`RedactingFilter`, resolved once, here. Place it
    after the processors that add data (``format_exc_info``, ``add_log_level``,
    ``TimeStamper``...) and just before the renderer. Strings are scanned as
    text, JSON-like values (dicts, lists, numbers) with field-name rules, and
    other objects via ``str()``. An ``exc_info`` still in the event dict is
    formatted into a redacted ``exception`` string, so the order of
    ``format_exc_info`` cannot leak a traceback. If redaction raises, the
    event becomes ``[veil: log record could not be redacted]`` and only
    ``level``, ``logger`` and ``timestamp`` are kept.

        >>> structlog.configure(processors=[RedactingProcessor(), structlog.processors.JSONRenderer()])  # doctest: +SKIP
    """

    def __init__(self, policy: PolicyArg = None) -> None:
        self._redactor = _Redactor(policy)

    def __call__(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        try:
            redacted = self._redact(event_dict)
        except Exception:  # fail closed, whatever the cause
            kept = {k: event_dict[k] for k in ("level", "logger", "timestamp") if isinstance(event_dict.get(k), str)}
            redacted = {**kept, "event": FAILED_MESSAGE}
        event_dict.clear()
        event_dict.update(redacted)
        return event_dict

    def _redact(self, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
        r = self._redactor
        out: dict[str, Any] = {}
        for key, value in event_dict.items():
            if key in _STRUCTLOG_META:
                out[key] = value
            elif key == "exc_info" and not isinstance(value, str):
                info = _exc_info(value)
                if info is not None:
                    out["exception"] = r.text(logging.Formatter().formatException(info))
            else:
                out[key] = r.field(key, value)
        return out


def _exc_info(value: Any) -> ExcInfo | None:
    """structlog's reading of ``exc_info``: an exception, a sys.exc_info() tuple, or truthy."""
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return (type(value[1]), value[1], value[2])
    if value:
        info = sys.exc_info()
        if info[1] is not None:
            return (type(info[1]), info[1], info[2])
    return None


__all__ = ["FAILED_MESSAGE", "LOG_ROUTE", "RedactingFilter", "RedactingProcessor"]
