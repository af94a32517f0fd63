"""What a failure looks like to the client and in the log, the same in every adapter.

When a body cannot be processed (invalid JSON under a JSON type, over a limit, bad
encoding, an encoding veil cannot decode) and ``on_error`` is ``block`` (the default),
a request is refused and a response replaced, with a JSON error body::

    {"error": "veil_redaction_failed", "reason": "invalid_json", "direction": "request"}

Status: 413 for ``body_too_large`` and ``decompressed_too_large`` on a request, 400 for
other request failures, 502 for any response failure. With ``on_error: passthrough`` the
original message is delivered unchanged.

Log lines carry a reason code, the method and the ids of the policy rules on the route
(what the route matched, in the policy's own words): never the path, which can hold an
e-mail or a token, nor a header or body. An unexpected exception inside the engine is
logged by type and stack frames only, because a parser's or codec's message can quote
the input it choked on (``invalid literal for int(): 'jane@...'``).
"""

from __future__ import annotations

import json
import logging
import traceback
from types import TracebackType

from veil.errors import RedactionError
from veil.rules.plan import Plan
from veil.rules.plan_types import Route

log = logging.getLogger(__name__)


def error_response(reason: str, direction: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The documented fail-closed answer: (status, headers, JSON body)."""
    if direction == "request":
        status = 413 if reason in ("body_too_large", "decompressed_too_large") else 400
    else:
        status = 502
    body = error_body(reason, direction)
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return status, headers, body


def error_body(reason: str, direction: str) -> bytes:
    """The JSON error document alone (also the last event of a stream cut on failure)."""
    document = {"error": "veil_redaction_failed", "reason": reason, "direction": direction}
    return json.dumps(document, separators=(",", ":")).encode()


def rule_ids(plan: Plan, route: Route) -> str:
    """The ids of the policy rules that apply on ``route``: what a log line names instead of the path."""
    rules = plan.view(Route(route.direction, route.method, route.host, route.path, "")).rules
    return ",".join(rule.id for rule in rules) or "none"


def describe(plan: Plan, route: Route) -> str:
    """``METHOD, rules: a,b``: all a log line may say about an exchange."""
    return f"{route.method or '-'}, rules: {rule_ids(plan, route)}"


def log_failure(logger: logging.Logger, plan: Plan, route: Route, reason: str, what: str = "") -> None:
    """One warning line: direction, reason code, method and rule ids (``what`` adds e.g. "stream aborted")."""
    suffix = f"; {what}" if what else ""
    logger.warning("veil: %s redaction failed: %s (%s)%s", route.direction, reason, describe(plan, route), suffix)


def frames_of(exc: BaseException) -> str:
    """The exception's type and stack frames, without its message (which can quote the payload)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"Traceback (most recent call last):\n{frames}{type(exc).__module__}.{type(exc).__qualname__}"


class engine_errors:  # lower case: used as the function it was, ``with engine_errors("request body"):``
    """Turn an unexpected exception inside veil's own processing into ``RedactionError("internal_error")``.

    The adapter then fails closed as for any other failure, and the server never logs
    the original exception's message. Wrap only veil's calls, never the app's.

    A class rather than a ``@contextmanager`` generator: it is entered several times per
    message, and a generator-based one costs a few microseconds more each time.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, RedactionError) or not isinstance(exc, Exception):
            return  # nothing raised, veil's own failure, or not an error (a cancellation): it goes on as it is
        log.error("veil: internal error in %s; handled as a failure\n%s", self.where, frames_of(exc))
        raise RedactionError("internal_error", f"internal error in {self.where}") from None
