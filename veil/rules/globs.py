"""Glob patterns for paths, hosts, names and content types, compiled to RE2.

``*`` matches within one path segment (or host label), ``**`` across them,
``?`` one character. Names and hosts compare case-insensitively.
"""

from __future__ import annotations

from veil.rules.regex import Pattern, compile_re2

_SPECIAL = set(".^$+{}[]|()\\")


def glob_to_regex(glob: str, *, separator: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            if glob.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append(f"[^{separator}]*" if separator else ".*")
        elif ch == "?":
            out.append(f"[^{separator}]" if separator else ".")
        elif ch in _SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def compile_globs(globs: list[str], *, separator: str, case_insensitive: bool) -> Pattern | None:
    """One anchored RE2 alternation of ``globs``; None when the list is empty (match all)."""
    if not globs:
        return None
    body = "|".join(glob_to_regex(g, separator=separator) for g in globs)
    return compile_re2(f"^(?:{body})$", case_insensitive=case_insensitive, allow_empty=True)


def is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?")


def matches(pattern: Pattern | None, text: str) -> bool:
    return pattern is None or pattern.search(text.encode("utf-8", "surrogatepass")) is not None


def compile_media_types(types: list[str]) -> Pattern | None:
    """``application/json``, ``text/*``, ``application/*+json``, ``*/*``."""
    if not types:
        return None
    body = "|".join(glob_to_regex(t.strip().lower(), separator="") for t in types)
    return compile_re2(f"^(?:{body})$", case_insensitive=True, allow_empty=True)
