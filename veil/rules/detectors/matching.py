"""Reference matcher: one detector over one string, written for clarity.

The production engine scans with all detectors combined; its results are
tested for equality against :func:`find_spans`, so the semantics here are the
contract and are kept deliberately simple.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import re2

from veil.rules.detectors.base import DetectorSpec
from veil.rules.regex import byte_to_str_offsets, compile_re2

@dataclass(frozen=True, slots=True)
class CompiledDetector:
    """A :class:`DetectorSpec` with its compiled RE2 pattern."""

    spec: DetectorSpec
    regex: re2.Pattern
    value_group: bool  # the pattern has a group named "value"


def compile_detector(spec: DetectorSpec) -> CompiledDetector:
    """Compile ``spec.pattern``; raises :class:`veil.rules.regex.PatternError`."""
    regex: re2.Pattern = compile_re2(spec.pattern, case_insensitive=spec.case_insensitive)
    return CompiledDetector(spec=spec, regex=regex, value_group="value" in regex.groupindex)


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
    if not phrases:
        return False
    for source in (field_name, text[max(0, start - spec.context_window) : start]):
        lowered = source.lower()
        # Fast negative: a phrase's first word must at least occur as a substring.
        if not any(phrase[0] in lowered for phrase in phrases):
            continue
        words = split_words(source)
        if any(_contains_phrase(words, phrase) for phrase in phrases):
            return True
    return False


def _next_char_boundary(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] & 0xC0 == 0x80:
        pos += 1
    return pos


def find_spans(detector: CompiledDetector, text: str, field_name: str = "") -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` str offsets of ``detector``'s findings in ``text``.

    Exactly:

    1. ``data = text.encode("utf-8", "surrogatepass")``; ``pos = 0``.
    2. ``m = regex.search(data, pos)``; stop when there is none.
    3. The candidate is the ``value`` group if the pattern has one *and it took
       part in the match*, else the whole match.
    4. The candidate is rejected when it is empty, when the validator (if any)
       returns False for its text, or when ``context_required`` and not
       :func:`has_context` at the candidate's start. On rejection, search again
       from ``m.start() + 1`` byte, moved forward to the next UTF-8 character
       boundary.
    5. Otherwise record the candidate and search again from ``m.end()``.

    ``search`` always sees the whole of ``data``: ``^`` matches only at byte 0
    and ``\\b`` looks at the byte before ``pos``. Built-in patterns rely on this
    for their consumed leading boundaries (``(?:^|[^0-9A-Za-z_.])(?P<value>...)``),
    so an engine must not slice the text before matching.

    Offsets are ``str`` indices (via :func:`byte_to_str_offsets`). ``field_name``
    is the key/header/parameter holding ``text``, used only for context.
    """
    spec = detector.spec
    data = text.encode("utf-8", "surrogatepass")
    byte_spans: list[tuple[int, int]] = []
    pos = 0
    while pos <= len(data):
        m = detector.regex.search(data, pos)
        if m is None:
            break
        start, end = m.span()
        if detector.value_group and m.start("value") >= 0:
            start, end = m.span("value")
        accepted = end > start
        if accepted and spec.validator is not None:
            accepted = spec.validator(data[start:end].decode("utf-8", "surrogatepass"))
        if accepted and spec.context_required:
            str_start = byte_to_str_offsets(data, [start])[0]
            accepted = has_context(spec, text, str_start, field_name)
        if accepted:
            byte_spans.append((start, end))
            pos = m.end() if m.end() > m.start() else m.start() + 1
        else:
            pos = _next_char_boundary(data, m.start() + 1)
    flat = byte_to_str_offsets(data, [off for span in byte_spans for off in span])
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
