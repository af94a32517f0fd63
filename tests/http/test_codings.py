"""Content codings (issue 16): zstd whole and streamed, lists of codings, and a missing package failing closed."""

from __future__ import annotations

import gzip
import logging
import sys
import zlib

import brotli
import pytest
import zstandard

from veil import compile_policy
from veil.errors import RedactionError
from veil.http import Options, redact_buffered
from veil.http.codings import can_decode, codings_of, decode_body, encode_body, is_plain
from veil.http.stream_codings import StreamDecoder, StreamEncoder, can_stream
from veil.rules.plan_types import Route

DOC = b'{"email": "jane@example.com", "n": 1}'
LIMIT = 1 << 20


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize(
    ("value", "codings"),
    [
        ("zstd", ["zstd"]),
        ("gzip, br", ["gzip", "br"]),
        (" GZIP ,identity, zstd ", ["gzip", "zstd"]),  # case, spaces, identity dropped
        ("identity", []),
        ("", []),
        ("gzip,,deflate", ["gzip", "deflate"]),
    ],
)
def test_a_content_encoding_value_is_the_list_of_its_codings_in_order(value: str, codings: list[str]) -> None:
    assert codings_of(value) == codings
    assert is_plain(value) == (codings == [])


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("zstd", zstd(DOC)),
        ("ZSTD", zstd(DOC)),
        ("zstd", zstd(DOC[:10]) + zstd(DOC[10:])),  # two frames: the second is decoded, not dropped
        ("zstd", b"".join(zstd(DOC[i : i + 1]) for i in range(len(DOC)))),  # a frame per byte, within one step
        ("gzip, zstd", zstd(gzip.compress(DOC))),  # gzip applied first, so undone last
        ("deflate, gzip", gzip.compress(zlib.compress(DOC))),
        ("identity, gzip", gzip.compress(DOC)),
        ("br, zstd", zstd(brotli.compress(DOC))),
    ],
)
def test_each_coding_of_the_list_is_undone_last_first(encoding: str, encoded: bytes) -> None:
    assert can_decode(encoding) and can_stream(encoding)
    assert decode_body(encoded, encoding, LIMIT) == DOC
    assert decode_body(encode_body(DOC, encoding), encoding, LIMIT) == DOC
    decoder = StreamDecoder(encoding)
    streamed = b"".join(piece for i in range(0, len(encoded), 3) for piece in decoder.feed(encoded[i : i + 3]))
    decoder.close()
    assert streamed == DOC


@pytest.mark.parametrize(
    ("encoding", "encoded", "reason"),
    [
        ("zstd", zstd(DOC)[:-3], "bad_encoding"),  # truncated: never a prefix
        ("zstd", b"not zstd at all", "bad_encoding"),
        ("zstd", gzip.compress(DOC), "bad_encoding"),  # a label that lies
        ("gzip, zstd", zstd(DOC), "bad_encoding"),  # the inner coding is missing
        ("zstd", zstd(b"a" * (LIMIT + 1)), "decompressed_too_large"),  # 33 bytes that expand past the limit
        ("zstd, gzip", gzip.compress(zstd(b"a" * (LIMIT + 1))), "decompressed_too_large"),
        ("compress", DOC, "unsupported_encoding"),
        ("gzip, compress", DOC, "unsupported_encoding"),
    ],
)
def test_a_body_that_does_not_decode_whole_is_an_error(encoding: str, encoded: bytes, reason: str) -> None:
    with pytest.raises(RedactionError) as caught:
        decode_body(encoded, encoding, LIMIT)
    assert caught.value.reason == reason


def test_a_zstd_frame_asking_for_a_window_over_8_mib_is_refused() -> None:
    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=24, write_content_size=False)
    big_window = zstandard.ZstdCompressor(compression_params=params).compressobj()
    encoded = big_window.compress(DOC) + big_window.flush()
    assert zstandard.ZstdDecompressor().decompressobj().decompress(encoded) == DOC  # valid zstd
    with pytest.raises(RedactionError) as caught:
        decode_body(encoded, "zstd", LIMIT)
    assert caught.value.reason == "bad_encoding"


def test_a_streamed_zstd_bomb_is_handed_on_in_bounded_pieces() -> None:
    encoded = zstd(b"a" * (64 << 20))  # 64 MiB from a few kilobytes
    pieces = [len(piece) for piece in StreamDecoder("zstd").feed(encoded)]
    assert sum(pieces) == 64 << 20
    assert max(pieces) <= 8 << 20, "one step expanded without a bound"


@pytest.mark.parametrize("encoding", ["zstd", "gzip, zstd", "br", "deflate, gzip"])
def test_a_streamed_encoding_decodes_after_every_chunk(encoding: str) -> None:
    """Each event must be readable as it arrives: the client's decoder gets every chunk's bytes at once."""
    encoder = StreamEncoder(encoding)
    decoder = StreamDecoder(encoding)
    for event in (b"data: one\n\n", b"data: two\n\n"):
        assert b"".join(decoder.feed(encoder.encode(event))) == event
    assert b"".join(decoder.feed(encoder.finish())) == b""
    decoder.close()


def test_a_streamed_zstd_body_cut_short_is_an_error() -> None:
    decoder = StreamDecoder("zstd")
    b"".join(decoder.feed(zstd(DOC)[:-3]))
    with pytest.raises(RedactionError) as caught:
        decoder.close()
    assert caught.value.reason == "bad_encoding"


def test_without_zstandard_a_zstd_body_fails_closed_and_the_log_names_the_package(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard now raises ImportError
    monkeypatch.setattr("veil.http.codings._WARNED", set())
    assert not can_decode("zstd") and not can_stream("gzip, zstd")
    assert can_decode("gzip")  # near-miss: other codings are unaffected
    plan = compile_policy({"version": 1, "rules": [{"id": "d", "scan": {"detectors": ["EMAIL"], "action": "redact"}}]})
    with caplog.at_level(logging.WARNING, logger="veil.http.codings"), pytest.raises(RedactionError) as caught:
        redact_buffered(plan, Route("response"), zstd(DOC), "application/json", "zstd", Options())
    assert caught.value.reason == "unsupported_encoding"
    with pytest.raises(RedactionError) as streamed:
        StreamDecoder("zstd")
    assert "zstandard" in str(streamed.value)
    named = [record.getMessage() for record in caplog.records if "zstandard" in record.getMessage()]
    assert named == [
        "veil: Content-Encoding zstd needs the zstandard package (pip install zstandard); such bodies are refused"
    ]
