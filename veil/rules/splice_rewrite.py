"""Write a spliced JSON body's edits into its bytes and hand over its findings.

The last step of the splice path (:mod:`veil.rules.json_splice`): each changed value is
replaced in place, so every byte the policy does not cover stays byte-identical,
whitespace and escapes included. Findings are made on first read of the report, from
the output (or a copy of it without the values found, when some are left in it).
"""

from __future__ import annotations

from functools import partial
from operator import itemgetter

from veil.rules.json_bytes import mask_escapes
from veil.rules.json_paths import TOKEN, PathIndex
from veil.rules.plan_types import Finding, Report
from veil.rules.splice_state import QUOTE, Count


def finish(body: bytes, edits: list[tuple[int, int, bytes]],
           records: list[tuple[int, Count, int, int]]) -> tuple[bytes, Report, bool]:
    """The output of ``body`` with ``edits`` made (they never overlap), and the report of ``records``."""
    records.sort(key=_AT)
    if not edits:
        out = body
    else:
        edits.sort()  # edits never overlap: their starts differ
        pieces: list[bytes] = []
        last = 0
        for start, end, new in edits:
            pieces.append(body[last:start])
            pieces.append(new)
            last = end
        pieces.append(body[last:])
        out = b"".join(pieces)
    # The report renders paths, if one is read, from the output: the bytes that cross the
    # boundary anyway, with every finding rewritten. Never from the input (the report may
    # outlive the call), nor from an output that still holds a finding (detect mode, keep):
    # then from a copy with those values blanked (``_blanked``).
    changed = bool(edits)
    counts = [r[1] for r in records]
    if records and not _all_rewritten(records, edits, changed):
        _shift(records, edits)
        edits = []
        held = _blanked(out, records)
    else:
        held = out
    report = Report.deferred(counts, partial(_findings, records, edits, PathIndex(held)), changed)
    return out, report, changed


def _shift(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]]) -> None:
    """Move the records' offsets (both lists sorted) from the input to the output.

    A record sits at the start of an edited value or outside every edit, so its
    offset moves by the growth of the edits that start before it.
    """
    shift = 0
    i = 0
    n = len(edits)
    for r, (at, count, start, end) in enumerate(records):
        while i < n and edits[i][0] < at:
            edit_start, edit_end, new = edits[i]
            shift += len(new) - (edit_end - edit_start)
            i += 1
        if shift:
            records[r] = (at + shift, count, start, end)


_AT = itemgetter(0)


def _all_rewritten(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]],
                   changed: bool) -> bool:
    """Whether every record's value was rewritten by an enforced action (edits start where records do)."""
    if not changed:
        return False
    starts = {edit[0] for edit in edits}
    return all(at in starts and count[3] == "enforce" and count[2] != "keep" for at, count, _, _ in records)


def _blanked(out: bytes, records: list[tuple[int, Count, int, int]]) -> bytes:
    """A copy of ``out`` with the value at each record's offset (in ``out``) overwritten by ``*``.

    Same length, same structure and keys: paths render from it as from ``out``, and no
    value a finding was made for is in it."""
    frame = mask_escapes(out)
    pieces: list[bytes] = []
    last = 0
    for at in sorted({r[0] for r in records}):
        if frame[at] == QUOTE:
            start, end = at + 1, frame.find(b'"', at + 1)
        else:  # a number or a literal
            start, end = at, TOKEN.match(frame, at).end()  # type: ignore[union-attr]
        pieces.append(out[last:start])
        pieces.append(b"*" * (end - start))
        last = end
    pieces.append(out[last:])
    return b"".join(pieces)


def _findings(records: list[tuple[int, Count, int, int]], edits: list[tuple[int, int, bytes]],
              paths: PathIndex) -> tuple[Finding, ...]:
    if edits:
        _shift(records, edits)
    paths.wanted = {r[0] for r in records}
    return tuple(
        Finding(entity, rule, action, "body", partial(paths.render, at), mode, start, end)
        for at, (entity, rule, action, mode), start, end in records
    )
