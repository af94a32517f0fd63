"""Values the engine returns: findings, reports and results. Never payload text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError, dataclass, field


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


class Finding:
    """One sensitive value found. Carries where and what, never the value itself.

    ``location`` is ``body``, ``key``, ``header``, ``query``, ``cookie``, ``form``, ``path``
    (a URL path segment) or ``fragment``. ``path`` is a JSONPath for bodies
    (``$.user.email``), the path before the segment for URL paths (``/users/<segment>``),
    else the name. It never holds payload text: a key or name not shaped like a field
    name, or one a detector found something in, is written ``[<key>]`` / ``<name>``.
    ``start``/``end`` are ``str`` offsets inside the original string for
    detector hits, and -1 when the whole value was covered.

    Immutable. ``path`` may be given as a function that renders it: the JSON walk
    does that, because most findings are only counted (metrics, adapters) and
    rendering a JSONPath for each cost as much as finding it. It is rendered once,
    on first read.
    """

    __slots__ = ("type", "rule", "action", "location", "_path", "mode", "start", "end")
    type: str
    rule: str
    action: str
    location: str
    _path: str | Callable[[], str]
    mode: str
    start: int
    end: int

    def __init__(
        self, type: str, rule: str, action: str, location: str, path: str | Callable[[], str],
        mode: str = "enforce", start: int = -1, end: int = -1,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "type", type)
        setattr_(self, "rule", rule)
        setattr_(self, "action", action)
        setattr_(self, "location", location)
        setattr_(self, "_path", path)
        setattr_(self, "mode", mode)
        setattr_(self, "start", start)
        setattr_(self, "end", end)

    @property
    def path(self) -> str:
        path = self._path
        if not isinstance(path, str):
            path = path()
            object.__setattr__(self, "_path", path)
        return path

    @property
    def unrendered_path(self) -> str | Callable[[], str]:
        """The path as given: a string, or the function that renders it if not read yet."""
        return self._path

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field '{name}'")

    def _fields(self) -> tuple[object, ...]:
        return (self.type, self.rule, self.action, self.location, self.path, self.mode, self.start, self.end)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"Finding(type={self.type!r}, rule={self.rule!r}, action={self.action!r}, "
                f"location={self.location!r}, path={self.path!r}, mode={self.mode!r}, "
                f"start={self.start!r}, end={self.end!r})")

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


class Report:
    """What a redaction did: its findings, and whether the output differs from the input.

    Immutable. The engine may hand over its findings as a function that makes
    them, with their (type, rule, action, mode) keys: adapters mostly count
    findings (metrics) or ignore them, and making a :class:`Finding` per value
    was a sixth of the engine's time on PII-dense bodies. They are made on the
    first read of ``findings``; ``counts`` never needs them.

    A stream's report is made :meth:`from_counts`: it keeps one number per
    (type, rule, action, mode), whatever the stream's length, and no findings.
    """

    __slots__ = ("_findings", "_keys", "_make", "_counts", "changed")
    _findings: tuple[Finding, ...] | None
    _keys: list[tuple[str, str, str, str]] | None
    _make: Callable[[], tuple[Finding, ...]] | None
    _counts: Counter[tuple[str, str, str, str]] | None
    changed: bool

    def __init__(self, findings: tuple[Finding, ...] = (), changed: bool = False) -> None:
        object.__setattr__(self, "_findings", findings)
        object.__setattr__(self, "_keys", None)
        object.__setattr__(self, "_make", None)
        object.__setattr__(self, "_counts", None)
        object.__setattr__(self, "changed", changed)

    @classmethod
    def deferred(
        cls, keys: list[tuple[str, str, str, str]], make: Callable[[], tuple[Finding, ...]], changed: bool
    ) -> "Report":
        """A report whose findings ``make()`` returns, in the order of their ``keys``."""
        if not keys:
            return cls((), changed)
        report = object.__new__(cls)  # the engine makes one per body: set each slot once
        set_ = object.__setattr__
        set_(report, "_findings", None)
        set_(report, "_keys", keys)
        set_(report, "_make", make)
        set_(report, "_counts", None)
        set_(report, "changed", changed)
        return report

    @classmethod
    def from_counts(cls, counts: Mapping[tuple[str, str, str, str], int], changed: bool) -> "Report":
        """A report that holds only ``counts`` (copied), keyed as :meth:`counts` returns them.

        For a stream, whose findings are counted as its lines pass and then let go:
        its size depends on the plan (how many keys), not on how much was read.
        ``findings`` is empty: a counted report has no paths or offsets to give,
        so read ``counts()``. Equal only to a counted report with the same counts
        and ``changed``; with no counts it is a plain empty report.
        """
        counted = Counter({key: n for key, n in counts.items() if n > 0})
        report = cls((), changed)
        if counted:
            object.__setattr__(report, "_counts", counted)
        return report

    @property
    def findings(self) -> tuple[Finding, ...]:
        findings = self._findings
        if findings is None:
            assert self._make is not None
            findings = self._make()
            object.__setattr__(self, "_findings", findings)
            object.__setattr__(self, "_make", None)
        return findings

    def counts(self) -> Counter[tuple[str, str, str, str]]:
        """Findings counted by (type, rule, action, mode): safe for metrics labels."""
        if self._counts is not None:
            return Counter(self._counts)  # a copy: the report stays as it was made
        if self._keys is not None:
            return Counter(self._keys)
        return Counter((f.type, f.rule, f.action, f.mode) for f in self.findings)

    def merge(self, other: "Report") -> "Report":
        """Both reports' findings; counted if either is (the other's findings are then counted too)."""
        if self._counts is not None or other._counts is not None:
            return Report.from_counts(self.counts() + other.counts(), self.changed or other.changed)
        return Report(self.findings + other.findings, self.changed or other.changed)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field '{name}'")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Report):
            return NotImplemented
        if self._counts is not None or other._counts is not None:
            return (self._counts, self.changed) == (other._counts, other.changed)
        return (self.findings, self.changed) == (other.findings, other.changed)

    def __hash__(self) -> int:
        if self._counts is not None:
            return hash((frozenset(self._counts.items()), self.changed))
        return hash((self.findings, self.changed))

    def __repr__(self) -> str:
        if self._counts is not None:
            return f"Report(counts={dict(self._counts)!r}, changed={self.changed!r})"
        return f"Report(findings={self.findings!r}, changed={self.changed!r})"


EMPTY_REPORT = Report()


@dataclass(frozen=True, slots=True)
class Result:
    """A processed body: ``output`` is what may cross the boundary."""

    output: bytes
    report: Report = field(default_factory=Report)
    kind: str = "json"
    """How the body was handled: json, ndjson, form, text, or skipped (binary/unknown)."""
