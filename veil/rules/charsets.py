"""Text in a declared charset: decoded by it, redacted, and written back in it.

UTF-8 and the charsets in which every ASCII byte is that ASCII character whatever comes before
it (:func:`veil.rules.header_params.ascii_compatible`: ISO-8859-*, windows-125x, EUC-KR...) take
the fast path: what veil scans is what any receiver reads, whether it honours the charset or not.

Every other charset Python knows (Shift_JIS, GBK, Big5, GB18030, EUC-JP, ISO-2022-JP, UTF-16/32,
EBCDIC...) is :func:`decode`-d and :func:`encode`-d back, and one more thing is asked of it
(the plan scans :func:`as_bytes_read`): the bytes that go out, read as a receiver that ignores the charset reads
them (as UTF-8, an undecodable byte a replacement character), must hold nothing the plan redacts.
An app that honours the charset reads the text veil scanned; one that ignores it could find an
address in bytes veil read as other text (``charset=utf-16`` on an ASCII body decodes to CJK): such a
body is refused, not read two ways. Trail bytes of GBK/Shift_JIS/Big5 may be ASCII letters or ``@``,
but always follow a lead byte that reads as a replacement character, so real text in those charsets
forms no value there. Replacements are ASCII, which every such charset writes.

A charset Python does not know is refused naming it (:func:`veil.errors.charset_named`), as are
bytes that do not decode (with the byte offset), and UTF-16/32 without a byte order mark, whose
byte order receivers guess differently (Python little-endian, RFC 2781 big-endian).
"""

from __future__ import annotations

import codecs

from veil.errors import RedactionError, charset_named
from veil.rules.header_params import REFUSED_CHARSET, ascii_compatible

_UNMARKED = {"utf-16": ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")),
             "utf-32": ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"))}
"""Charsets whose byte order the byte order mark gives: (mark, codec of that order) for each."""


def is_fast(charset: str) -> bool:
    """Whether text in ``charset`` is scanned as decoded with nothing more to check (module docstring)."""
    return charset == "utf-8" or ascii_compatible(charset)  # utf-8: nearly every body, no lookup


def decode(data: bytes, charset: str, what: str = "body") -> tuple[bytes, str]:
    """(byte order mark, text) of ``data`` in ``charset``; the mark (UTF-16/32 only, else ``b""``) is
    kept apart so :func:`encode` writes the same one back. Raises ``bad_encoding`` naming the
    charset: one Python does not know, bytes that do not decode (at which offset), UTF-16/32
    without a mark."""
    name = known(charset, what)
    mark, codec = b"", name
    if name in _UNMARKED:
        found = next(((m, c) for m, c in _UNMARKED[name] if data.startswith(m)), None)
        if found is None:
            raise RedactionError("bad_encoding", f"{what} in {name} has no byte order mark: receivers read its "
                                                 "byte order differently")
        mark, codec = found
    try:
        return mark, data[len(mark):].decode(codec)
    except UnicodeDecodeError as exc:
        raise RedactionError("bad_encoding", f"{what} is not valid {name} at byte {len(mark) + exc.start}") from None


def known(charset: str, what: str = "body") -> str:
    """Python's name for ``charset``; raises ``bad_encoding`` for one it does not know (named when
    shaped like a name: :func:`veil.errors.charset_named`) and for :data:`REFUSED_CHARSET`."""
    if charset == REFUSED_CHARSET:
        raise RedactionError("bad_encoding", f"{what}'s charset is given twice, differently, or cannot be read")
    name = codec_name(charset)
    if name is None:
        named = charset_named(charset)
        raise RedactionError("bad_encoding", f"unknown charset {named if named[0] != '<' else '(name not shown)'}")
    return name


def encode(mark: bytes, text: str, charset: str, what: str = "body") -> bytes:
    """``text`` written back in ``charset`` after the ``mark`` :func:`decode` gave."""
    name = codec_name(charset) or charset
    codec = next((c for m, c in _UNMARKED.get(name, ()) if m == mark), name) if mark else name
    try:
        return mark + text.encode(codec)
    except UnicodeEncodeError:
        raise RedactionError("bad_encoding", f"a redacted {what} has no form in {name}") from None


def as_bytes_read(data: bytes) -> str:
    """``data`` as a receiver that ignores its charset reads it: UTF-8, a byte that is not one
    character's a replacement character (so a trail byte never joins the ASCII before it)."""
    return data.decode("utf-8", "replace")


def codec_name(charset: str) -> str | None:
    """Python's name for a text charset, None for one it does not know (or a codec that is no
    charset: ``base64``, ``rot13``)."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError, TypeError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None
