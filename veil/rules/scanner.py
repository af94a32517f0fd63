"""Run a set of detectors over many strings with as few RE2 scans as possible.

Semantics (the reference is ``detectors.matching.find_spans`` per detector):
scanning each string left to right, at every position the highest-priority
detector whose pattern matches *and* whose validator and context accept the
candidate wins, unless a detector of higher priority finds a value that starts
inside that finding and runs past its end (then nothing is found at this
position, and the scan reaches that value). Text the winner's match read before
its value (a secret's key name) is scanned the same way for findings that end
before the value; scanning then resumes at the value's end. Where nothing is
accepted, scanning resumes one character later.

How (the numbers are from bench/engine.py): all strings of a document are
joined with newlines and searched once by capture-free alternations of every
pattern, one per detector family (:mod:`veil.rules.alternation`), which only
find *candidate positions*. At each candidate one
anchored alternation with one group per detector names the first detector
that matches there, and only that detector's own pattern and validator run.
which detector matches at a candidate is found by descending a binary tree
of capture-free alternations (about log2(n) anchored DFA matches; in a scan,
only the trees of the families whose match starts there, each a few levels
deep): one
anchored match of a single alternation with a group per detector looks
cheaper but runs RE2's NFA, whose set-up alone is proportional to the size of
the whole program (measured: ~160 µs per call for the built-in catalog, versus
~0.5 µs per DFA match). This keeps the per-document cost near one RE2 pass
over its bytes instead of one Python call per string per detector.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from veil.rules.alternation import Alternation
from veil.rules.detectors.matching import (
    CompiledDetector,
    has_context,
    left_alone,
    next_char_boundary,
    value_span,
    vetoed_by_field,
)
from veil.rules.detectors.verdicts import digest, new_cache, store
from veil.rules.normalize import TRIGGER as NORMALIZE_TRIGGER
from veil.rules.normalize import Normalized, normalize
from veil.rules.regex import compile_re2, without_captures

if TYPE_CHECKING:
    from veil.rules.protected import Protected


class Hit(NamedTuple):
    """One detector hit: a named tuple, built in half the time of a frozen dataclass."""

    which: int
    """Which input string (its index in ``texts``)."""
    start: int
    end: int
    """``str`` offsets of the finding inside that string."""
    detector: int
    """Index into the set's detectors; -1 for a protected span (a veil token)."""


Outcome = tuple[tuple[tuple[int, int, int], ...], int]
"""What the scan records at one position: its findings ``(str start, str end, detector index)`` in
order, and the byte offset where the scan resumes (the last value's end, or the end of a span the
plan checked as its own), or -1 to move on one character."""

NOTHING: Outcome = ((), -1)


class DetectorSet:
    """An ordered set of compiled detectors (priority order) plus protected patterns.

    ``protected``: the plan's own outputs (tokens, hashes). A span its check accepts
    as the plan's own, followed by a boundary, is consumed and never reported, so
    redacting twice equals redacting once; see :mod:`veil.rules.protected` for
    what may be skipped and why.
    """

    __slots__ = ("detectors", "names", "raw_candidate", "_candidate", "_nearest", "_which", "_protect", "_protected",
                 "_decided", "_led", "_higher", "_group_trees")

    def __init__(self, detectors: tuple[CompiledDetector, ...], protected: tuple[Protected, ...] = ()) -> None:
        self.detectors = detectors
        self.names = tuple(d.spec.name for d in detectors)
        self._protected = protected
        own = [p.pattern for p in protected]
        parts = own + alternatives(detectors, edge="")
        leads = own + alternatives(detectors, edge="", leads=True)
        # A candidate found by a lead is not known to match the full alternation there.
        self._led = leads != parts
        self._higher: dict[int, Alternation | None] = {}
        self._protect = len(protected)
        self._decided: dict[tuple[bytes, int, bytes], Outcome] = new_cache()
        if parts:
            protect = len(own)
            groups = [list(range(protect)), *([protect + i for i in g] for g in family_members(detectors))]
            # Per group, as ``families`` groups them: the protected patterns, then each family.
            self._candidate: Alternation | None = Alternation([[leads[i] for i in g] for g in groups], prefix="(?m)")
            # Which pattern matches at a candidate the scan found: only the groups with a match starting
            # there can hold it, and each group's tree is a few levels deep instead of the whole one's.
            self._group_trees: dict[int, _GroupTree] = {
                n: _GroupTree(g, parts, leads) for n, g in enumerate(groups) if g
            }
            # The same candidates as one alternation, for the searches that want only the nearest one from
            # some position (the text a finding's match read before its value, a span the plan may skip):
            # per family, each search would run on to its own family's next match, to the end of a long
            # string for a family with none left, once per finding (quadratic in a log of 4,000 lines).
            self._nearest: Alternation | None = Alternation([leads], prefix="(?m)")
            self._which: _Tree | None = _Tree(parts, 0, len(parts))
            # The same search for strings as they stand in a raw JSON body, where a string's
            # edges are quotes rather than the text's ends; obfuscated text
            # (:mod:`veil.rules.normalize`) too: such a string is scanned whole, normalized.
            self.raw_candidate: Alternation | None = Alternation([own, *families(detectors, edge='"'), [NORMALIZE_TRIGGER]])
        else:
            self._candidate = self._nearest = None
            self._which = None
            self.raw_candidate = None
            self._group_trees = {}

    def __bool__(self) -> bool:
        return bool(self.detectors)

    def scan(self, texts: list[str], field_names: list[str] | None = None, *, remember: bool = True) -> list[Hit]:
        """Hits in every string of ``texts``, in order. ``field_names`` gives context.

        ``remember=False``: the caller keeps each string's outcome itself (the splice path, by
        the string's digest), so the decision at each candidate is not filed again here.
        """
        candidate = self._candidate
        which = self._which
        if candidate is None or which is None or not texts:
            return []
        joined = "\n".join(texts)
        norms: dict[int, Normalized] | None = None
        data = joined.encode("utf-8", "surrogatepass")
        ascii_only = len(data) == len(joined)
        # ``normalize.needs_normalizing(joined)``, asked of the bytes by RE2: the stdlib search
        # over non-ASCII free text cost a tenth of a scan.
        if (not ascii_only or b"%" in data) and _NORMALIZE_TRIGGER.search(data) is not None:
            norms, texts = _normalized(texts)
            joined = "\n".join(texts)
            data = joined.encode("utf-8", "surrogatepass")
            ascii_only = len(data) == len(joined)
        if ascii_only:
            lengths = [len(t) for t in texts]
        else:
            lengths = [len(t.encode("utf-8", "surrogatepass")) for t in texts]
        starts = [0, *accumulate(n + 1 for n in lengths)]
        hits: list[Hit] = []
        memo: dict[tuple[bytes, int, str], Outcome] = {}
        pos = 0
        end_all = len(data)
        candidates = candidate.cursor(data)
        # The string of the last candidate, sliced and digested once however many candidates it
        # holds: per candidate, both were linear in its length (a 400 KB text with a candidate
        # every few bytes took half a minute).
        last_k = -1
        local = b""
        local_digest = b""
        while pos < end_all:
            p = candidates.next(pos)
            if p < 0:
                break
            k = bisect_right(starts, p) - 1
            s0 = starts[k]
            if k != last_k:
                last_k = k
                local = data[s0 : s0 + lengths[k]]
                local_digest = b""
            lp = p - s0
            field = field_names[k] if field_names else ""
            # API payloads repeat values (timestamps, enums, ids); the outcome at a
            # position depends only on the string, the offset and the field name.
            memo_key = (local, lp, field)
            outcome = memo.get(memo_key)
            if outcome is None:
                at = candidates.starting_at(p)
                if remember:
                    if not local_digest:
                        local_digest = digest(local)
                    outcome = self.decide(local, lp, texts[k], field, ascii_only, local_digest, at)
                else:
                    outcome = self._decide(local, lp, texts[k], field, ascii_only, at)
                memo[memo_key] = outcome
            found, consumed = outcome
            for start, end, det_index in found:
                hits.append(Hit(k, start, end, det_index))
            if consumed > lp:
                pos = s0 + consumed
            else:
                pos = p + 1
                while pos < end_all and 0x80 <= data[pos] < 0xC0:
                    pos += 1  # stay on a UTF-8 character boundary
        if norms:
            return [Hit(h.which, *norms[h.which].span(h.start, h.end), h.detector) if h.which in norms else h for h in hits]
        return hits

    def decide(self, local: bytes, lp: int, text: str, field: str, ascii_only: bool,
               local_digest: bytes = b"", groups: tuple[int, ...] | None = None) -> Outcome:
        """The findings the scan records at ``local[lp]`` and where it resumes (see :data:`Outcome`).

        The outcome depends only on the string, the offset and the field name, and the
        same values come back request after request: outcomes are remembered across
        calls, under a digest of the string (see :mod:`veil.rules.detectors.verdicts`);
        ``local_digest`` is that digest when the caller has it; ``groups``, the candidate groups
        that start at ``lp`` when the caller's cursor knows them (``Cursor.starting_at``).
        """
        # The field name may itself be payload (an e-mail or a key id as a map key): kept as its digest.
        key = (local_digest or digest(local), lp, digest(field.encode("utf-8", "surrogatepass")) if field else b"")
        outcome = self._decided.get(key)
        if outcome is None:
            outcome = self._decide(local, lp, text, field, ascii_only, groups)
            store(self._decided, key, outcome)
        return outcome

    def _decide(self, local: bytes, lp: int, text: str, field: str, ascii_only: bool,
                groups: tuple[int, ...] | None = None) -> Outcome:
        which = self._which
        assert which is not None
        protect = self._protect
        if lp >= len(local):
            alt = -1
        elif groups is None:
            alt = which.first(local, lp, 0, known=not self._led)
        else:
            alt = self._first_in(groups, local, lp)
        if 0 <= alt < protect:
            return self._decide_protected(local, lp, text, field, ascii_only, alt)
        return self._detect(local, lp, text, field, ascii_only, alt)

    def _first_in(self, groups: tuple[int, ...], local: bytes, lp: int) -> int:
        """``_which.first(local, lp, 0)``, asking only the trees of ``groups``: the candidate groups
        whose match starts at ``lp``, the only ones whose patterns can match there."""
        best = -1
        trees = self._group_trees
        for group in groups:
            found = trees[group].first(local, lp)
            if found >= 0 and (best < 0 or found < best):
                best = found
        return best

    def _detect(self, local: bytes, lp: int, text: str, field: str, ascii_only: bool, alt: int) -> Outcome:
        """The findings of the first detector from alternative ``alt`` on that accepts one at ``local[lp]``.

        A match may read text before its value (a secret's key name): that text is searched
        too, as the scan would, for findings that end before the value.
        """
        which = self._which
        assert which is not None
        protect = self._protect
        while alt >= 0:
            found = self._accepted(alt - protect, local, lp, text, field, ascii_only)
            if found is not None:
                bstart, bend, hit = found
                if self._overtaken(alt - protect, local, lp, bstart, bend, text, field, ascii_only):
                    return NOTHING
                if bstart <= lp + 1:  # the value starts at the match or after its one leading character
                    return (hit,), bend
                return (*self._between(local, lp + 1, bstart, text, field, ascii_only), hit), bend
            alt = which.first(local, lp, alt + 1)
        return NOTHING

    def _overtaken(self, index: int, local: bytes, lp: int, bstart: int, bend: int, text: str, field: str,
                   ascii_only: bool) -> bool:
        """Whether a detector before ``index`` finds a value that starts inside ``local[lp:bend]`` and runs
        past it, or starts before the value ``local[bstart:bend]`` and covers it: then the finding at ``lp``
        gives way (a phone read across a hash's digits and the head of a bot token, an e-mail whose domain
        is a JWT's head, a secret's value that is the tail of a bot token whose id the secret read as part
        of its name), and the scan reaches the other one."""
        if index in self._higher:
            higher = self._higher[index]
        else:
            higher = Alternation(families(self.detectors[:index], edge=""), prefix="(?m)") if index else None
            self._higher[index] = higher
        if higher is None:
            return False
        which = self._which
        assert which is not None
        protect = self._protect
        # A lead may need text past the finding (a JWT's dots): the search reads a window beyond it.
        for inner in _starts(higher, local, lp + 1, bend, min(len(local), bend + _OVERTAKE_WINDOW)):
            alt = which.first(local, inner, protect)
            while protect <= alt < protect + index:
                found = self._accepted(alt - protect, local, inner, text, field, ascii_only)
                if found is not None and (found[1] > bend or (found[1] == bend and found[0] < bstart)):
                    return True
                alt = which.first(local, inner, alt + 1)
        return False

    def _accepted(self, index: int, local: bytes, lp: int, text: str, field: str,
                  ascii_only: bool) -> tuple[int, int, tuple[int, int, int]] | None:
        """(value's byte start, byte end, finding) of detector ``index`` at ``local[lp]``, if it accepts one."""
        det = self.detectors[index]
        found = value_span(det, local, lp)
        if found is None:
            return None
        span = _accept(det, found[0], found[1], local, text, field, ascii_only)
        return None if span is None else (found[0], found[1], (span[0], span[1], index))

    def _between(self, local: bytes, pos: int, limit: int, text: str, field: str,
                 ascii_only: bool) -> tuple[tuple[int, int, int], ...]:
        """The findings the scan records from ``local[pos]`` on that end by ``limit``: where a
        position's findings run past it, the scan moves on one character."""
        hits: tuple[tuple[int, int, int], ...] = ()
        nearest = self._nearest
        assert nearest is not None
        candidates = nearest.cursor(local)
        pos = next_char_boundary(local, pos)
        while pos < limit:
            inner = candidates.next(pos)
            if inner < 0 or inner >= limit:
                break
            found, resume = self._decide(local, inner, text, field, ascii_only)
            if resume > inner and resume <= limit:
                hits += found
                pos = resume
            else:
                pos = next_char_boundary(local, inner + 1)
        return hits

    def _decide_protected(self, local: bytes, lp: int, text: str, field: str, ascii_only: bool, alt: int) -> Outcome:
        """At text shaped like the plan's own output: consume it only where its check says it is
        the plan's own, a boundary follows, and skipping it hides no finding; else detect as usual."""
        which = self._which
        assert which is not None
        protect = self._protect
        usual = self._detect(local, lp, text, field, ascii_only, which.first(local, lp, protect))
        start = lp if ascii_only else len(local[:lp].decode("utf-8", "surrogatepass"))
        while 0 <= alt < protect:
            spec = self._protected[alt]
            end = spec.own_end(text, start)
            if end > start and _boundary_at(text, end):
                bend = end if ascii_only else lp + len(text[start:end].encode("utf-8", "surrogatepass"))
                if not self._hides_finding(local, lp, bend, text, field, ascii_only, usual, spec.authenticated):
                    return (), bend
            alt = which.first(local, lp, alt + 1)
        return usual

    def _hides_finding(
        self, local: bytes, lp: int, bend: int, text: str, field: str, ascii_only: bool,
        at_start: Outcome, authenticated: bool,
    ) -> bool:
        """Would skipping ``local[lp:bend]`` hide a finding? One that starts in it and runs past
        its end always would; one inside it only when the span is not authenticated (a hash)."""
        if at_start[0] and at_start[1] > bend:
            return True
        nearest, which = self._nearest, self._which
        assert nearest is not None and which is not None
        for inner in _starts(nearest, local, lp + 1, bend, len(local)):
            found, resume = self._detect(local, inner, text, field, ascii_only, which.first(local, inner, self._protect))
            if found and (not authenticated or resume > bend):
                return True
        return False


def _starts(pattern: Alternation, local: bytes, pos: int, end: int, stop: int) -> Iterator[int]:
    """Where ``pattern`` matches in ``local`` (read up to ``stop``), from ``pos`` on and before ``end``:
    the next search begins one character after each start."""
    pos = next_char_boundary(local, pos)
    while pos < end:
        start = pattern.first(local, pos, stop)
        if start < 0 or start >= end:
            return
        yield start
        pos = next_char_boundary(local, start + 1)


_OVERTAKE_WINDOW = 256
"""How far past a finding :meth:`DetectorSet._overtaken` reads for a lead that starts inside it."""

_NORMALIZE_TRIGGER = compile_re2(NORMALIZE_TRIGGER)
"""``normalize``'s trigger for UTF-8 bytes: a character class of code points outside the surrogates and
``%XX``, so it finds in a text's bytes what the stdlib pattern finds in the text."""


def _boundary_at(text: str, end: int) -> bool:
    """True at the end of ``text`` or before a character that cannot continue a word."""
    return end >= len(text) or not (text[end].isalnum() or text[end] == "_")


def _normalized(texts: list[str]) -> tuple[dict[int, Normalized], list[str]]:
    """The texts to scan (each obfuscated one normalized) and the normalized ones' offset maps."""
    norms: dict[int, Normalized] = {}
    out = list(texts)
    for i, text in enumerate(texts):
        found = normalize(text)
        if found is not None:
            norms[i] = found
            out[i] = found.text
    return norms, out


def alternatives(detectors: tuple[CompiledDetector, ...], edge: str, triggers: bool = False,
                 leads: bool = False) -> list[str]:
    """Each detector's pattern, capture-free, with its case flag inlined.

    ``leads``: a detector's ``lead`` where it has one, for searches that find candidate
    positions; ``triggers``: its ``trigger``, else its lead, for passes that only decide
    which strings to scan.
    """
    out = []
    for d in detectors:
        spec = d.spec
        chosen = (triggers and (spec.trigger or spec.lead)) or (leads and spec.lead) or spec.pattern
        pattern = without_captures(chosen, edge=edge)
        out.append(f"(?i:{pattern})" if d.spec.case_insensitive else pattern)
    return out


def families(detectors: tuple[CompiledDetector, ...], edge: str) -> list[list[str]]:
    """The detectors' candidate patterns (their ``lead`` where they have one; see :func:`alternatives`),
    grouped by ``DetectorSpec.family`` in order of first appearance: one search each."""
    patterns = alternatives(detectors, edge=edge, leads=True)
    return [[patterns[i] for i in group] for group in family_members(detectors)]


def family_members(detectors: tuple[CompiledDetector, ...]) -> list[list[int]]:
    """The detectors' indices grouped as :func:`families` groups their patterns."""
    groups: dict[str, list[int]] = {}
    for i, det in enumerate(detectors):
        groups.setdefault(det.spec.family, []).append(i)
    return list(groups.values())


def _accept(
    det: CompiledDetector, bstart: int, bend: int, local: bytes, text: str, field: str, ascii_only: bool
) -> tuple[int, int] | None:
    if bend <= bstart:
        return None
    if ascii_only:
        start, end = bstart, bend
    else:
        start = len(local[:bstart].decode("utf-8", "surrogatepass"))
        end = start + len(local[bstart:bend].decode("utf-8", "surrogatepass"))
    spec = det.spec
    # Context first: it is the cheaper check, and rejects most dates and ids.
    if spec.context_required and not has_context(spec, text, start, field):
        return None
    candidate = text[start:end]
    valid = spec.validator is None or spec.validator(candidate)
    weaker = spec.with_context
    if not valid and weaker is None:
        return None
    # The rarer signals (a few built-ins): the text just before, then the weaker validator with context.
    if left_alone(det, text, start):
        return None
    if field and vetoed_by_field(spec, field):
        return None
    if not valid and not (weaker is not None and weaker(candidate) and has_context(spec, text, start, field)):
        return None
    return start, end


class _GroupTree:
    """The :class:`_Tree` of one candidate group's patterns (``members``: their indices in the whole
    tree's parts, in order), answering with those indices."""

    __slots__ = ("known", "members", "tree")

    def __init__(self, members: list[int], parts: list[str], leads: list[str]) -> None:
        self.members = members
        self.tree = _Tree([parts[i] for i in members], 0, len(members))
        # As for the whole tree: a candidate a lead found is not known to match the group's patterns.
        self.known = all(leads[i] == parts[i] for i in members)

    def first(self, data: bytes, pos: int) -> int:
        found = self.tree.first(data, pos, 0, known=self.known)
        return self.members[found] if found >= 0 else -1


class _Tree:
    """Binary tree of capture-free alternations over ``parts[lo:hi]``.

    ``first(data, pos, start)`` is the smallest index ``i >= start`` whose
    pattern matches anchored at ``pos``, or -1.
    """

    __slots__ = ("lo", "hi", "regex", "left", "right")

    def __init__(self, parts: list[str], lo: int, hi: int) -> None:
        self.lo = lo
        self.hi = hi
        self.regex = compile_re2("(?:" + ")|(?:".join(parts[lo:hi]) + ")")
        if hi - lo > 1:
            mid = (lo + hi) // 2
            self.left: _Tree | None = _Tree(parts, lo, mid)
            self.right: _Tree | None = _Tree(parts, mid, hi)
        else:
            self.left = self.right = None

    def first(self, data: bytes, pos: int, start: int, known: bool = False) -> int:
        """``known``: the caller already saw this node's alternation match here."""
        if start <= self.lo:
            # Every alternative here may answer: a plain descent, one anchored match per level
            # (the recursion below makes the same matches, with a Python call per level).
            node = self
            if not known and node.regex.match(data, pos) is None:
                return -1
            while node.left is not None and node.right is not None:
                # When a node matches and its left half does not, the right half must.
                node = node.left if node.left.regex.match(data, pos) is not None else node.right
            return node.lo
        if self.hi <= start:
            return -1
        if self.lo >= start and not known and self.regex.match(data, pos) is None:
            return -1
        left, right = self.left, self.right
        if left is None or right is None:
            return self.lo
        found = left.first(data, pos, start)
        if found >= 0:
            return found
        # When this whole node matched and its left half did not, the right half must.
        return right.first(data, pos, start, known=self.lo >= start)
