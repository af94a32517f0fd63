"""Finding records: one NDJSON line per finding of a sampled message, for ``veil discover``.

    from veil.observe.records import FindingRecorder
    recorder = FindingRecorder("/var/log/veil/findings-{pid}.ndjson")   # or "-" for stdout
    app.add_middleware(VeilASGIMiddleware, policy="policy.yaml", observer=recorder)
    # both: observer=Observers(metrics, recorder)

Only messages a ``sample:`` drew (:mod:`veil.rules.sampling`) are written; every other
body costs one type check. A record holds values of the plan, never of the payload::

    {"time": "2026-12-06T22:30:00Z", "adapter": "asgi", "direction": "response",
     "route": "/users/*", "location": "body", "path": "$.items[*].email", "type": "EMAIL",
     "rule": "users", "action": "redact", "mode": "enforce", "policy": "sha256:0123456789abcdef"}

``route`` is the path glob of the first rule in force on the route that has one (``*``: none
has), ``path`` the finding's value-free path with array indices folded (``[*]``), ``rule`` the
rule that decided (``""``: no rule acts, an uncovered finding), ``mode`` ``enforce`` or
``detect``, ``policy`` the digest of the policy (``veil-policy``, ``/policy``). These are the
keys ``veil discover`` reads (:data:`veil.discover.samples.RECORD_KEYS`).

A file rotates at ``max_bytes`` keeping ``backups`` old files (``.1``, ``.2``, ...), through
:class:`logging.handlers.RotatingFileHandler`: safe across threads, not across processes, so
give each process its own file (``{pid}`` in the name is replaced by the process id).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

import orjson

from veil.observe import Observer
from veil.rules.plan_types import Report
from veil.rules.sampling import SampledFinding, SampledReport

_INDEX = re.compile(r"\[(?:\d+|<key>)\]")


def record_of(finding: SampledFinding, adapter: str, direction: str, when: float) -> dict[str, str]:
    """The record of one sampled finding (see the module doc)."""
    path = finding.path
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
        "adapter": adapter,
        "direction": direction,
        "route": finding.route,
        "location": finding.location,
        "path": _INDEX.sub("[*]", path) if finding.location in ("body", "key") else path,
        "type": finding.type,
        "rule": finding.rule,
        "action": finding.action,
        "mode": finding.mode,
        "policy": finding.policy,
    }


class FindingRecorder:
    """An :class:`veil.observe.Observer` that writes the findings of sampled messages as NDJSON.

    ``target``: a file path (``{pid}`` replaced by the process id; rotated at ``max_bytes``,
    ``backups`` old files kept), ``"-"`` for standard output, or an open text stream.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str] = "-", *, max_bytes: int = 10 * 1024 * 1024,
                 backups: int = 3) -> None:
        # A handler alone, on no logger: records are data, not log lines (never in the app's log,
        # untouched by logging configuration); the handler brings the lock and the rotation.
        handler: logging.Handler
        if isinstance(target, (str, os.PathLike)) and str(target) != "-":
            path = Path(str(target).replace("{pid}", str(os.getpid())))
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        else:
            handler = logging.StreamHandler(sys.stdout if str(target) == "-" else target)  # type: ignore[arg-type]
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.handler = handler
        self.closed = False

    def observe(
        self, *, adapter: str, direction: str, outcome: str, report: Report, seconds: float, size: int,
        reason: str = "",
    ) -> None:
        if type(report) is not SampledReport or self.closed:
            return  # not drawn: the common case, one check
        when = time.time()
        for finding in report.findings:
            if isinstance(finding, SampledFinding):
                line = orjson.dumps(record_of(finding, adapter, direction, when)).decode()
                self.handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))

    def close(self) -> None:
        """Flush and close the file (the recorder writes nothing after)."""
        self.closed = True
        self.handler.close()


class Observers:
    """Several observers as one: ``observer=Observers(metrics, FindingRecorder(...))``."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = tuple(observers)

    def observe(
        self, *, adapter: str, direction: str, outcome: str, report: Report, seconds: float, size: int,
        reason: str = "",
    ) -> None:
        for observer in self.observers:
            observer.observe(adapter=adapter, direction=direction, outcome=outcome, report=report,
                             seconds=seconds, size=size, reason=reason)


__all__ = ["FindingRecorder", "Observers", "record_of"]
