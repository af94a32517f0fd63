"""RE2 compilation for every pattern veil runs: built-in, custom and allow-lists.

Patterns are compiled as UTF-8 bytes patterns (``re2.UNICODE``), because pyre2
matches ``bytes`` several times faster than ``str`` and would otherwise treat
bytes as Latin-1. pyre2 silently falls back to Python's ``re`` for syntax RE2
lacks (look-around, back-references); veil never accepts that fallback, since
``re`` can backtrack exponentially on hostile input.
"""

from __future__ import annotations

import threading
from typing import Any, TypeAlias

import re2

# pyre2 ships no type stubs: a compiled RE2 pattern is typed as Any.
Pattern: TypeAlias = Any

# pyre2 keeps its fallback mode in module state; guard the brief switch.
_fallback_lock = threading.Lock()

# RE2 gives the lazy DFA a share of this budget (about a third each way); the combined detector
# alternation needs more than the 8 MiB default or RE2 falls back to the slow NFA for every
# search ("DFA out of memory" on stderr: the DFA needs room for the program before any state).
# At 64 MiB the catalog's alternation (~104,000 instructions) crossed that line; states are built
# lazily, so the budget costs memory only as a search explores them.
_MAX_MEM = 128 << 20

# Probes for "can this pattern match the empty string somewhere".
_EMPTY_PROBES = (b"", b"a", b"0", b" ", b"a b", b"\n", b"-")


class PatternError(ValueError):
    """RE2 cannot compile the pattern; the message is RE2's reason."""


def compile_re2(pattern: str, *, case_insensitive: bool = False, allow_empty: bool = False) -> Pattern:
    """Compile ``pattern`` with RE2 for matching UTF-8 ``bytes``.

    Raises :class:`PatternError` with RE2's reason when the pattern is not RE2
    syntax, and when it can match the empty string (an empty match would make
    every position a finding), unless ``allow_empty`` (anchored globs and allow-lists).
    """
    flags = re2.UNICODE | (re2.IGNORECASE if case_insensitive else 0)
    with _fallback_lock:
        re2.set_fallback_notification(re2.FALLBACK_EXCEPTION)
        try:
            compiled = re2.compile(pattern.encode("utf-8"), flags, _MAX_MEM)
        except re2.BackreferencesException:
            raise PatternError("back-references are not supported by RE2") from None
        except re2.CharClassProblemException:
            raise PatternError("character class not supported by RE2") from None
        except (re2.error, ValueError, TypeError) as exc:
            raise PatternError(str(exc) or "not valid RE2 syntax") from None
        finally:
            re2.set_fallback_notification(re2.FALLBACK_QUIETLY)
    if type(compiled) is not re2.Pattern:  # defensive: never run a fallback pattern
        raise PatternError("not valid RE2 syntax")
    if allow_empty:
        return compiled
    for probe in _EMPTY_PROBES:
        for match in compiled.finditer(probe):
            if match.start() == match.end():
                raise PatternError("pattern can match the empty string")
    return compiled


def byte_to_str_offsets(data: bytes, offsets: list[int]) -> list[int]:
    """Map sorted byte offsets into ``data`` (UTF-8) to ``str`` indices."""
    if data.isascii():
        return offsets
    out: list[int] = []
    pos_b = 0
    pos_s = 0
    for off in offsets:
        pos_s += len(data[pos_b:off].decode("utf-8", "surrogatepass"))
        pos_b = off
        out.append(pos_s)
    return out


def without_captures(pattern: str, *, edge: str = "") -> str:
    """``pattern`` with every group made non-capturing, and ``\\A``/``\\z`` as ``^``/``$``.

    Used for the combined candidate scans: RE2 finds match boundaries much
    faster when it does not have to track submatches, and the combined scan
    runs in multi-line mode over many strings joined by newlines, where ``^``
    and ``$`` mark each string's edges. The result may match more than the
    original (it is only a candidate filter), never less.

    With ``edge`` (a literal character), ``^``/``\\A`` become "start of text or
    ``edge``" and ``$``/``\\z`` "end of text or ``edge``": for scanning strings
    where they stand in a raw document, delimited by quotes.
    """
    start, end = ("^", "$") if not edge else (f"(?:^|{edge})", f"(?:$|{edge})")
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if not in_class and nxt == "A":
                out.append(start)
            elif not in_class and nxt == "z":
                out.append(end)
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            # ']' right after '[' or '[^' is a literal member of the class
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("]")
                i += 1
            continue
        if edge and ch in "^$":
            out.append(start if ch == "^" else end)
            i += 1
            continue
        if ch == "(":
            if pattern.startswith("(?P<", i) or pattern.startswith("(?<", i):
                close = pattern.index(">", i)
                out.append("(?:")
                i = close + 1
                continue
            if i + 1 < n and pattern[i + 1] == "?":
                out.append(ch)
                i += 1
                continue
            out.append("(?:")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)
