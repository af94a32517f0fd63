"""Reference matcher: one detector over one string, written for clarity.

The production engine scans with all detectors combined; its results are
tested for equality against :func:`find_spans`, so the semantics here are the
contract and are kept deliberately simple.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import re2

from veil.rules.detectors.base import DetectorSpec
from veil.rules.normalize import normalize
from veil.rules.regex import PatternError, byte_to_str_offsets, compile_re2, without_captures


@dataclass(frozen=True, slots=True)
class CompiledDetector:
    """A :class:`DetectorSpec` with its compiled RE2 pattern.

    ``fast`` is set when the pattern has the common shape
    ``(?:^|[^X])(?P<value>V)\\b?`` or ``\\b?(?P<value>V)\\b?``: then the value's
    span follows from the whole match (minus the one boundary character, if
    any), so the engine can use a capture-free pattern. RE2 settles those with
    its DFA in about a microsecond, where tracking a group needs its NFA (tens
    of microseconds for patterns with large Unicode classes).

    A pattern may end with a trailing edge ``(?:[^Y]|$)`` instead of ``\\b``
    ("the next character is not Y": RE2 has no look-ahead, so it is consumed).
    Its character is trimmed from the value's span, and the scan resumes at the
    value's end (as it always does), not the match's: that character may lead
    the next value (``4111...1111_5555...4444``). ``V`` must never end with a character the
    edge takes (a digit value before ``[^0-9]``), so the edge is unambiguous.

    A value may sit in one of several groups, ``value`` and ``value_<name>``,
    each in its own branch of the pattern: then each branch has its own edges
    (``(?:(?:^|[^X])(?P<value>A)(?:[^Y]|$)|[Z](?P<value_b>B)(?:[^W]|$))``), the
    candidate is the group that took part in the match.
    """

    spec: DetectorSpec
    regex: re2.Pattern
    value_groups: tuple[str, ...] = ()
    """The groups that may hold the value (``value``, ``value_<name>``), in pattern order: the first
    that took part in a match is it. Empty when the whole match is the value."""
    fast: re2.Pattern | None = None
    """Capture-free pattern; its match minus a leading boundary character is the value."""
    value_re: re2.Pattern | None = None
    """Capture-free ``V`` + suffix, to tell at offset 0 whether ``^`` or a character led."""
    boundary: bool = False
    """The pattern starts with ``(?:^|[^X])`` or ``[X]``: one character (or the text start) before the value."""
    not_after: re2.Pattern | None = None
    """``(?:spec.not_after)$`` compiled, when the spec has one."""
    inside: re2.Pattern | None = None
    """``(?:spec.inside)[0-9A-Za-z]$`` compiled, read up to the value's first character, when the spec has one."""
    trail: re2.Pattern | None = None
    """The class of a trailing edge ``(?:[^Y]|$)``, when the pattern ends with one."""
    branches: tuple[CompiledDetector, ...] = ()
    """For a pattern with a value group per branch: each branch compiled alone, tried in order."""
    whole: re2.Pattern | None = None
    """A branch's own pattern without captures: it settles with RE2's DFA whether the branch
    matches at all, before the (slower) match that reports its value group runs."""

    @property
    def value_group(self) -> bool:
        """Whether the pattern has a value group (else its whole match is the value)."""
        return bool(self.value_groups)


def compile_detector(spec: DetectorSpec) -> CompiledDetector:
    """Compile ``spec.pattern``; raises :class:`veil.rules.regex.PatternError`."""
    regex: re2.Pattern = compile_re2(spec.pattern, case_insensitive=spec.case_insensitive)
    value_groups = value_group_names(regex.groupindex)
    not_after = compile_re2(f"(?:{spec.not_after})$", allow_empty=True) if spec.not_after else None
    inside = compile_re2(f"(?:{spec.inside})[0-9A-Za-z]$") if spec.inside else None
    if len(value_groups) > 1:
        branches = _value_branches(spec.pattern)
        if branches is None:
            raise PatternError(f"{spec.name}: value groups {', '.join(value_groups)} must each sit in one "
                               "branch of a top-level alternation (?:A|B)")
        return CompiledDetector(
            spec=spec, regex=regex, value_groups=value_groups, not_after=not_after, inside=inside,
            branches=tuple(_compile_pattern(spec, branch, None, None) for branch in branches),
        )
    return _compile_pattern(spec, spec.pattern, not_after, inside, regex)


def _compile_pattern(
    spec: DetectorSpec, pattern: str, not_after: re2.Pattern | None, inside: re2.Pattern | None,
    regex: re2.Pattern | None = None,
) -> CompiledDetector:
    """``pattern`` (the spec's, or one branch of it with one value group) compiled for matching."""
    ci = spec.case_insensitive
    if regex is None:  # a branch: its value group, whatever its name, is "value"
        pattern = re.sub(r"\(\?P<value_\w+>", "(?P<value>", pattern)
        regex = compile_re2(pattern, case_insensitive=ci)
    value_groups = ("value",) if "value" in regex.groupindex else ()
    value_group = bool(value_groups)
    trail_match = _TRAIL.search(pattern) if value_group else None
    trail = compile_re2(trail_match.group("cls")) if trail_match else None
    form = _value_form(pattern) if value_group else None
    if form is None:
        whole = compile_re2(without_captures(pattern), case_insensitive=ci) if value_group else None
        return CompiledDetector(spec=spec, regex=regex, value_groups=value_groups, not_after=not_after, inside=inside,
                                trail=trail, whole=whole)
    boundary, text_start_leads, body, suffix = form
    return CompiledDetector(
        spec=spec,
        regex=regex,
        value_groups=value_groups,
        fast=compile_re2(without_captures(pattern), case_insensitive=ci),
        value_re=compile_re2(f"(?:{without_captures(body)}){suffix}", case_insensitive=ci) if text_start_leads else None,
        boundary=boundary,
        not_after=not_after,
        inside=inside,
        trail=trail,
    )


def _value_branches(pattern: str) -> list[str] | None:
    """The branches of ``(?:A|B|...)``, the whole pattern, each holding one value group; else None."""
    if not (pattern.startswith("(?:") and pattern.endswith(")") and _balanced(pattern[3:-1])):
        return None
    inner = pattern[3:-1]
    cuts = [i for i, depth in _structure(inner) if depth == 0 and i < len(inner) and inner[i] == "|"]
    branches = [inner[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(inner)])]
    if any(len(re.findall(r"\(\?P<value(?:_\w+)?>", branch)) != 1 for branch in branches):
        return None
    return branches


def value_group_names(groupindex: Mapping[str, int]) -> tuple[str, ...]:
    """The groups of a pattern that may hold its value: ``value`` and ``value_<name>``, in pattern order."""
    names = [name for name in groupindex if name == "value" or name.startswith("value_")]
    return tuple(sorted(names, key=groupindex.__getitem__))


def _value_of(det: CompiledDetector, m: re2.Match) -> tuple[int, int] | None:
    """The span of the value group that took part in ``m``, or None when none did."""
    for name in det.value_groups:
        start, end = m.span(name)
        if start >= 0:
            return start, end
    return None


_CLASS = r"\[\^(?:\\.|[^\]\\])+\]"
_POSITIVE_CLASS = r"\[(?!\^)(?:\\.|[^\]\\])+\]"
_FORM = re.compile(
    rf"(?P<lead>\(\?:\^\|{_CLASS}\)|{_POSITIVE_CLASS}|\\b|)\(\?P<value>(?P<body>.*?)\)"
    rf"(?P<suffix>\\b|\(\?:{_CLASS}\|\$\)|)",
    re.S,
)
_TRAIL = re.compile(rf"\)\(\?:(?P<cls>{_CLASS})\|\$\)\Z")
"""A pattern ending with ``(?P<value>...)`` and a trailing edge ``(?:[^Y]|$)``."""


def _value_form(pattern: str) -> tuple[bool, bool, str, str] | None:
    """(leading character?, may the text's start lead instead?, value body, suffix) when the value
    is the match minus its lead: ``(?:^|[^X])``, ``[X]`` (one character), ``\\b`` or nothing."""
    m = _FORM.fullmatch(pattern)
    if m is None or not _balanced(m.group("body")):
        return None
    lead = m.group("lead")
    return lead not in ("", "\\b"), lead.startswith("(?:"), m.group("body"), m.group("suffix")


def _structure(body: str) -> Iterator[tuple[int, int]]:
    """(index, group depth before it) of each character of ``body`` outside escapes and character
    classes, then ``(len(body), depth at the end)``: the last depth is 0 when ``body``'s groups all
    close inside it, -1 when one closes that did not open in it or a class is left open."""
    depth = 0
    i = 0
    in_class = False
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if body.startswith("[^]", i) or body.startswith("[]", i):
                i += 2
        else:
            yield i, depth
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth < 0:
                    yield i, -1
                    return
        i += 1
    yield len(body), -1 if in_class else depth


def _balanced(body: str) -> bool:
    """True when ``body``'s groups all close inside it (so ``(?P<value>...)`` wraps it all)."""
    return deque(_structure(body), maxlen=1)[0][1] == 0


def value_span(det: CompiledDetector, local: bytes, pos: int) -> tuple[int, int] | None:
    """(value start, value end) in bytes for ``det`` anchored at ``pos``, or None."""
    if det.branches:  # RE2 prefers the first branch that matches at a position
        for branch in det.branches:
            found = value_span(branch, local, pos)
            if found is not None:
                return found
        return None
    fast = det.fast
    if fast is None:
        whole = det.whole
        if whole is not None:
            matched = whole.match(local, pos)
            if matched is None:
                return None
            # The same match, bounded: reporting a group runs RE2's NFA, which reads on past the match.
            m = det.regex.match(local, pos, matched.end())
        else:
            m = det.regex.match(local, pos)
        if m is None:
            return None
        group = "value" if det.value_group and m.start("value") >= 0 else 0  # it may sit in one branch only
        start, end = m.span(group)
        return start, end
    m = fast.match(local, pos)
    if m is None:
        return None
    end = m.end()
    if not det.boundary:
        start = pos
    elif pos == 0 and det.value_re is not None and (vm := det.value_re.match(local, 0)) is not None:
        start, end = 0, vm.end()  # '^' led: RE2 tries that branch first
    else:
        lead = local[pos]
        start = pos + (1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4)
    if det.trail is not None:
        end = _before_trail(det.trail, local, end)
    return start, end


def _before_trail(trail: re2.Pattern, local: bytes, end: int) -> int:
    """Where a value ends whose match (ending with a trailing edge) ends at ``end``: before the
    edge's character, or at ``end`` when ``$`` matched (the last character is not the edge's)."""
    last = end - 1
    while last > 0 and 0x80 <= local[last] < 0xC0:
        last -= 1  # the start of the last UTF-8 character
    if end == len(local) and trail.fullmatch(local, last, end) is None:
        return end
    return last


def split_words(text: str) -> list[str]:
    """Lower-cased words of ``text``: ``"dateOfBirth"`` -> ``["date", "of", "birth"]``.

    A word is a run of alphanumerics (Unicode), further split where a lower
    case letter meets an upper case one (``dateOf``), where an acronym ends
    before a capitalized word (``HTTPServer``), and where letters meet digits
    (``dob1990``). Everything else (``_``, ``-``, spaces, punctuation) separates.
    """
    words: list[str] = []
    current: list[str] = []
    for i, ch in enumerate(text):
        if not ch.isalnum():
            if current:
                words.append("".join(current).lower())
                current = []
            continue
        if current:
            prev = current[-1]
            boundary = (
                prev.isdigit() != ch.isdigit()
                or (prev.islower() and ch.isupper())
                or (prev.isupper() and ch.isupper() and text[i + 1 : i + 2].islower())
            )
            if boundary:
                words.append("".join(current).lower())
                current = []
        current.append(ch)
    if current:
        words.append("".join(current).lower())
    return words


@functools.lru_cache(maxsize=256)
def _context_phrases(context: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(p for p in (tuple(split_words(c)) for c in context) if p)


def context_needles(context: tuple[str, ...]) -> tuple[str, ...]:
    """Lower-case words at least one of which occurs (as a substring) wherever a context phrase does.

    Each phrase contributes its longest word: short words ("date") occur everywhere.
    """
    return tuple(sorted({max(phrase, key=len) for phrase in _context_phrases(context)}))


@functools.lru_cache(maxsize=256)
def _needle_pattern(context: tuple[str, ...]) -> re2.Pattern | None:
    needles = context_needles(context)
    if not needles:
        return None
    return compile_re2("|".join(re.escape(n) for n in needles), case_insensitive=True)


def _contains_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def has_context(spec: DetectorSpec, text: str, start: int, field_name: str = "") -> bool:
    """Whether one of ``spec.context`` appears near ``text[start]`` or in ``field_name``.

    Case-insensitive and by whole words (see :func:`split_words`); a multi-word
    context ("date of birth") must appear as that word sequence. "Near" means
    in ``text[max(0, start - spec.context_window):start]`` exactly: a word cut
    by the window's left edge counts only as its visible part. An empty
    ``context`` never matches.
    """
    phrases = _context_phrases(spec.context)
    needle = _needle_pattern(spec.context)
    if not phrases or needle is None:
        return False
    for source in (field_name, text[max(0, start - spec.context_window) : start]):
        # Fast negative, one RE2 search: no needle, no phrase.
        if not source or needle.search(source.encode("utf-8", "surrogatepass")) is None:
            continue
        words = split_words(source)
        if any(_contains_phrase(words, phrase) for phrase in phrases):
            return True
    return False


def confirm(detector: CompiledDetector, candidate: str, text: str, start: int, field_name: str = "") -> bool:
    """Whether ``candidate`` (at str offset ``start`` of ``text``) counts, its pattern having matched.

    It counts when all of these hold:

    * not ``context_required``, or :func:`has_context`;
    * ``not_after`` (if any) does not match at the end of the ``context_window``
      characters before it, nor ``inside`` (if any) where the value would continue its run,
      and ``field_name`` holds none of ``not_in_field``;
    * the ``validator`` (if any) accepts it, or else ``with_context`` accepts it
      and :func:`has_context` (the confidence a context word or field name adds).

    The verdict is the same whatever order the checks run in: callers may run
    the cheapest first.
    """
    spec = detector.spec
    if spec.context_required and not has_context(spec, text, start, field_name):
        return False
    if left_alone(detector, text, start):
        return False
    if field_name and vetoed_by_field(spec, field_name):
        return False
    if spec.validator is None or spec.validator(candidate):
        return True
    weaker = spec.with_context
    return weaker is not None and weaker(candidate) and has_context(spec, text, start, field_name)


def vetoed_by_field(spec: DetectorSpec, field_name: str) -> bool:
    """Whether ``field_name`` holds one of ``spec.not_in_field`` as a word. Not cached: field
    names come from payloads, and no cache may hold them as text."""
    return bool(spec.not_in_field) and any(word in spec.not_in_field for word in split_words(field_name))


def left_alone(detector: CompiledDetector, text: str, start: int) -> bool:
    """Whether what precedes ``text[start]`` leaves a value there alone (``not_after``, ``inside``)."""
    window = detector.spec.context_window
    if detector.not_after is not None and preceded_by(detector.not_after, text, start, window):
        return True
    # ``inside`` reads the value's first character too: only a letter or a digit continues the run.
    return detector.inside is not None and preceded_by(detector.inside, text, start + 1, window + 1)


def preceded_by(pattern: re2.Pattern, text: str, start: int, window: int) -> bool:
    """Whether ``pattern`` (compiled ``not_after``) matches the ``window`` characters before ``text[start]``."""
    before = text[max(0, start - window) : start]
    return bool(before) and pattern.search(before.encode("utf-8", "surrogatepass")) is not None


def next_char_boundary(data: bytes, pos: int) -> int:
    """``pos``, or the start of the next UTF-8 character when ``pos`` is inside one."""
    while pos < len(data) and data[pos] & 0xC0 == 0x80:
        pos += 1
    return pos


def find_spans(detector: CompiledDetector, text: str, field_name: str = "") -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` str offsets of ``detector``'s findings in ``text``.

    Exactly:

    1. ``data = text.encode("utf-8", "surrogatepass")``; ``pos = 0``.
    2. ``m = regex.search(data, pos)``; stop when there is none.
    3. The candidate is the ``value`` group (or a ``value_<name>`` one) if the
       pattern has one *and it took part in the match*, else the whole match.
    4. The candidate is rejected when it is empty or when :func:`confirm` says
       it does not count (validator, ``with_context`` and context words,
       ``not_after``, ``context_required``). On rejection, search again
       from ``m.start() + 1`` byte, moved forward to the next UTF-8 character
       boundary.
    5. Otherwise, first search the text the match read before its value (a
       secret's key name: ``m.start() + 1``, moved to a character boundary, up to
       the value's start) the same way, keeping only findings that end before the
       value starts (a value may stand in that text: ``API_KEY_4111...=...``);
       then record the candidate and search again from the value's end (what the
       match read after it, a trailing edge's character or a URL's host, may hold
       or lead the next value).

    ``search`` always sees the whole of ``data``: ``^`` matches only at byte 0
    and ``\\b`` looks at the byte before ``pos``. Built-in patterns rely on this
    for their consumed leading boundaries (``(?:^|[^0-9A-Za-z_.])(?P<value>...)``),
    so an engine must not slice the text before matching.

    Offsets are ``str`` indices (via :func:`byte_to_str_offsets`). ``field_name``
    is the key/header/parameter holding ``text``, used only for context.

    Obfuscated text (:func:`veil.rules.normalize.normalize`) is matched in its
    normalized form, once, and each span mapped back to ``text``.
    """
    normalized = normalize(text)
    if normalized is None:
        return _find_spans(detector, text, field_name)
    return [normalized.span(s, e) for s, e in _find_spans(detector, normalized.text, field_name)]


def _find_spans(detector: CompiledDetector, text: str, field_name: str) -> list[tuple[int, int]]:
    data = text.encode("utf-8", "surrogatepass")
    byte_spans = _spans_in(detector, data, text, field_name, 0, len(data) + 1)
    flat = byte_to_str_offsets(data, [off for span in byte_spans for off in span])
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def _spans_in(
    detector: CompiledDetector, data: bytes, text: str, field_name: str, pos: int, limit: int
) -> list[tuple[int, int]]:
    """Byte spans of the findings that start at ``pos`` or after and end by ``limit``."""
    spans: list[tuple[int, int]] = []
    while pos < limit:
        m = detector.regex.search(data, pos)
        if m is None or m.start() >= limit:
            break
        start, end = _value_of(detector, m) or m.span()
        accepted = end > start and end <= limit and confirm(
            detector,
            data[start:end].decode("utf-8", "surrogatepass"),
            text,
            byte_to_str_offsets(data, [start])[0],
            field_name,
        )
        if accepted:
            spans += _spans_in(detector, data, text, field_name, next_char_boundary(data, m.start() + 1), start)
            spans.append((start, end))
            pos = end
        else:
            pos = next_char_boundary(data, m.start() + 1)
    return spans
