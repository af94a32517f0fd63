"""Incremental Content-Encoding for bodies rewritten while they stream.

A compressed event stream cannot be decoded whole and re-encoded at the end:
events must reach the client as they happen. ``StreamDecoder`` turns each
arriving chunk into plain bytes in bounded pieces (a small compressed chunk
that expands to gigabytes is handed on piece by piece, never held at once);
``StreamEncoder`` compresses what veil emits and flushes after every chunk so
the client can decode each event as soon as it arrives.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from veil.errors import RedactionError
from veil.http.codings import brotli_module, zlib_decoder

STREAMABLE_ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip", "deflate", "br"})
_PIECE = 256 * 1024  # most plain bytes one decode step produces


def can_stream(encoding: str) -> bool:
    """Whether a body in this Content-Encoding can be rewritten as it streams."""
    encoding = encoding.strip().lower()
    return encoding in STREAMABLE_ENCODINGS and (encoding != "br" or brotli_module() is not None)


class StreamDecoder:
    """Feed encoded chunks, iterate plain pieces; ``close`` checks the stream ended cleanly."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding.strip().lower()
        self._zlib: Any = None
        self._brotli: Any = brotli_module().Decompressor() if self.encoding == "br" else None
        self._ended = False

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if self.encoding in ("", "identity"):
            if chunk:
                yield chunk
            return
        if self._brotli is not None:
            yield from self._feed_brotli(chunk)
            return
        data = chunk
        while data:
            if self._zlib is None:
                if self._ended and not data.strip(b"\0"):
                    return  # padding after the last member
                self._zlib = zlib_decoder(data, self.encoding in ("gzip", "x-gzip"))
            try:
                piece = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                raise RedactionError("bad_encoding", f"body is not valid {self.encoding}") from None
            if piece:
                yield piece
            if self._zlib.eof:
                # A gzip body may hold several members; each one is decoded, never skipped.
                data, self._zlib, self._ended = self._zlib.unused_data, None, True
                if data and self.encoding == "deflate" and data.strip(b"\0"):
                    raise RedactionError("bad_encoding", "data after the end of the deflate stream")
            else:
                data = self._zlib.unconsumed_tail

    def _feed_brotli(self, chunk: bytes) -> Iterator[bytes]:
        # Small slices bound each expansion (Brotli 1.1, pinned by mitmproxy 11, has no output limit).
        try:
            for start in range(0, len(chunk), 64):
                piece = self._brotli.process(chunk[start : start + 64])
                if piece:
                    yield piece
        except brotli_module().error:
            raise RedactionError("bad_encoding", "body is not valid br") from None

    def close(self) -> None:
        """Raise when the encoded stream was cut short (a truncated body is never a complete one)."""
        if self._brotli is not None:
            if not self._brotli.is_finished():
                raise RedactionError("bad_encoding", "br body is truncated")
        elif self.encoding not in ("", "identity") and (self._zlib is not None or not self._ended):
            raise RedactionError("bad_encoding", f"{self.encoding} body is truncated")


class StreamEncoder:
    """Compress emitted bytes in the stream's own encoding, flushing after each chunk."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding.strip().lower()
        self._brotli: Any = brotli_module().Compressor() if self.encoding == "br" else None
        self._zlib: Any = None
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.compressobj(6, zlib.DEFLATED, 31)
        elif self.encoding == "deflate":
            self._zlib = zlib.compressobj(6)

    def encode(self, data: bytes) -> bytes:
        if self._brotli is not None:
            return bytes(self._brotli.process(data) + self._brotli.flush()) if data else b""
        if self._zlib is not None:
            return bytes(self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)) if data else b""
        return data

    def finish(self) -> bytes:
        if self._brotli is not None:
            return bytes(self._brotli.finish())
        if self._zlib is not None:
            return bytes(self._zlib.flush())
        return b""
