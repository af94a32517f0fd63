"""A JSON body's bytes as the splice path reads them: validity, depth, escapes, string text.

Everything here answers a question about a body without building Python objects
for its values: is it one valid document (simdjson), how deep does it nest, and
what text does the string between two quotes hold. A body with escapes is read
through a *masked* copy (:func:`mask_escapes`) in which escaped quotes and
backslashes are marker bytes: the structure (quotes, brackets, colons) stands at
the same offsets as in the body, so quote parity and ``find`` work on it
unchanged, and only the strings that hold a backslash are decoded, by a JSON decoder.
"""

from __future__ import annotations

import threading
from functools import cache

import orjson
import simdjson

from veil.rules.regex import Pattern, compile_re2

WS = b" \t\r\n"


class Undecidable(Exception):
    """The bytes alone cannot answer cheaply: parse the document instead."""


ESCAPE_MARK = b"\x01"
"""What stands for each byte of an escaped quote or backslash in a masked body. A valid
JSON string holds no raw control character, so this byte is never text."""
_MARK2 = ESCAPE_MARK * 2
_ESCAPED_QUOTE_OR_BACKSLASH = compile_re2(r'\\[\\"]')


def mask_escapes(body: bytes) -> bytes:
    """``body`` (valid JSON) with ``\\\\`` and ``\\"`` written as two ``ESCAPE_MARK`` bytes;
    ``body`` itself (the same object) if it has neither.

    Offsets are kept, and the quotes left are exactly the strings' delimiters: quote
    parity and ``find(b'"')`` read the structure as in a body without escapes. Other
    escapes (``\\n``, ``\\u0040``) hold no quote and stay as they are. A string is
    decoded from the original bytes wherever they hold a backslash (:func:`string_text`),
    and the splice path scans such a string's decoded text, so an escape cannot hide
    a value from the detectors.
    """
    if b"\\" not in body:
        return body
    # One left-to-right pass pairs each backslash with the byte after it, as a parser does
    # (a run of escaped backslashes, then an escaped quote, masks whole). RE2's substitution:
    # about half the time of two ``bytes.replace`` passes on a 10 KB body with escapes.
    out: bytes = _ESCAPED_QUOTE_OR_BACKSLASH.sub(_MARK2, body)
    return out


def strings_within(frame: bytes, limit: int) -> bool:
    """Whether every string of a body (``frame``: its masked copy) is at most ``limit`` bytes as written.

    A string's text is never longer in UTF-8 than as written (an escape is at least as long as
    what it stands for), so then none is over the limit the walk checks (``string_too_long``). A
    run of bytes without a quote that long outside strings (a long array of numbers) only makes
    the answer False: the walk decides such a body. One RE2 pass, for bodies over the limit.
    """
    if len(frame) <= limit:
        return True
    if limit < _REPEAT_MAX:
        return _run_over(limit).search(frame) is None
    # A match is a whole run of at least _REPEAT_MAX bytes (it starts where the run does, and takes
    # all of it); the few there are are measured.
    return all(m.end() - m.start() <= limit for m in _run_over(_REPEAT_MAX - 1).finditer(frame))


_REPEAT_MAX = 1000
"""The largest count RE2 takes in a repetition."""


@cache
def _run_over(limit: int) -> Pattern:
    """Finds a run of more than ``limit`` (below ``_REPEAT_MAX``) bytes without a quote; at the top, all of it."""
    return compile_re2('[^"]{%d,}' % (limit + 1))


def string_text(body: bytes, s: int, e: int) -> str:
    """The text of the JSON string whose content is ``body[s:e]`` (quotes at ``s - 1`` and ``e``).

    Where the content holds no backslash the bytes are the text. Raises
    :class:`Undecidable` for a string no JSON decoder accepts as text (a lone
    surrogate escape, were simdjson to let one through).
    """
    if body.find(b"\\", s, e) < 0:
        return body[s:e].decode("utf-8")
    try:
        text: str = orjson.loads(body[s - 1 : e + 1])
    except orjson.JSONDecodeError:
        raise Undecidable from None
    return text


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"{}[]')
_AS_PARENS = bytes.maketrans(b"{}[]", b"()()")


_parsers = threading.local()


def valid_json(body: bytes) -> bool:
    """Whether ``body`` is one JSON document, checked without building Python objects.

    simdjson validates in C at several GB/s, 4-5x faster than ``orjson.loads`` on
    10 KB; the splice path needs only the verdict. A parser is reused per thread
    (simdjson parsers are not thread-safe) and keeps a buffer as large as the
    largest body it saw. It refuses integers beyond 64 bits, which orjson and the
    stdlib accept: those bodies take the walk, whose parser has the last word.
    """
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = simdjson.Parser()
    try:
        parser.parse(body)
    except (ValueError, RuntimeError):  # invalid JSON, bad UTF-8; BIGINT_ERROR is a RuntimeError
        return False
    return True


# Below this many bytes per allowed level, counting brackets usually settles the depth at once.
_COUNT_FIRST_BYTES_PER_LEVEL = 64


def depth_within(body: bytes, frame: bytes, limit: int) -> bool:
    """Whether ``body`` (valid JSON; ``frame`` its masked copy) nests at most ``limit`` containers deep."""
    if len(body) <= _COUNT_FIRST_BYTES_PER_LEVEL * limit and _few_openers(frame, limit):
        return True
    return _within_by_parser(body, limit) or _counted_depth_within(frame, limit)


def _few_openers(body: bytes, limit: int) -> bool:
    """At most ``limit`` brackets open outside strings: no need to count levels.

    Brackets inside strings are counted too (an upper bound). Two byte counts: a
    quarter of the instructions of mapping the body through ``translate`` first.
    """
    return body.count(b"{") + body.count(b"[") <= limit


def _within_by_parser(body: bytes, limit: int) -> bool:
    """True when simdjson proves ``body`` (valid JSON) at most ``limit`` deep; False: undecided.

    simdjson refuses documents nesting more than a fixed number of non-empty
    containers (an empty one at the bottom opens no level of its own, so the real
    depth may be one more). Wrapped in enough arrays that it accepts only bodies
    whose non-empty containers nest at most ``limit - 1`` deep, the body is at most
    ``limit`` deep if it parses. One parse in C, instead of a pass per level in
    Python: for a 100 KB body 3x faster than counting.

    Only for a body already validated on its own: the wrapped parse cannot stand in for
    that one (it would save a parse of every large body), because the arrays around an
    invalid body can complete it: ``1],[2`` is invalid, ``[[1],[2]]`` is not.
    """
    levels = _parser_levels()
    if levels is None:
        return False
    pad = levels - (limit - 1)
    if pad <= 0:
        return True  # the parser accepted the body, so it is within the parser's depth, and so within the limit
    return valid_json(b"[" * pad + body + b"]" * pad)


def _counted_depth_within(body: bytes, limit: int) -> bool:
    """Counted level by level; ``body`` holds no escaped quote (a masked body)."""
    # Quotes and brackets only, one kind of pair (one pass over the body).
    nest = body.translate(_AS_PARENS, _NOT_STRUCTURE)
    # Two adjacent quotes have no bracket between them, so dropping them keeps
    # every structural bracket and the quotes' parity; what is left between
    # quotes is inside strings.
    nest = nest.replace(b'""', b"")
    if b'"' in nest:
        nest = b"".join(nest.split(b'"')[::2])
    for _ in range(limit):  # each pass removes exactly the innermost level
        nest = nest.replace(b"()", b"")
        if not nest:
            return True
    return False


@cache
def _parser_levels() -> int | None:
    """How many non-empty arrays simdjson nests (1023 in pysimdjson 7), found once by bisection;
    None if it takes the deepest probe (then its refusals prove nothing)."""
    low, high = 0, _DEEPEST_PROBE
    while low < high:
        mid = (low + high + 1) // 2
        if valid_json(b"[" * mid + b"0" + b"]" * mid):
            low = mid
        else:
            high = mid - 1
    return low if low < _DEEPEST_PROBE else None


_DEEPEST_PROBE = 1 << 14


def key_before(body: bytes, frame: bytes, colon: int) -> str:
    """The key whose ``:`` is at ``colon`` (``frame``: the body's masked copy, or the body
    itself when it holds no escaped quote)."""
    ke = frame.rfind(b'"', 0, colon)
    return string_text(body, frame.rfind(b'"', 0, ke) + 1, ke)


def skip_ws(body: bytes, i: int) -> int:
    n = len(body)
    while i < n and body[i] in WS:
        i += 1
    return i


def skip_ws_back(body: bytes, i: int) -> int:
    while i > 0 and body[i] in WS:
        i -= 1
    return i
