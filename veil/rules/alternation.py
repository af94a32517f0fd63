"""Find where any of many patterns matches, as a few smaller RE2 searches instead of one.

One alternation of every detector's pattern is one RE2 pass over a text, but its
lazy DFA tracks every detector's progress at once: a state is a combination of
them. Patterns of different kinds (digit runs of cards, phones and SSNs; long
base64 runs of API keys; e-mail addresses) each keep many partial matches alive
on ordinary text, and the combinations multiply. On text RE2 has not seen
before it builds a new state at almost every byte: the built-in catalog's
candidate search cost about 0.45 µs per byte of fresh free text (bench/engine.py),
against about 0.03 µs once the states exist.

So patterns are searched per *family* (``DetectorSpec.family``): each family
is one alternation, whose states grow with its own patterns only, and the
leftmost start over all families is the leftmost start of the whole
alternation. A :class:`Cursor` remembers each family's next start, so a scan
that moves forward searches each family once per match of its own, not once
per candidate. Searches that want only the nearest start from some position,
once per finding, are the exception: per family, each would run on to its own
family's next match (to the end of a long text for a family with none left),
so the scanner gives those one alternation of every pattern.
"""

from __future__ import annotations

from collections.abc import Iterable
from heapq import heapify, heappop, heapreplace

from veil.rules.regex import Pattern, compile_re2


class Alternation:
    """The union of ``groups`` of patterns: one RE2 alternation per non-empty group.

    ``prefix`` is written before each (flags such as ``(?m)``). Only match starts are
    reported: where a match ends depends on the other patterns, as in one alternation.
    """

    __slots__ = ("groups", "patterns")

    def __init__(self, groups: Iterable[list[str]], prefix: str = "") -> None:
        kept = [(i, group) for i, group in enumerate(groups) if group]
        self.patterns: tuple[Pattern, ...] = tuple(
            compile_re2(prefix + "(?:" + ")|(?:".join(group) + ")") for _, group in kept
        )
        self.groups: tuple[int, ...] = tuple(i for i, _ in kept)
        """The index in ``groups`` of the group each pattern searches (an empty group has none)."""

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def first(self, data: bytes, pos: int, endpos: int | None = None) -> int:
        """Where the leftmost match in ``data[pos:endpos]`` starts, or -1."""
        best = -1
        for pattern in self.patterns:
            m = pattern.search(data, pos) if endpos is None else pattern.search(data, pos, endpos)
            if m is not None and (best < 0 or m.start() < best):
                best = m.start()
        return best

    def cursor(self, data: bytes) -> Cursor:
        return Cursor(self.patterns, data, self.groups)


class Cursor:
    """Successive leftmost match starts in one text, for positions that never move back."""

    __slots__ = ("_data", "_groups", "_heap", "_patterns")

    def __init__(self, patterns: tuple[Pattern, ...], data: bytes, groups: tuple[int, ...]) -> None:
        self._patterns = patterns
        self._data = data
        self._groups = groups
        # (next start, family); -1: not searched yet. A match that starts at or after a
        # position is still the leftmost from there: RE2 reads the text before a start
        # position as context (``^``, ``\\b``), so a search from further on finds the same.
        self._heap = [(-1, i) for i in range(len(patterns))]
        heapify(self._heap)

    def next(self, pos: int) -> int:
        """Where the leftmost match at or after ``pos`` starts, or -1."""
        heap = self._heap
        while heap:
            start, family = heap[0]
            if start >= pos:
                return start
            m = self._patterns[family].search(self._data, pos)
            if m is None:
                heappop(heap)
            else:
                heapreplace(heap, (m.start(), family))
        return -1

    def starting_at(self, start: int) -> tuple[int, ...]:
        """The groups (indices into the alternation's ``groups``) with a match that starts at ``start``,
        the position :meth:`next` returned last: exactly those whose next start it is. (A group that
        matches there has its leftmost start from the searched position at or before it, and no next
        start is before it.) For a caller that then wants to know which pattern matched: only these
        groups' patterns can."""
        groups = self._groups
        return tuple(groups[family] for at, family in self._heap if at == start)
