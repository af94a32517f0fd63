"""Content codings of whole bodies: gzip, deflate and (with ``veil[brotli]``) br.

A body is decoded with a hard limit on its decoded size (a decompression bomb is
an error, never a partial body), redacted, and re-encoded in its own coding. An
unknown coding is an error: a body veil cannot read is never forwarded as read.
Incremental decoding of a stream lives in :mod:`veil.http.stream_codings`.
"""

from __future__ import annotations

import zlib
from typing import Any

from veil.errors import RedactionError

PLAIN_ENCODINGS = frozenset({"", "identity"})


def is_plain(encoding: str) -> bool:
    """Whether ``encoding`` (a Content-Encoding value) means the bytes are the body itself."""
    return encoding.strip().lower() in PLAIN_ENCODINGS


def can_decode(encoding: str) -> bool:
    """Whether a whole body in this Content-Encoding can be decoded and re-encoded."""
    encoding = encoding.strip().lower()
    return encoding in ("", "identity", "gzip", "x-gzip", "deflate") or (encoding == "br" and brotli_module() is not None)


def decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """gzip/deflate/br decoding with a hard output limit (a decompression bomb is an error).

    Every member of a multi-member gzip body is decoded (a second member must not
    slip through unread), and a truncated stream is an error, never a prefix.
    """
    if encoding == "br":
        return _decode_brotli(body, limit)
    gzip = encoding in ("gzip", "x-gzip")
    out = bytearray()
    data = body
    while True:
        decoder = zlib_decoder(data, gzip)
        try:
            out += decoder.decompress(data, limit + 1 - len(out))
        except zlib.error:
            raise RedactionError("bad_encoding", f"body is not valid {encoding}") from None
        if len(out) > limit or decoder.unconsumed_tail:
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
        if not decoder.eof:
            raise RedactionError("bad_encoding", f"{encoding} body is truncated")
        data = decoder.unused_data
        if not data.strip(b"\0"):  # some servers pad with zeros after the last member
            return bytes(out)
        if not gzip:
            raise RedactionError("bad_encoding", "data after the end of the deflate stream")


def encode_body(body: bytes, encoding: str) -> bytes:
    """``body`` in ``encoding`` (gzip, x-gzip, deflate or br)."""
    if encoding == "br":
        return bytes(brotli_module().compress(body))
    if encoding in ("gzip", "x-gzip"):
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
            for start in range(0, len(body), 64):
                out += decoder.process(body[start : start + 64])
                if len(out) > limit:
                    break
        if len(out) > limit or (bounded and not decoder.can_accept_more_data()):
            raise RedactionError("decompressed_too_large", f"decoded body is over the limit of {limit} bytes")
        if not decoder.is_finished():
            raise RedactionError("bad_encoding", "br body is truncated")
    except brotli.error:
        raise RedactionError("bad_encoding", "body is not valid br") from None
    return bytes(out)
