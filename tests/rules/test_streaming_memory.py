"""A stream's report keeps counts, not findings: its state does not grow with the stream.

An SSE or NDJSON stream may never end, so ``LineRedactor`` keeps one count per
(type, rule, action, mode) and nothing of the lines it has let go.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
import types
from collections import Counter
from typing import Any

import pytest

from tests.referents import referents
from veil import default_plan
from veil.http import LineStream, Options
from veil.rules.detectors.verdicts import forget_verdicts
from veil.rules.plan_types import Finding, Report, Route
from veil.rules.streaming import LineRedactor

PLAN = default_plan()
ROUTE = Route("response")
EMAIL_KEY = ("EMAIL", "default-detectors", "redact", "enforce")
MARK = "@veil-seed.example"
"""In every seeded e-mail and nowhere else: what must not be found in retained state."""


def seeded_line(kind: str, number: int) -> bytes:
    """One line (two for SSE: an ``event:`` field, then ``data:``) with one e-mail in free text
    and non-ASCII around it; every other line has backslash escapes too (the engine may take
    another path for those)."""
    quoted = '\\"r\\u00e9sum\\u00e9\\"' if number % 2 else "r\u00e9sum\u00e9"
    doc = f'{{"id": {number}, "note": "{quoted} Zo\u00eb \U0001f642 write to user{number}{MARK} please", "ok": true}}'
    if kind == "sse":
        return f"event: message\ndata: {doc}\n\n".encode()
    return f"{doc}\n".encode()


def feed(redactor: LineRedactor, kind: str, lines: int) -> None:
    """Feed ``lines`` seeded lines cut into 4 KB chunks (values split across chunks), then close."""
    pending = bytearray()
    for number in range(lines):
        pending += seeded_line(kind, number)
        while len(pending) >= 4096:
            out = redactor.feed(bytes(pending[:4096]))
            assert MARK.encode() not in out
            del pending[:4096]
    out = redactor.feed(bytes(pending)) + redactor.close()
    assert MARK.encode() not in out


def retained_sizes(redactor: LineRedactor) -> dict[str, int]:
    """Each attribute's own size, containers included (the plan is shared, not the stream's)."""
    return {name: sys.getsizeof(value) for name, value in vars(redactor).items() if name != "plan"}


def reachable(roots: list[Any]) -> list[object]:
    """Every object reachable from ``roots`` through references, not through the plan or
    through code (classes, modules, functions: from there every object is reachable)."""
    seen: dict[int, object] = {}
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or obj is PLAN or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        seen[id(obj)] = obj
        todo.extend(referents(obj))
    return list(seen.values())


@pytest.mark.parametrize("kind", ["ndjson", "sse"])
def test_the_redactor_state_is_the_same_size_after_10_or_10000_lines(kind: str) -> None:
    short, long = LineRedactor(PLAN, ROUTE, kind), LineRedactor(PLAN, ROUTE, kind)
    feed(short, kind, 10)
    feed(long, kind, 10_000)
    assert short.counts == {EMAIL_KEY: 10}
    assert long.counts == {EMAIL_KEY: 10_000}
    assert short.changed and long.changed
    assert retained_sizes(long) == retained_sizes(short)
    assert not [name for name, value in vars(long).items() if isinstance(value, (list, tuple, set))]


@pytest.mark.parametrize("kind", ["ndjson", "sse"])
def test_memory_kept_by_a_redactor_does_not_grow_with_the_stream(kind: str) -> None:
    """Traced bytes still allocated once the stream is read, with the redactor alive.

    Keeping a Finding per value cost well over 1 MB for 10,000 lines; the bound
    leaves room for allocator and interpreter noise, not for per-line state. The
    plan's verdict caches are emptied before counting: they belong to the plan, are
    bounded (``MAX_ENTRIES``) and keyed by digests, not by payload text.
    """
    feed(LineRedactor(PLAN, ROUTE, kind), kind, 100)  # warm the plan's own caches first

    def kept_after(lines: int) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            redactor = LineRedactor(PLAN, ROUTE, kind)
            feed(redactor, kind, lines)
            forget_verdicts()
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert sum(redactor.counts.values()) == lines
        return kept

    short, long = kept_after(10), kept_after(10_000)
    assert long - short < 64 * 1024, (short, long)


@pytest.mark.parametrize("kind", ["ndjson", "sse"])
def test_no_payload_text_outlives_the_stream(kind: str) -> None:
    """Nothing reachable from the redactor or its report holds a seeded value (or any of its bytes)."""
    redactor = LineRedactor(PLAN, ROUTE, kind)
    feed(redactor, kind, 50)
    report = redactor.report()
    objects = reachable([vars(redactor), report])
    texts = [obj for obj in objects if isinstance(obj, str)]
    raw = [obj for obj in objects if isinstance(obj, (bytes, bytearray))]
    assert "EMAIL" in texts  # the walk reached the counts' keys
    assert not [text for text in texts if MARK in text]
    assert not [data for data in raw if MARK.encode() in data]


def test_an_unfinished_line_is_the_only_payload_held_between_chunks() -> None:
    """Bounded by ``max_line_bytes``, and let go once the line is complete."""
    redactor = LineRedactor(PLAN, ROUTE, "ndjson")
    line = seeded_line("ndjson", 1)
    assert redactor.feed(line[:20]) == b"" and redactor.unsent == line[:20]
    assert redactor.feed(line[20:]) and redactor.unsent == b""


def test_the_stream_report_is_counted_and_has_no_findings() -> None:
    redactor = LineRedactor(PLAN, ROUTE, "ndjson")
    feed(redactor, "ndjson", 3)
    report = redactor.report()
    assert report.counts() == {EMAIL_KEY: 3} and report.changed
    assert report.findings == ()
    feed(redactor, "ndjson", 2)  # the report already made does not move with the stream
    assert report.counts() == {EMAIL_KEY: 3} and redactor.report().counts() == {EMAIL_KEY: 5}


def test_a_stream_with_nothing_found_reports_an_empty_report() -> None:
    redactor = LineRedactor(PLAN, ROUTE, "sse")
    assert redactor.feed(b": keep-alive\n\ndata: [DONE]\n\n") == b": keep-alive\n\ndata: [DONE]\n\n"
    assert redactor.report() == Report() and not redactor.report().counts()


FOUND = Finding("EMAIL", "r", "redact", "body", "$.email")
KEY = ("EMAIL", "r", "redact", "enforce")


def test_a_counted_report_copies_its_counts_both_ways() -> None:
    source: Counter[tuple[str, str, str, str]] = Counter({KEY: 2})
    report = Report.from_counts(source, True)
    source[KEY] += 1
    report.counts()[KEY] += 1
    assert report.counts() == {KEY: 2}


@pytest.mark.parametrize(("left", "right", "equal"), [
    (Report.from_counts({KEY: 2}, True), Report.from_counts(Counter({KEY: 2}), True), True),
    (Report.from_counts({KEY: 2}, True), Report.from_counts({KEY: 3}, True), False),  # another count
    (Report.from_counts({KEY: 2}, True), Report.from_counts({KEY: 2}, False), False),  # changed differs
    (Report.from_counts({KEY: 2}, True), Report((FOUND, FOUND), True), False),  # findings hold more
    (Report.from_counts({}, False), Report(), True),  # no counts: a plain empty report
    (Report.from_counts({KEY: 0}, True), Report((), True), True),  # zero counts are dropped
])
def test_counted_reports_compare_by_counts_and_changed(left: Report, right: Report, equal: bool) -> None:
    assert (left == right) is equal
    if equal:
        assert hash(left) == hash(right)


def test_merging_a_counted_report_counts_the_other_one_too() -> None:
    merged = Report.from_counts({KEY: 2}, False).merge(Report((FOUND,), True))
    assert merged == Report.from_counts({KEY: 3}, True) and merged.findings == ()
    assert Report((FOUND,), True).merge(Report.from_counts({KEY: 1}, False)).counts() == {KEY: 2}


def test_a_counted_report_says_what_it_holds() -> None:
    assert repr(Report.from_counts({KEY: 2}, True)) == (
        "Report(counts={('EMAIL', 'r', 'redact', 'enforce'): 2}, changed=True)"
    )


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Report] = []

    def observe(self, *, report: Report, **_: object) -> None:
        self.reports.append(report)


def test_the_proxy_stream_observes_the_counts_of_a_long_stream() -> None:
    pytest.importorskip("mitmproxy")
    from veil.proxy_addon.stream import ResponseStream

    recorder = Recorder()
    stream = ResponseStream(LineStream(PLAN, ROUTE, "ndjson", Options(observer=recorder), "proxy", error_event=True))
    for number in range(1_000):
        stream(seeded_line("ndjson", number))
    stream(b"")
    [report] = recorder.reports
    assert report.counts() == {EMAIL_KEY: 1_000} and report.changed and report.findings == ()
