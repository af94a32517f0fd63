"""See through obfuscation before matching: compatibility forms, invisible characters, percent-encoding.

``ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ``, ``4111 11\\u200b11 1111 1111`` and ``jane%40example.com`` hide
a value from patterns written for its plain form. Detectors run on a normalized copy
of such a string instead: NFKC (fullwidth and other compatibility forms become their
plain letters and digits), invisible format characters removed (zero-width spaces
and joiners, soft hyphens, bidi controls, the BOM), and runs of ``%XX`` that decode
to UTF-8 decoded. Each hit is mapped back to the original string, so what is
replaced is the original span, invisible characters included.

Only strings holding one of those characters or a ``%XX`` run are normalized at all
(:data:`TRIGGER` says which); every pass that picks strings to scan from a body's raw
bytes includes it, so all engine paths normalize the same strings. Only the
non-ASCII runs and ``%`` runs of such a string are looked at character by character;
the ASCII text between them maps one to one.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache

_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# Compatibility characters that obfuscate the values detectors look for: fullwidth
# and halfwidth forms, small form variants (U+FE6B is a small '@'), super- and
# subscripts, enclosed and mathematical alphanumerics, the one-dot leader, and the
# spaces NFKC makes plain (no-break, figure, narrow no-break, ideographic...: French
# and typeset numbers group their digits with them, "01\u00a023\u00a045").
_COMPAT = (
    "\u00a0\u00b2\u00b3\u00b9\u2000-\u200a\u2024\u202f\u205f\u2070-\u209f\u2460-\u24ff\u3000"
    "\ufe50-\ufe6b\uff01-\uffee\U0001d400-\U0001d7ff"
)

TRIGGER = rf"[{_INVISIBLE}{_COMPAT}]|%[0-9A-Fa-f]{{2}}"
"""RE2 (and Python ``re``) syntax: found in every string :func:`normalize` changes."""

_TRIGGER = re.compile(TRIGGER)
_RUNS = re.compile(r"[^\x00-\x7f]+|(?:%[0-9A-Fa-f]{2})+")
_INVISIBLE_CHARS = re.compile(f"[{_INVISIBLE}]")


class Normalized:
    """A normalized text and the map of its offsets back to the original.

    ``segments`` holds ``(normalized start, original start, normalized length,
    original length)`` for every piece that changed; text between pieces maps one
    to one. A changed piece maps as a whole: any span touching it covers all of it.
    """

    __slots__ = ("text", "_norm_starts", "_segments")

    def __init__(self, text: str, segments: list[tuple[int, int, int, int]]) -> None:
        self.text = text
        self._segments = segments
        self._norm_starts = [s[0] for s in segments]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``(start, end)`` of the normalized ``text[start:end]`` (``end > start``)."""
        return self._original(start, False), self._original(end - 1, True)

    def _original(self, at: int, end: bool) -> int:
        i = bisect_right(self._norm_starts, at) - 1
        if i < 0:
            return at + end
        norm_start, orig_start, norm_len, orig_len = self._segments[i]
        if at < norm_start + norm_len:  # inside a changed piece: all of it
            return orig_start + orig_len if end else orig_start
        # Past the piece (a removed character is always past), in text that maps one to one.
        return orig_start + orig_len + (at - norm_start - norm_len) + end


def needs_normalizing(text: str) -> bool:
    """Whether :func:`normalize` would look at ``text`` (plain ASCII without ``%`` never needs it)."""
    if text.isascii() and "%" not in text:
        return False
    return _TRIGGER.search(text) is not None


def normalize(text: str) -> Normalized | None:
    """``text`` with obfuscation undone, or None when it needs none (see the module docstring)."""
    if not needs_normalizing(text):
        return None
    pieces: list[str] = []
    segments: list[tuple[int, int, int, int]] = []
    last = 0
    out_len = 0
    for run in _RUNS.finditer(text):
        start, end = run.span()
        plain = text[last:start]
        pieces.append(plain)
        out_len += len(plain)
        last = end
        chunk = run.group()
        if chunk[0] == "%":
            out_len = _percent_run(chunk, start, out_len, pieces, segments)
        elif unicodedata.is_normalized("NFKC", chunk) and _INVISIBLE_CHARS.search(chunk) is None:
            pieces.append(chunk)
            out_len += len(chunk)
        else:
            for offset, char in enumerate(chunk):
                new = _plain(char)
                if new != char:
                    segments.append((out_len, start + offset, len(new), 1))
                pieces.append(new)
                out_len += len(new)
    pieces.append(text[last:])
    new_text = "".join(pieces)
    if not segments:
        return None  # e.g. only %XX runs that are not UTF-8
    return Normalized(new_text, segments)


@lru_cache(maxsize=4096)
def _plain(char: str) -> str:
    if _INVISIBLE_CHARS.match(char):
        return ""
    return unicodedata.normalize("NFKC", char)


def _percent_run(chunk: str, start: int, out_len: int, pieces: list[str],
                 segments: list[tuple[int, int, int, int]]) -> int:
    """Decode a run of ``%XX`` where it is UTF-8; each character maps to its own escapes. A byte
    that is not (``%E9``, Latin-1's é) stays as its escape, and the rest of the run is still
    decoded: ``jos%E9%40example.com`` reads ``jos%E9@example.com``."""
    decoded = bytes.fromhex(chunk.replace("%", "")).decode("utf-8", "surrogateescape")
    at = start
    for char in decoded:
        if "\udc80" <= char <= "\udcff":  # an undecodable byte: its escape, as written
            pieces.append(chunk[at - start : at - start + 3])
            out_len += 3
            at += 3
            continue
        width = 3 * len(char.encode("utf-8"))
        new = _plain(char)
        segments.append((out_len, at, len(new), width))
        pieces.append(new)
        out_len += len(new)
        at += width
    return out_len
