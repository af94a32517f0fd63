"""Content codings of whole bodies: gzip, deflate, br (the ``brotli`` package) and zstd (``zstandard``).

A Content-Encoding value is a list of codings in the order they were applied (``gzip, br``;
repeated Content-Encoding header lines are that list too): a body is decoded last coding
first, each step with a hard limit on its decoded size (a decompression bomb is an error,
never a partial body), redacted, and re-encoded in the same codings. A coding veil does not
know, or one whose package is not installed, is an error that names what is missing: a body
veil cannot read is never forwarded as read. Incremental decoding of a stream lives in
:mod:`veil.http.stream_codings`.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from typing import Any

from veil.errors import RedactionError, coding_named

log = logging.getLogger(__name__)

PLAIN_ENCODINGS = frozenset({"", "identity"})
ZLIB_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})
PACKAGE_OF = {"br": "brotli", "zstd": "zstandard"}
"""Codings decoded by an optional package: without it their bodies fail closed (``unsupported_encoding``)."""
ZSTD_MAX_WINDOW = 8 * 1024 * 1024
"""RFC 9659: a zstd content coding's window is at most 8 MiB; a frame asking for more is refused
(it would make the decoder allocate up to the format's 3.75 TiB)."""
_SLICE = 64  # compressed bytes fed per call where a decoder has no output limit
_ZSTD_STEP = 256
"""Compressed bytes per zstd step: an RLE block of 4 bytes may expand to 128 KiB, so one step gives
at most 8 MiB. Smaller steps cost time on bodies that do not compress (a 4 MiB one decodes in
~55 ms at 256 bytes a step, ~170 ms at 64)."""
_WARNED: set[str] = set()  # codings whose missing package was named in the log


def codings_of(encoding: str) -> list[str]:
    """The codings of a Content-Encoding value, in the order they were applied, lower case,
    ``identity`` and empty entries dropped: ``"gzip, BR"`` -> ``["gzip", "br"]``."""
    return [c for c in (part.strip().lower() for part in encoding.split(",")) if c not in PLAIN_ENCODINGS]


def is_plain(encoding: str) -> bool:
    """Whether ``encoding`` (a Content-Encoding value) means the bytes are the body itself."""
    return not codings_of(encoding)


def can_decode(encoding: str) -> bool:
    """Whether a whole body in this Content-Encoding can be decoded and re-encoded."""
    return all(_available(coding) for coding in codings_of(encoding))


def _available(coding: str) -> bool:
    """Whether veil can decode ``coding``. The first time a coding's package is found missing, one
    warning names it (the log line of each refused body carries only its reason code)."""
    if coding in ZLIB_CODINGS:
        return True
    package = PACKAGE_OF.get(coding)
    if package is None:
        return False
    if (brotli_module() if coding == "br" else zstandard_module()) is not None:
        return True
    if coding not in _WARNED:
        _WARNED.add(coding)
        log.warning("veil: Content-Encoding %s needs the %s package (pip install %s); such bodies are refused",
                    coding, package, package)
    return False


def unsupported(encoding: str) -> RedactionError:
    """The error for a body veil cannot decode, naming the package that would decode it when one would."""
    for coding in codings_of(encoding):
        if _available(coding):
            continue
        package = PACKAGE_OF.get(coding)
        missing = f": the {package} package is not installed" if package else ""
        return RedactionError("unsupported_encoding", f"cannot decode Content-Encoding {coding_named(coding)}{missing}")
    return RedactionError("unsupported_encoding", f"cannot decode Content-Encoding {coding_named(encoding)}")



def decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` decoded from every coding of ``encoding`` (last applied first), each step's
    output at most ``limit`` bytes (a decompression bomb is an error). Raises RedactionError."""
    codings = codings_of(encoding)
    if not all(map(_available, codings)):
        raise unsupported(encoding)
    for coding in reversed(codings):
        body = _decode_one(body, coding, limit)
    return body


def encode_body(body: bytes, encoding: str) -> bytes:
    """``body`` in every coding of ``encoding``, in order (gzip, x-gzip, deflate, br, zstd)."""
    for coding in codings_of(encoding):
        body = _encode_one(body, coding)
    return body


def _decode_one(body: bytes, coding: str, limit: int) -> bytes:
    """One coding, decoded whole. Every member of a multi-member gzip body (every frame of a zstd
    one) is decoded, so a second one cannot slip through unread; a truncated stream is an error."""
    if coding == "br":
        return _decode_brotli(body, limit)
    if coding == "zstd":
        return _decode_zstd(body, limit)
    gzip = coding in ("gzip", "x-gzip")
    out = bytearray()
    data = body
    while True:
        decoder = zlib_decoder(data, gzip)
        try:
            out += decoder.decompress(data, limit + 1 - len(out))
        except zlib.error:
            raise RedactionError("bad_encoding", f"body is not valid {coding}") from None
        if len(out) > limit or decoder.unconsumed_tail:
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
        if not decoder.eof:
            raise RedactionError("bad_encoding", f"{coding} body is truncated")
        data = decoder.unused_data
        if not data.strip(b"\0"):  # some servers pad with zeros after the last member
            return bytes(out)
        if not gzip:
            raise RedactionError("bad_encoding", "data after the end of the deflate stream")


def _encode_one(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return bytes(brotli_module().compress(body))
    if coding == "zstd":
        return bytes(zstandard_module().ZstdCompressor().compress(body))
    if coding in ("gzip", "x-gzip"):
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        return compressor.compress(body) + compressor.flush()
    return zlib.compress(body, 6)


def zlib_decoder(data: bytes, gzip: bool) -> Any:
    """A zlib decompressor for gzip, or for deflate as it comes (zlib-wrapped or raw)."""
    if gzip:
        return zlib.decompressobj(31)
    # "deflate" should be zlib-wrapped, but some servers send raw deflate.
    wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
    return zlib.decompressobj(15 if wrapped else -15)


def brotli_module() -> Any:
    """The ``brotli`` module when installed (``veil[brotli]``), else None: br bodies then fail closed."""
    try:
        import brotli
    except ImportError:
        return None
    return brotli


def zstandard_module() -> Any:
    """The ``zstandard`` module when installed, else None: zstd bodies then fail closed."""
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard


class ZstdFrames:
    """Incremental zstd decoding in small steps, frame after frame (a body may hold several).

    ``decompressobj`` has no output limit: fed :data:`_ZSTD_STEP` bytes at a time, one call
    expands at most 64 blocks (128 KiB each). ``ended`` is whether the input so far ends at the end
    of a frame (else the body is truncated)."""

    def __init__(self) -> None:
        # One context for every frame (making one costs 15 us: a body of many tiny frames must not
        # cost a context each); its window bounded by ZSTD_MAX_WINDOW.
        self._context = zstandard_module().ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._frame: Any = None
        self.ended = False

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        error = zstandard_module().ZstdError
        position, rest = 0, b""  # rest: what a frame that ended left of its step (at most one step)
        while rest or position < len(chunk):
            if rest:
                step, rest = rest, b""
            else:  # slices by index: cutting the head off the chunk each step would copy it each time
                step, position = chunk[position : position + _ZSTD_STEP], position + _ZSTD_STEP
            if self._frame is None:
                self._frame, self.ended = self._context.decompressobj(), False
            try:
                piece = self._frame.decompress(step)
            except error:
                raise RedactionError("bad_encoding", "body is not valid zstd") from None
            if piece:
                yield piece
            if self._frame.eof:
                rest, self._frame, self.ended = self._frame.unused_data, None, True


def _decode_zstd(body: bytes, limit: int) -> bytes:
    frames = ZstdFrames()
    out = bytearray()
    for piece in frames.feed(body):
        out += piece
        if len(out) > limit:
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
    if not frames.ended:
        raise RedactionError("bad_encoding", "zstd body is truncated")
    return bytes(out)


def _decode_brotli(body: bytes, limit: int) -> bytes:
    brotli = brotli_module()
    decoder = brotli.Decompressor()
    out = bytearray()
    try:
        try:
            out += decoder.process(body, output_buffer_limit=limit + 1)
            bounded = True
        except TypeError:
            # Brotli < 1.2 (mitmproxy 11 pins 1.1) has no output limit: feed small slices so
            # one call can expand at most one meta-block (16 MiB) past the limit.
            bounded = False
            for start in range(0, len(body), _SLICE):
                out += decoder.process(body[start : start + _SLICE])
                if len(out) > limit:
                    break
        if len(out) > limit or (bounded and not decoder.can_accept_more_data()):
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
        if not decoder.is_finished():
            raise RedactionError("bad_encoding", "br body is truncated")
    except brotli.error:
        raise RedactionError("bad_encoding", "body is not valid br") from None
    return bytes(out)
