"""Values the engine returns: findings, reports and results. Never payload text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Route:
    """Where a payload travels; rules with a ``match`` section are chosen by this.

    ``direction`` is ``request`` (entering the app / leaving to a vendor) or
    ``response``. Empty strings match only rules that do not constrain that part.
    """

    direction: str = "request"
    method: str = ""
    host: str = ""
    path: str = ""
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One sensitive value found. Carries where and what, never the value itself.

    ``location`` is ``body``, ``key``, ``header``, ``query``, ``cookie`` or ``form``;
    ``path`` is a JSONPath for bodies (``$.user.email``), else the name.
    ``start``/``end`` are ``str`` offsets inside the original string for
    detector hits, and -1 when the whole value was covered.
    """

    type: str
    rule: str
    action: str
    location: str
    path: str
    mode: str = "enforce"
    start: int = -1
    end: int = -1

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": self.type,
            "rule": self.rule,
            "action": self.action,
            "location": self.location,
            "path": self.path,
            "mode": self.mode,
        }
        if self.start >= 0:
            out["start"] = self.start
            out["end"] = self.end
        return out


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...] = ()
    changed: bool = False

    def counts(self) -> Counter[tuple[str, str, str, str]]:
        """Findings counted by (type, rule, action, mode): safe for metrics labels."""
        return Counter((f.type, f.rule, f.action, f.mode) for f in self.findings)

    def merge(self, other: "Report") -> "Report":
        return Report(self.findings + other.findings, self.changed or other.changed)


EMPTY_REPORT = Report()


@dataclass(frozen=True, slots=True)
class Result:
    """A processed body: ``output`` is what may cross the boundary."""

    output: bytes
    report: Report = field(default_factory=Report)
    kind: str = "json"
    """How the body was handled: json, ndjson, form, text, or skipped (binary/unknown)."""
