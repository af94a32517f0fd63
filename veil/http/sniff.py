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

A body starting with a byte order mark (UTF-8's, or UTF-16/32's: JSON or text written by
Windows tools and .NET) is text: its head counts as text, it is decoded, redacted as UTF-8 would
be, and written back in its own encoding with its mark. Without a mark, a body whose first bytes
show the NUL pattern JSON readers take for UTF-16 or UTF-32 (Python's ``json.loads(bytes)``, RFC
4627 section 3: ``{\\x00"\\x00`` is UTF-16-LE) is read the same way when its head decodes so without
control characters (:func:`veil.rules.media.unicode_form`); binary opening with a NUL (a gRPC
frame, MP4, ICO) does not decode so, or decodes to control characters, and passes unread.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from veil.errors import RedactionError
from veil.http.codings import is_plain
from veil.http.stream_codings import StreamDecoder, can_stream
from veil.rules.media import SNIFF_HEAD_BYTES, is_binary_label, media_type, sniff_head
from veil.rules.media import is_vague as media_is_vague
from veil.rules.plan import Plan
from veil.rules.plan_types import Result, Route

__all__ = [
    "SNIFF_HEAD_BYTES", "Replay", "binary_already", "head_decides", "is_vague", "may_be_text", "read_head",
    "redact_sniffed",
]

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


def may_be_text(head: bytes, content_encoding: str = "", content_type: str = "") -> bool:
    """Whether a body starting with ``head`` whose head decides (:func:`head_decides`) must be read
    whole (True) or may pass unread.

    An encoded head is decoded first. An encoding veil cannot decode, or a head that does not decode,
    is read whole for a vague type, so that the body fails closed rather than crossing unread; under
    a label veil knows to be binary (``content_type``: a PNG sent with ``Content-Encoding: aes128gcm``,
    or labelled gzip when it is not) it passes unread as its label says, as before sniffing: only a
    document veil can read is taken for a mislabelled one.
    """
    labelled = bool(content_type) and is_binary_label(media_type(content_type)[0])
    if not can_stream(content_encoding):
        return not labelled
    try:
        decoder = StreamDecoder(content_encoding)
        plain = b""
        for piece in decoder.feed(head):
            plain += piece
            if len(plain) >= SNIFF_HEAD_BYTES:
                break
    except RedactionError:
        return not labelled
    return sniff_head(plain[:SNIFF_HEAD_BYTES])


def redact_sniffed(plan: Plan, body: bytes, content_type: str, route: Route | None = None) -> Result:
    """:meth:`Plan.redact_body` for a whole body whose head decided it is read (:func:`head_decides`;
    decoded of its Content-Encoding) because :func:`may_be_text` said its head may be text.

    A body with a byte order mark, or UTF-16/32 without one, is redacted as text in its encoding
    (by the plan). A vague body the plan finds binary past a text head raises ``bad_encoding`` (see
    the module docstring: it is never passed unread as binary once its head looked like text); so
    does a marked body that does not decode. A body labelled binary that is no JSON, NDJSON or form
    document comes back unchanged (``kind == "binary"``): its label stands.
    """
    result = plan.redact_body(body, content_type, route)
    if result.kind == "binary" and is_vague(content_type):
        raise RedactionError("bad_encoding", "a body whose head is text holds a control byte or bytes that are "
                                             f"not UTF-8 (or not its UTF-16/32) past its first {SNIFF_HEAD_BYTES} bytes")
    return result


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

