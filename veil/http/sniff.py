"""Bodies whose type says nothing (``application/octet-stream``, no type, a type veil does not know: :func:`veil.rules.media.is_vague`).

Such a body may be a JSON document as well as a download. An adapter reads its first
:data:`SNIFF_HEAD_BYTES` (``body_mode(..., sniffs=True)`` answers ``"sniff"``;
a proxy that must choose at the headers uses :class:`veil.http.sniffed_stream.SniffedStream`), asks
:func:`may_be_text`, and then either streams the head and the rest through unread
(binary: large downloads and uploads keep streaming, never buffered) or buffers the
whole body, bounded by ``limits.max_body_bytes``, for :func:`veil.http.redact_buffered`,
where the plan sniffs what it is (:func:`veil.rules.media.sniff_body`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from veil.errors import RedactionError
from veil.http.stream_codings import StreamDecoder, can_stream
from veil.rules.media import SNIFF_HEAD_BYTES, media_type, sniff_head
from veil.rules.media import is_vague as media_is_vague

__all__ = ["SNIFF_HEAD_BYTES", "Replay", "is_vague", "may_be_text", "read_head"]


def is_vague(content_type: str) -> bool:
    """Whether a Content-Type says nothing about the body, or is one veil has no rule for and does
    not know to be binary (so its head must be sniffed): :func:`veil.rules.media.is_vague`."""
    return media_is_vague(media_type(content_type)[0])


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
    return sniff_head(plain[:SNIFF_HEAD_BYTES])


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

