"""End to end through a real Envoy (the example config) with ``veil extproc --workers 2`` as its ext_proc
filter, a real upstream (uvicorn, in a thread) and real clients (httpx and curl) (issue 17).

One Envoy, one extproc supervisor and one upstream serve the whole module. What the upstream received
is read in process (never through veil again); what the client got is what crossed Envoy.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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

LIMIT = 8192
WORKERS = 2
"""``veil extproc --workers 2`` in the fixture: each worker reloads the policy file itself and Envoy spreads
requests over both, so a reload is waited for by its count (every worker's), not by one answer."""
POLICY = f"""\
version: 1
limits: {{max_body_bytes: {LIMIT}}}
rules:
  - id: credentials
    headers:
      - {{name: authorization, action: redact}}
    cookies:
      - {{name: "*", action: redact}}
    query:
      - {{name: access_token, action: redact}}
  - id: detectors
    scan:
      detectors: [EMAIL, CREDIT_CARD, US_SSN]
      action: redact
"""
# The reload test adds this rule; a header no rule names otherwise.
RELOADED = POLICY + """\
  - id: plan-header
    headers:
      - {name: x-plan, action: redact}
"""
JSON = (("content-type", "application/json"),)
ERROR = '{{"error":"veil_redaction_failed","reason":"{reason}","direction":"{direction}"}}'


@dataclass
class Gateway:
    base: str
    upstream: Upstream
    admin: str
    policy: Path
    directory: Path
    extproc_ports: list[int]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("envoy-e2e")
    policy = directory / "policy.yaml"
    policy.write_text(POLICY)
    with serve_upstream(free_port()) as upstream, run_extproc(policy, directory, workers=WORKERS) as (ports, admin):
        config = example_config(free_port(), int(upstream.base.rpartition(":")[2]), ports, LIMIT + 64 * 1024)
        with run_envoy(config, directory) as base:
            yield Gateway(base, upstream, admin, policy, directory, ports)


def client() -> httpx.Client:
    return httpx.Client(timeout=10, trust_env=False)


def curl(*args: str) -> bytes:
    done = subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, check=True, timeout=20)
    return done.stdout


# -- requests ---------------------------------------------------------------------------------------


def test_request_head_path_query_and_body_reach_the_upstream_redacted(gateway: Gateway) -> None:
    with client() as c:
        r = c.post(f"{gateway.base}/users/jane@example.com/orders?access_token=s3cr3t&page=2",
                   content=b'{"email": "jane@example.com", "card": "4111 1111 1111 1111", "n": 7}',
                   headers={"content-type": "application/json", "authorization": "Bearer abc.def",
                            "cookie": "session=s3ss10n; theme=dark", "x-contact": "jane@example.com",
                            "x-request-ref": "r-17"})
    assert r.status_code == 200
    got = gateway.upstream.last
    assert got.path == "/users/%5BREDACTED%3AEMAIL%5D/orders"
    assert got.query == "access_token=[REDACTED:SECRET]&page=2"
    assert got.header("authorization") == ["[REDACTED:SECRET]"]
    assert got.header("cookie") == ["session=[REDACTED:SECRET]; theme=[REDACTED:SECRET]"]
    assert got.header("x-contact") == ["[REDACTED:EMAIL]"]
    assert got.header("x-request-ref") == ["r-17"]  # near miss: no rule, no finding
    assert got.body == b'{"email": "[REDACTED:EMAIL]", "card": "[REDACTED:CREDIT_CARD]", "n": 7}'
    assert got.header("content-length") == [str(len(got.body))]


def test_curl_request_is_redacted_like_any_client(gateway: Gateway) -> None:
    curl("-X", "POST", f"{gateway.base}/v1/notes?q=jane%40example.com", "-H", "content-type: text/plain",
         "--data-binary", "SSN 123-45-6789, mail jane@example.com")
    got = gateway.upstream.last
    assert (got.query, got.body) == ("q=[REDACTED:EMAIL]", b"SSN [REDACTED:US_SSN], mail [REDACTED:EMAIL]")


def test_gzip_request_body_is_redacted_and_stays_gzip(gateway: Gateway) -> None:
    with client() as c:
        c.post(f"{gateway.base}/v1/items", content=gzip.compress(b'{"email": "jane@example.com"}'),
               headers={"content-type": "application/json", "content-encoding": "gzip"})
    got = gateway.upstream.last
    assert got.header("content-encoding") == ["gzip"]
    assert gzip.decompress(got.body) == b'{"email": "[REDACTED:EMAIL]"}'


def test_chunked_request_without_length_is_redacted_whole(gateway: Gateway) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "jane@exa'
        yield b'mple.com", "n": 1}'

    with client() as c:
        r = c.post(f"{gateway.base}/v1/items", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert gateway.upstream.last.body == b'{"email": "[REDACTED:EMAIL]", "n": 1}'


def test_ndjson_request_is_redacted_line_by_line(gateway: Gateway) -> None:
    with client() as c:
        c.post(f"{gateway.base}/v1/batch", content=b'{"email": "jane@example.com"}\n{"n": 2}\n',
               headers={"content-type": "application/x-ndjson"})
    assert gateway.upstream.last.body == b'{"email": "[REDACTED:EMAIL]"}\n{"n": 2}\n'


# -- responses --------------------------------------------------------------------------------------


def test_response_head_and_body_reach_the_client_redacted_and_framed(gateway: Gateway) -> None:
    gateway.upstream.answer(Reply((b'{"email": "jane@example.com", "n": 1}',), headers=(
        *JSON, ("set-cookie", "session=s3ss10n; Path=/; HttpOnly"), ("set-cookie", "theme=dark"),
        ("x-contact", "jane@example.com"), ("etag", '"abc"'))))
    with client() as c:
        r = c.get(f"{gateway.base}/v1/me")
    assert r.content == b'{"email": "[REDACTED:EMAIL]", "n": 1}'
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers.get_list("set-cookie") == ["session=[REDACTED:SECRET]; Path=/; HttpOnly", "theme=[REDACTED:SECRET]"]
    assert r.headers["x-contact"] == "[REDACTED:EMAIL]"
    assert "etag" not in r.headers  # a validator of the unredacted bytes


def test_untouched_response_keeps_its_bytes_and_length(gateway: Gateway) -> None:
    body = b'{ "status" : "ok",  "id": "A-17" }'
    gateway.upstream.answer(Reply((body,), headers=(*JSON, ("etag", '"v1"'))))
    with client() as c:
        r = c.get(f"{gateway.base}/v1/status")
    assert (r.content, r.headers["content-length"], r.headers["etag"]) == (body, str(len(body)), '"v1"')


def test_gzip_response_is_redacted_and_reencoded(gateway: Gateway) -> None:
    gateway.upstream.answer(Reply((gzip.compress(b'{"email": "jane@example.com"}'),),
                                  headers=(*JSON, ("content-encoding", "gzip"))))
    out = curl("--compressed", f"{gateway.base}/v1/me")
    assert out == b'{"email": "[REDACTED:EMAIL]"}'


def test_binary_response_passes_unread(gateway: Gateway) -> None:
    body = b"\x89PNG\r\n\x1a\n" + b"jane@example.com" + bytes(range(256))
    gateway.upstream.answer(Reply((body,), headers=(("content-type", "image/png"),)))
    with client() as c:
        assert c.get(f"{gateway.base}/logo.png").content == body


def test_sse_value_split_across_chunks_is_redacted_as_it_streams(gateway: Gateway) -> None:
    """An LLM-style reply whose e-mail starts in one delta and ends in the next: neither half crosses."""
    gateway.upstream.answer(Reply((
        b'data: {"choices": [{"index": 0, "delta": {"content": "write to ja"}}]}\n\n',
        b'data: {"choices": [{"index": 0, "delta": {"content": "ne@example.com today"}}]}\n\n',
        b"data: [DONE]\n\n"), headers=(("content-type", "text/event-stream"),)))
    with client() as c, c.stream("GET", f"{gateway.base}/v1/chat") as r:
        pieces = list(r.iter_raw())
    assert b"".join(pieces) == (
        b'data: {"choices":[{"index":0,"delta":{"content":"write to [REDACTED:EMAIL]"}}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{"content":" today"}}]}\n\n'
        b"data: [DONE]\n\n")
    assert "content-length" not in r.headers


def test_sse_with_curl_streams_redacted_events(gateway: Gateway) -> None:
    gateway.upstream.answer(Reply((b"id: jane@example.com\ndata: {\"n\": 1}\n\n", b": for jane@example.com\n\n"),
                                  headers=(("content-type", "text/event-stream"),)))
    out = curl("-N", f"{gateway.base}/v1/events")
    assert out == b'id: [REDACTED:EMAIL]\ndata: {"n": 1}\n\n: for [REDACTED:EMAIL]\n\n'


def test_ndjson_response_value_split_across_chunks(gateway: Gateway) -> None:
    gateway.upstream.answer(Reply((b'{"email": "jane@exa', b'mple.com"}\n{"n": 2}\n'),
                                  headers=(("content-type", "application/x-ndjson"),)))
    with client() as c:
        assert c.get(f"{gateway.base}/v1/export").content == b'{"email": "[REDACTED:EMAIL]"}\n{"n": 2}\n'


# -- fail closed and limits -------------------------------------------------------------------------


def test_refused_request_gets_veils_error_and_never_reaches_the_upstream(gateway: Gateway) -> None:
    before = len(gateway.upstream.received)
    with client() as c:
        r = c.post(f"{gateway.base}/v1/items", content=b'{"email": "jane@example.com"',
                   headers={"content-type": "application/json"})
    assert (r.status_code, r.text) == (400, ERROR.format(reason="invalid_json", direction="request"))
    assert r.headers["content-type"] == "application/json"
    assert len(gateway.upstream.received) == before


def test_refused_response_is_replaced_by_a_502(gateway: Gateway) -> None:
    gateway.upstream.answer(Reply((b'{"email": "jane@example.com", ',)))
    with client() as c:
        r = c.get(f"{gateway.base}/v1/me")
    assert (r.status_code, r.text) == (502, ERROR.format(reason="invalid_json", direction="response"))


def test_stream_failing_after_its_head_went_out_is_cut_not_completed(gateway: Gateway) -> None:
    """A later NDJSON line veil cannot read: the client gets what came before, then a reset, never the line."""
    gateway.upstream.answer(Reply((b'{"n": 1}\n', b'{"email": "jane@example.com", \n', b'{"n": 3}\n'),
                                  headers=(("content-type", "application/x-ndjson"),)))
    received = b""
    with client() as c, pytest.raises(httpx.HTTPError), c.stream("GET", f"{gateway.base}/v1/export") as r:
        assert r.status_code == 200  # the head was out before the failure
        for piece in r.iter_raw():
            received += piece
    assert received == b'{"n": 1}\n'


def _doc(size: int) -> bytes:
    return b'{"blob": "' + b"x" * (size - 12) + b'"}'


@pytest.mark.parametrize(("size", "chunked", "status"), [
    (LIMIT, False, 200),  # exactly at the limit: passes
    (LIMIT + 1, False, 413),  # one byte over, declared: refused at the headers
    (LIMIT, True, 200),  # at the limit, of unknown size
    (LIMIT + 1, True, 413),  # one over, unknown size: veil's refusal, not Envoy's
    (LIMIT + 200 * 1024, True, 413),  # over Envoy's own buffer too: still veil's error
])
def test_request_bodies_near_and_over_the_limit(gateway: Gateway, size: int, chunked: bool, status: int) -> None:
    body = _doc(size)
    content: bytes | Iterator[bytes] = iter([body[:1000], body[1000:]]) if chunked else body
    with client() as c:
        r = c.post(f"{gateway.base}/v1/upload", content=content, headers={"content-type": "application/json"})
    assert r.status_code == status
    if status == 200:
        assert gateway.upstream.last.body == body
    else:
        assert r.text == ERROR.format(reason="body_too_large", direction="request")


@pytest.mark.parametrize(("size", "chunks", "status"), [
    (LIMIT, 1, 200),
    (LIMIT + 1, 1, 502),
    (LIMIT, 2, 200),  # two chunks: no Content-Length
    (LIMIT + 1, 2, 502),
])
def test_response_bodies_near_and_over_the_limit(gateway: Gateway, size: int, chunks: int, status: int) -> None:
    body = _doc(size)
    gateway.upstream.answer(Reply((body,) if chunks == 1 else (body[:1000], body[1000:]), pause=0.01))
    with client() as c:
        r = c.get(f"{gateway.base}/v1/export")
    assert r.status_code == status
    assert r.content == (body if status == 200 else ERROR.format(reason="body_too_large",
                                                                  direction="response").encode())


def test_envoy_answers_500_when_veil_is_down(gateway: Gateway) -> None:
    """``failure_mode_allow: false``: with no processor listening, nothing crosses."""
    before = len(gateway.upstream.received)
    config = example_config(free_port(), int(gateway.upstream.base.rpartition(":")[2]), [free_port()], LIMIT)
    directory = gateway.directory / "down"
    directory.mkdir()
    with run_envoy(config, directory) as base, client() as c:
        r = c.post(f"{base}/v1/items", json={"email": "jane@example.com"})
    assert r.status_code == 500
    assert b"jane" not in r.content
    assert len(gateway.upstream.received) == before


def test_full_duplex_mode_veil_does_not_speak_fails_closed(gateway: Gateway) -> None:
    """A gateway set to FULL_DUPLEX_STREAMED without mode overrides: Envoy rejects veil's answers (500, a cut
    stream); nothing crosses unredacted."""
    config = example_config(free_port(), int(gateway.upstream.base.rpartition(":")[2]), gateway.extproc_ports, LIMIT)
    typed = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    ext_proc = typed["http_filters"][0]["typed_config"]
    ext_proc["allow_mode_override"] = False
    ext_proc["processing_mode"].update(request_body_mode="FULL_DUPLEX_STREAMED",
                                       response_body_mode="FULL_DUPLEX_STREAMED")
    directory = gateway.directory / "full-duplex"
    directory.mkdir()
    with run_envoy(config, directory) as base, client() as c:
        before = len(gateway.upstream.received)  # after Envoy's readiness probe, a GET without body that crossed
        r = c.post(f"{base}/v1/items", json={"email": "jane@example.com"})
        assert r.status_code == 500 and len(gateway.upstream.received) == before
        gateway.upstream.answer(Reply((b'{"email": "jane@example.com"}',)))
        # Envoy answers 500, or, when the response head already left, cuts the stream: both closed.
        received, status = bytearray(), 0
        try:
            with c.stream("GET", f"{base}/v1/me") as r:
                status = r.status_code
                for chunk in r.iter_bytes():
                    received += chunk
            assert status == 500
        except httpx.RemoteProtocolError:
            pass  # cut: whatever arrived before the cut is checked below
        assert b"jane" not in received


# -- operations -------------------------------------------------------------------------------------


def test_metrics_count_bodies_with_the_shared_names(gateway: Gateway) -> None:
    with client() as c:
        c.post(f"{gateway.base}/v1/items", json={"email": "jane@example.com"})
        text = c.get(f"{gateway.admin}/metrics").text
        assert c.get(f"{gateway.admin}/healthz").status_code == 200
    rewritten = re.search(r'veil_bodies_total\{adapter="extproc",direction="request",outcome="rewritten"\} (\S+)', text)
    assert rewritten is not None and float(rewritten.group(1)) >= 1
    assert 'veil_findings_total{action="redact",adapter="extproc"' in text or \
        re.search(r'veil_findings_total\{[^}]*adapter="extproc"', text)


def test_policy_file_is_reloaded_while_serving(gateway: Gateway) -> None:
    def plan_headers() -> set[str]:
        seen = set()
        with client() as c:
            for _ in range(6):  # both workers answer some
                c.get(f"{gateway.base}/v1/me", headers={"x-plan": "gold"})
                seen.add(gateway.upstream.last.header("x-plan")[0])
        return seen

    assert plan_headers() == {"gold"}
    before = _reloads(gateway, "ok")
    gateway.policy.write_text(RELOADED)
    try:
        _wait_for(lambda: _reloads(gateway, "ok") >= before + WORKERS)
        assert plan_headers() == {"[REDACTED:SECRET]"}
    finally:
        gateway.policy.write_text(POLICY)
        _wait_for(lambda: _reloads(gateway, "ok") >= before + 2 * WORKERS)
    assert plan_headers() == {"gold"}


def test_invalid_policy_edit_keeps_the_serving_plan(gateway: Gateway) -> None:
    errors, ok = _reloads(gateway, "error"), _reloads(gateway, "ok")
    gateway.policy.write_text(POLICY.replace("detectors: [EMAIL", "detectors: [NO_SUCH_DETECTOR, EMAIL"))
    try:
        _wait_for(lambda: _reloads(gateway, "error") >= errors + WORKERS)  # every worker tried, and kept its plan
        with client() as c:
            for _ in range(4):
                c.post(f"{gateway.base}/v1/items", json={"email": "jane@example.com"})
                assert gateway.upstream.last.body == b'{"email":"[REDACTED:EMAIL]"}'
    finally:
        gateway.policy.write_text(POLICY)
        _wait_for(lambda: _reloads(gateway, "ok") >= ok + WORKERS)  # back to the file as the fixture wrote it


def _reloads(gateway: Gateway, outcome: str) -> float:
    """``veil_policy_reloads_total{outcome}``, added up over the workers."""
    with client() as c:
        text = c.get(f"{gateway.admin}/metrics").text
    found = re.search(rf'veil_policy_reloads_total\{{outcome="{outcome}"\}} (\S+)', text)
    return float(found.group(1)) if found else 0.0


def _wait_for(condition: object, timeout: float = 8.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the policy was not reloaded in time"
        time.sleep(0.2)
