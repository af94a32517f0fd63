"""Glob patterns for paths, hosts, names and content types, compiled to RE2.

``*`` matches within one path segment (or host label), ``?`` one character of
one. ``**`` as a whole segment matches zero or more segments, as in gitignore
and most routers: ``/api/**/orders`` matches ``/api/orders`` and
``/api/v1/eu/orders``, ``**/orders`` matches ``orders`` and ``a/b/orders``, and
``**.example.com`` matches ``example.com`` and ``eu.api.example.com``. A
trailing ``/**`` matches everything below (``/api/**``: ``/api/`` and
``/api/x/y``, not ``/api``). Inside a segment (``/v**``) ``**`` matches any run
of characters, separators included. Names and hosts compare case-insensitively.
"""

from __future__ import annotations

from veil.rules.regex import Pattern, compile_re2

_SPECIAL = set(".^$+{}[]|()\\")


def glob_to_regex(glob: str, *, separator: str) -> str:
    """The unanchored RE2 text of ``glob``; ``separator`` splits segments ("" for none)."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            if glob.startswith("**", i):
                starts_segment = i == 0 or glob[i - 1] == separator
                if separator and starts_segment and glob.startswith(separator, i + 2):
                    # "**/" as a whole segment: zero or more segments, each with its separator,
                    # so "/api/**/orders" matches "/api/orders" too.
                    out.append(f"(?:.*{_escape(separator)})?")
                    i += 2 + len(separator)
                    continue
                out.append(".*")
                i += 2
                continue
            out.append(f"[^{separator}]*" if separator else ".*")
        elif ch == "?":
            out.append(f"[^{separator}]" if separator else ".")
        else:
            out.append(_escape(ch))
        i += 1
    return "".join(out)


def _escape(ch: str) -> str:
    return "\\" + ch if ch in _SPECIAL else ch


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
