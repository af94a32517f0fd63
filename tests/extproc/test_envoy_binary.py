"""Bodies labelled binary through a real Envoy whose buffer limit sits far below veil's body limit, as in a
gateway veil did not configure (Envoy's default per-connection buffer is 1 MiB; here 64 KiB, so the test
stays fast): a large image crosses byte for byte both ways, and a JSON document under an image label is
redacted when Envoy's buffer holds it whole, refused with veil's JSON error (never Envoy's 413/500)
when it does not (issue 17, and issue 15's "bodies by declared type only").

One Envoy, one ``veil extproc`` and one upstream serve the module.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.extproc.gateway import (
    example_config,
    has_envoy_extra,
    run_envoy,
    run_extproc,
)
from tests.extproc.upstream import Reply, Upstream, serve_upstream
from tests.servers import free_port

pytestmark = pytest.mark.skipif(not has_envoy_extra(), reason="needs veil[envoy]")

ENVOY_BUFFER = 64 * 1024
VEIL_LIMIT = 4 * 1024 * 1024
"""Far above Envoy's buffer: a body under veil's limit may still not fit in Envoy's."""
POLICY = f"""\
version: 1
limits: {{max_body_bytes: {VEIL_LIMIT}}}
rules:
  - id: detectors
    scan:
      detectors: [EMAIL]
      action: redact
"""
PNG = b"\x89PNG\r\n\x1a\n" + random.Random(17).randbytes(1024 * 1024) + b"jane@example.com"
"""A 1 MiB PNG-headed body (its tail holds an e-mail address: binary passes unread)."""
ERROR = '{{"error":"veil_redaction_failed","reason":"body_too_large","direction":"{direction}"}}'


def document(size: int) -> bytes:
    """A JSON document of ``size`` bytes holding an e-mail address (shorter than its replacement)."""
    head = b'{"email": "j@example.com", "blob": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


SMALL_DOC = document(4 * 1024)
LARGE_DOC = document(4 * ENVOY_BUFFER)  # within veil's limit, over Envoy's buffer


@dataclass
class Gateway:
    base: str
    upstream: Upstream


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("envoy-binary")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    with serve_upstream(free_port()) as upstream, run_extproc(policy, directory) as (ports, _):
        config = example_config(free_port(), int(upstream.base.rpartition(":")[2]), ports, ENVOY_BUFFER)
        with run_envoy(config, directory) as base:
            yield Gateway(base, upstream)


def client() -> httpx.Client:
    return httpx.Client(timeout=20, trust_env=False)


def pieces(body: bytes, chunked: bool) -> bytes | Iterator[bytes]:
    """The body as one declared block, or in 16 KiB pieces without a Content-Length."""
    return iter([body[n:n + 16384] for n in range(0, len(body), 16384)]) if chunked else body


def reply(body: bytes, chunked: bool) -> Reply:
    chunks = tuple(pieces(body, True)) if chunked else (body,)
    return Reply(chunks, headers=(("content-type", "image/png"),), pause=0.0)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_large_image_upload_crosses_byte_for_byte(gateway: Gateway, chunked: bool) -> None:
    with client() as c:
        r = c.put(f"{gateway.base}/v1/photos/1", content=pieces(PNG, chunked), headers={"content-type": "image/png"})
    assert r.status_code == 200, r.text
    assert gateway.upstream.last.body == PNG


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_large_image_download_crosses_byte_for_byte(gateway: Gateway, chunked: bool) -> None:
    gateway.upstream.answer(reply(PNG, chunked))
    with client() as c:
        r = c.get(f"{gateway.base}/v1/photos/1")
    assert (r.status_code, r.headers["content-type"]) == (200, "image/png")
    assert r.content == PNG


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_json_labelled_image_within_envoys_buffer_is_redacted_both_ways(gateway: Gateway, chunked: bool) -> None:
    redacted = SMALL_DOC.replace(b"j@example.com", b"[REDACTED:EMAIL]")
    gateway.upstream.answer(reply(SMALL_DOC, chunked))
    with client() as c:
        r = c.post(f"{gateway.base}/v1/photos", content=pieces(SMALL_DOC, chunked),
                   headers={"content-type": "image/png"})
        got = gateway.upstream.last
        # The next exchange on the same connections: a body framed by a stale length would leave bytes behind.
        after = c.post(f"{gateway.base}/v1/items", content=b'{"n": 1}', headers={"content-type": "application/json"})
    assert got.body == redacted and got.header("content-length") in ([], [str(len(redacted))])
    assert (r.status_code, r.content) == (200, redacted)
    assert r.headers.get("content-length", str(len(redacted))) == str(len(redacted))  # never the old length
    assert (after.status_code, gateway.upstream.last.body) == (200, b'{"n": 1}')


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_json_labelled_image_over_envoys_buffer_is_refused_with_veils_error(gateway: Gateway, chunked: bool) -> None:
    """It might be a document veil cannot read whole: refused (413 for a request, 502 for a response)."""
    before = len(gateway.upstream.received)
    with client() as c:
        r = c.post(f"{gateway.base}/v1/photos", content=pieces(LARGE_DOC, chunked),
                   headers={"content-type": "image/png"})
        assert (r.status_code, r.text) == (413, ERROR.format(direction="request"))
        assert len(gateway.upstream.received) == before
        gateway.upstream.answer(reply(LARGE_DOC, chunked))
        r = c.get(f"{gateway.base}/v1/photos/2")
    assert (r.status_code, r.text) == (502, ERROR.format(direction="response"))
    assert r.headers["content-type"] == "application/json"
