"""Incremental Content-Encoding for bodies rewritten while they stream.

A compressed event stream cannot be decoded whole and re-encoded at the end:
events must reach the client as they happen. ``StreamDecoder`` turns each
arriving chunk into plain bytes in bounded pieces (a small compressed chunk
that expands to gigabytes is handed on piece by piece, never held at once);
``StreamEncoder`` compresses what veil emits and flushes after every chunk so
the client can decode each event as soon as it arrives. A Content-Encoding that
lists several codings (``gzip, zstd``) is a chain: decoded last coding first,
encoded in order.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from veil.errors import RedactionError
from veil.http.codings import (
    ZLIB_CODINGS,
    ZstdFrames,
    brotli_module,
    can_decode,
    codings_of,
    unsupported,
    zlib_decoder,
    zstandard_module,
)

STREAMABLE_ENCODINGS = frozenset({"", "identity", *ZLIB_CODINGS, "br", "zstd"})
_PIECE = 256 * 1024  # most plain bytes one decode step produces
_SLICE = 64  # compressed bytes per step for decoders with no output limit


def can_stream(encoding: str) -> bool:
    """Whether a body in this Content-Encoding can be rewritten as it streams."""
    return can_decode(encoding)


class _Decoder:
    """One coding, decoded incrementally."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib: Any = None
        self._ended = False
        self._brotli: Any = brotli_module().Decompressor() if coding == "br" else None
        self._zstd = ZstdFrames() if coding == "zstd" else None

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if self._brotli is not None:
            yield from self._feed_brotli(chunk)
        elif self._zstd is not None:
            yield from self._zstd.feed(chunk)
        else:
            yield from self._feed_zlib(chunk)

    def _feed_zlib(self, chunk: bytes) -> Iterator[bytes]:
        data = chunk
        while data:
            if self._zlib is None:
                if self._ended and not data.strip(b"\0"):
                    return  # padding after the last member
                self._zlib = zlib_decoder(data, self.coding in ("gzip", "x-gzip"))
            try:
                piece = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                raise RedactionError("bad_encoding", f"body is not valid {self.coding}") from None
            if piece:
                yield piece
            if self._zlib.eof:
                # A gzip body may hold several members; each one is decoded, never skipped.
                data, self._zlib, self._ended = self._zlib.unused_data, None, True
                if data and self.coding == "deflate" and data.strip(b"\0"):
                    raise RedactionError("bad_encoding", "data after the end of the deflate stream")
            else:
                data = self._zlib.unconsumed_tail

    def _feed_brotli(self, chunk: bytes) -> Iterator[bytes]:
        # Small slices bound each expansion (Brotli 1.1, pinned by mitmproxy 11, has no output limit).
        try:
            for start in range(0, len(chunk), _SLICE):
                piece = self._brotli.process(chunk[start : start + _SLICE])
                if piece:
                    yield piece
        except brotli_module().error:
            raise RedactionError("bad_encoding", "body is not valid br") from None

    def close(self) -> None:
        if self._brotli is not None:
            ended = bool(self._brotli.is_finished())
        elif self._zstd is not None:
            ended = self._zstd.ended
        else:
            ended = self._zlib is None and self._ended
        if not ended:
            raise RedactionError("bad_encoding", f"{self.coding} body is truncated")


class StreamDecoder:
    """Feed encoded chunks, iterate plain pieces; ``close`` checks the stream ended cleanly.

    Raises RedactionError (``unsupported_encoding``, naming a missing package) for a coding
    it cannot decode."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding.strip().lower()
        if not can_decode(encoding):
            raise unsupported(encoding)
        # The last coding applied is the first undone.
        self._chain = [_Decoder(coding) for coding in reversed(codings_of(encoding))]

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        yield from self._through(chunk, 0)

    def _through(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._chain):
            if data:
                yield data
            return
        for piece in self._chain[index].feed(data):
            yield from self._through(piece, index + 1)

    def close(self) -> None:
        """Raise when the encoded stream was cut short (a truncated body is never a complete one)."""
        for decoder in self._chain:
            decoder.close()


class _Encoder:
    """One coding, compressed with a flush after every chunk."""

    def __init__(self, coding: str) -> None:
        self._brotli: Any = brotli_module().Compressor() if coding == "br" else None
        self._zstd: Any = zstandard_module().ZstdCompressor().compressobj() if coding == "zstd" else None
        self._zlib: Any = None
        if coding in ("gzip", "x-gzip"):
            self._zlib = zlib.compressobj(6, zlib.DEFLATED, 31)
        elif coding == "deflate":
            self._zlib = zlib.compressobj(6)

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        if self._brotli is not None:
            return bytes(self._brotli.process(data) + self._brotli.flush())
        if self._zstd is not None:
            return bytes(self._zstd.compress(data) + self._zstd.flush(zstandard_module().COMPRESSOBJ_FLUSH_BLOCK))
        return bytes(self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH))

    def finish(self) -> bytes:
        if self._brotli is not None:
            return bytes(self._brotli.finish())
        if self._zstd is not None:
            return bytes(self._zstd.flush(zstandard_module().COMPRESSOBJ_FLUSH_FINISH))
        return bytes(self._zlib.flush())


class StreamEncoder:
    """Compress emitted bytes in the stream's own encoding, flushing after each chunk."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding.strip().lower()
        self._chain = [_Encoder(coding) for coding in codings_of(encoding)]

    def encode(self, data: bytes) -> bytes:
        for encoder in self._chain:
            data = encoder.encode(data)
        return data

    def finish(self) -> bytes:
        data = b""
        for encoder in self._chain:
            data = encoder.encode(data) + encoder.finish()
        return data
