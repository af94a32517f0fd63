"""``veil audit``: how much personal data log files or NDJSON carry, per 1,000 lines, by type.

Files are read line by line and never changed: a line that is a JSON object or
array is scanned as JSON (its field names count, as the policy's ``classify``
says), any other line as text. The report holds counts and types, never values.
A CI gate: above ``--max-per-1000`` findings per 1,000 lines (all types
together) the command exits 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from veil.discover.table import write_table
from veil.errors import RedactionError
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route
from veil.rules.sampling import never_sampled

EXIT_ABOVE_THRESHOLD = 3
_ANY = Route("any")  # a log line's direction is unknown: the rules of every direction apply


@dataclass(slots=True)
class Tally:
    """Lines read and findings by type, for one file or all of them."""

    lines: int = 0
    types: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)
    """``file:line: reason`` of lines that could not be scanned (over the size limit)."""

    @property
    def findings(self) -> int:
        return sum(self.types.values())

    def per_1000(self, count: int | None = None) -> float:
        """``count`` (default: all findings) per 1,000 lines; 0 for an empty input."""
        total = self.findings if count is None else count
        return total * 1000 / self.lines if self.lines else 0.0

    def add(self, other: Tally) -> None:
        self.lines += other.lines
        self.types.update(other.types)
        self.unreadable += other.unreadable


def audit_stream(plan: Plan, name: str, stream: IO[bytes], progress: Callable[[int], None] = lambda n: None) -> Tally:
    """Count the findings of ``plan`` in each line of ``stream``; ``progress`` gets the bytes read so far."""
    plan = never_sampled(plan)  # counts (and the --max-per-1000 gate) must not vary run to run
    tally = Tally()
    limit = plan.limits.max_body_bytes
    done = 0
    for number, line in enumerate(stream, 1):
        done += len(line)
        progress(done)
        tally.lines += 1
        content = line.rstrip(b"\r\n")
        if not content.strip():
            continue
        if len(content) > limit:
            tally.unreadable.append(f"{name}:{number}: line of {len(content)} bytes is over the limit of "
                                    f"{limit} bytes (limits.max_body_bytes)")
            continue
        for (type_, _rule, _action, _mode), n in _report(plan, content).counts().items():
            tally.types[type_] += n
    return tally


def _report(plan: Plan, content: bytes) -> Report:
    if content.lstrip()[:1] in (b"{", b"["):
        try:
            return plan.redact_body(content, "application/json", _ANY).report
        except RedactionError:
            pass  # a log line that starts with a bracket: text
    return plan.redact_text(content.decode("utf-8", "replace"), _ANY).report


def write_report(files: list[tuple[str, Tally]], total: Tally, out: IO[str]) -> None:
    """Per file: lines, findings, rate; then per type over all files."""
    rows = [(name, str(t.lines), str(t.findings), f"{t.per_1000():.2f}") for name, t in files]
    write_table(("FILE", "LINES", "FINDINGS", "PER 1000 LINES"), rows, out)
    out.write("\n")
    by_type = [(type_, str(n), f"{total.per_1000(n):.2f}") for type_, n in sorted(total.types.items())]
    write_table(("TYPE", "FINDINGS", "PER 1000 LINES"), by_type, out)
    out.write(f"total: {total.findings} findings in {total.lines} lines, {total.per_1000():.2f} per 1000 lines\n")
