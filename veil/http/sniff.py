"""Bodies whose type says nothing (``application/octet-stream``, no type, a type veil does not know: :func:`veil.rules.media.is_vague`).

Such a body may be a JSON document as well as a download. An adapter reads its first
:data:`SNIFF_HEAD_BYTES` (``body_mode(..., sniffs=True)`` answers ``"sniff"``;
a proxy that must choose at the headers uses :class:`veil.http.sniffed_stream.SniffedStream`), asks
:func:`may_be_text`, and then either streams the head and the rest through unread
(binary: large downloads and uploads keep streaming, never buffered) or buffers the
whole body, bounded by ``limits.max_body_bytes``, for :func:`veil.http.redact_buffered`,
where the plan sniffs what it is (:func:`veil.rules.media.sniff_body`) through
:func:`redact_sniffed`.

Once a head looked like text, the body is never passed as binary (review of issue #15):
a body whose first 512 bytes are text and which then holds a NUL, another control byte or
bytes that are not UTF-8 fails with ``bad_encoding``, and the adapter's ``on_error`` decides
(``block``: refused; ``passthrough``: passed, logged and counted as an error). Why not pass it
as the plan would a binary body: a text head followed by binary is what a sender writes to
smuggle text past a reader of heads (a JSON document padded with a NUL past byte 512), and
real binary formats show their control bytes within the head (gzip, PNG, zip, PDF, tar,
protobuf, SQLite). Why not redact it as text: rewriting text inside a binary format corrupts
it, and a body that is not UTF-8 has no charset to decode it with.

A body labelled with a type veil knows to be binary (``image/png``, ``application/pdf``,
``application/grpc``: :func:`veil.rules.media.is_binary_label`) takes the same way (review of
issue #15: a JSON document labelled ``image/png`` crossed unread): its head decides, a binary head
passes unread at the cost of holding :data:`SNIFF_HEAD_BYTES` (a decisive control byte ends the
wait sooner: :func:`binary_already`), a text head has the body read whole, bounded as a vague
one's (over ``limits.max_body_bytes``: ``body_too_large``). What differs is the end: only a
whole JSON, NDJSON or urlencoded-form document is redacted
(:func:`veil.rules.media.sniff_labelled`), and one opening like JSON (``{``, ``[``) that is none
(invalid, or padded with a NUL past its head) is refused as ``invalid_json``; other text, or
binary past a text head, passes unchanged under its label, never refused as ``bad_encoding``. Rewriting bytes inside a binary format
corrupts it (an all-ASCII protobuf message, an uncompressed PDF), and real binary formats with a
text head exist, where a vague label gives no such reason to believe the sender. The cost: free
text inside a body labelled binary (an e-mail in an uncompressed PDF) is not redacted.

A body starting with a UTF-16 or UTF-32 byte order mark (JSON or text written by Windows
tools and .NET) is text: its head counts as text, it is decoded, redacted as UTF-8 would
be, and written back in its own encoding with its mark. Without a mark, UTF-16 is not told
apart from binary (its NUL bytes look like any other), and passes unread as before.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from veil.errors import RedactionError
from veil.http.chunks import take
from veil.http.codings import is_plain
from veil.http.stream_codings import StreamDecoder, can_stream
from veil.rules.media import SNIFF_HEAD_BYTES, is_binary_label, media_type, sniff_head
from veil.rules.media import is_vague as media_is_vague
from veil.rules.plan import Plan
from veil.rules.plan_types import EMPTY_REPORT, Result, Route

__all__ = [
    "SNIFF_HEAD_BYTES", "Replay", "binary_already", "head_decides", "is_vague", "may_be_text", "read_head",
    "redact_sniffed",
]

_BYTE_ORDER_MARKS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)


def is_vague(content_type: str) -> bool:
    """Whether a Content-Type says nothing about the body, or is one veil has no rule for and does
    not know to be binary (so its head must be sniffed): :func:`veil.rules.media.is_vague`."""
    return media_is_vague(media_type(content_type)[0])


def head_decides(content_type: str) -> bool:
    """Whether a body's head decides if it is read (``body_mode`` answers ``sniff``): a vague type
    (:func:`is_vague`) or one veil knows to be binary (a label is only the sender's claim)."""
    mtype = media_type(content_type)[0]
    return media_is_vague(mtype) or is_binary_label(mtype)


def binary_already(head: bytes, content_encoding: str = "") -> bool:
    """Whether the first bytes of a body, fewer than :data:`SNIFF_HEAD_BYTES`, already show it binary
    whatever follows (a gRPC frame's flag byte, a PNG or gzip magic): the adapter need not hold a
    stream's first messages until the head is full. Byte order marks are 4 bytes at most, and a
    control byte or bad UTF-8 stays where it is as bytes are added."""
    return len(head) >= 4 and is_plain(content_encoding) and not may_be_text(head)


def may_be_text(head: bytes, content_encoding: str = "") -> bool:
    """Whether a vague body starting with ``head`` must be read whole (True) or may pass unread.

    An encoded head is decoded first; an encoding veil cannot decode, or a head that does not
    decode, is read whole, so that the body fails closed rather than crossing unread.
    """
    if not can_stream(content_encoding):
        return True
    try:
        decoder = StreamDecoder(content_encoding)
        plain = b""
        for piece in decoder.feed(head):
            plain += piece
            if len(plain) >= SNIFF_HEAD_BYTES:
                break
    except RedactionError:
        return True
    return _byte_order_mark(plain) is not None or sniff_head(plain[:SNIFF_HEAD_BYTES])


def redact_sniffed(plan: Plan, body: bytes, content_type: str, route: Route | None = None) -> Result:
    """:meth:`Plan.redact_body` for a whole body whose head decided it is read (:func:`head_decides`;
    decoded of its Content-Encoding) because :func:`may_be_text` said its head may be text.

    A body with a UTF-16/32 byte order mark is redacted as text in that encoding. A vague body the
    plan finds binary past a text head raises ``bad_encoding`` (see the module docstring: it is never
    passed unread as binary once its head looked like text); so does a marked body that does not
    decode. A body labelled binary that is no JSON, NDJSON or form document comes back unchanged
    (``kind == "binary"``): its label stands.
    """
    labelled = not is_vague(content_type)
    marked = _byte_order_mark(body)
    if marked is None:
        result = plan.redact_body(body, content_type, route)
        if result.kind == "binary" and not labelled:
            raise RedactionError("bad_encoding", "a body whose head is text holds a control byte or bytes that are "
                                                 f"not UTF-8 past its first {SNIFF_HEAD_BYTES} bytes")
        return result
    mark, codec = marked
    try:
        text = body[len(mark):].decode(codec)
    except UnicodeDecodeError:
        if labelled:
            return Result(body, EMPTY_REPORT, "binary")
        raise RedactionError("bad_encoding", f"a body with a {codec} byte order mark is not valid {codec}") from None
    result = plan.redact_body(text.encode("utf-8"), content_type, route)
    if result.kind == "binary":
        if labelled:
            return Result(body, result.report, "binary")
        raise RedactionError("bad_encoding", f"a {codec} body holds control characters text does not")
    if not result.report.changed:
        return Result(body, result.report, result.kind)
    return Result(mark + result.output.decode("utf-8").encode(codec), result.report, result.kind)


def _byte_order_mark(data: bytes) -> tuple[bytes, str] | None:
    """(mark, codec) of a body starting with a UTF-16 or UTF-32 byte order mark, else None."""
    for mark, codec in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return mark, codec
    return None


def head_chunks(chunks: Iterator[bytes]) -> list[bytes]:
    """The first chunks of a push stream, until they hold :data:`SNIFF_HEAD_BYTES` (or it ends);
    the rest stays in ``chunks``."""
    return take(chunks, SNIFF_HEAD_BYTES)[0]


def read_head(read: Callable[[int], bytes], length: int | None = None) -> bytes:
    """Up to :data:`SNIFF_HEAD_BYTES` from a pull stream (``read(n)``), never more than ``length``."""
    want = SNIFF_HEAD_BYTES if length is None else min(SNIFF_HEAD_BYTES, length)
    parts: list[bytes] = []
    size = 0
    while size < want:
        chunk = read(want - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


class Replay(io.RawIOBase):
    """Bytes veil already read (a sniffed head, a body over the limit), then the rest of the stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._head[: len(view)] if self._head else self._rest.read(len(view))
        self._head = self._head[len(data):] if self._head else b""
        view[: len(data)] = data
        return len(data)

