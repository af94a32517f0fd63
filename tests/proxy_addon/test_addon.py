"""The mitmproxy addon, driven hook by hook with mitmproxy's test helpers (taddons, tflow)."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mitmproxy import exceptions, http
from mitmproxy.addons.proxyserver import Proxyserver

import veil
from tests.middleware.cases import CASES, Case, expected
from tests.proxy_addon.flows import KEY_ENV, KEY_HEX, RESTORE_POLICY, addon_context, make_flow, send_request, send_response
from tests.servers import free_port
from veil.http import SniffedStream
from veil.proxy_addon import PolicyReloader, VeilAddon, make_addons



@pytest.fixture
def addon() -> Iterator[VeilAddon]:
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon)
        yield addon


@pytest.fixture
def egress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VeilAddon]:
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    policy = tmp_path / "egress.yaml"
    policy.write_text(RESTORE_POLICY)
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_policy=str(policy))
        yield addon


def default_plan() -> veil.Plan:
    return veil.default_plan()


# -- the shared case table: the same bytes as the plan and the in-app middleware ---------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_request_body_arrives_upstream_as_the_plan_makes_it(addon: VeilAddon, case: Case) -> None:
    flow = make_flow(case.body, case.content_type, encoding=case.encoding, headers=case.headers)
    send_request(addon, flow)
    assert flow.response is None
    assert flow.request.raw_content == expected(default_plan(), case, "request")
    for value in case.must_vanish:
        assert value not in (flow.request.raw_content or b"")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_response_body_reaches_the_client_as_the_plan_makes_it(addon: VeilAddon, case: Case) -> None:
    flow = make_flow(method="GET", path="/echo")
    send_request(addon, flow)
    out = send_response(addon, flow, case.body, case.content_type, encoding=case.encoding)
    assert flow.response is not None and flow.response.status_code == 200
    assert out == expected(default_plan(), case, "response", method="GET")


def test_headers_cookies_and_query_are_rewritten_before_the_upstream_sees_them(addon: VeilAddon) -> None:
    flow = make_flow(b"{}", "application/json", path="/echo?page=2&access_token=s3cr3t",
                     headers=[("Authorization", "Bearer abc.def.ghi"), ("Cookie", "session=abc123; theme=dark"),
                              ("X-Request-Id", "r-1")])
    send_request(addon, flow)
    request = flow.request
    assert "s3cr3t" not in request.path and "page=2" in request.path
    assert request.headers["authorization"] == "[REDACTED:SECRET]"
    assert "abc123" not in request.headers["cookie"]
    assert request.headers["x-request-id"] == "r-1"


def test_response_headers_are_rewritten_and_validators_of_the_old_bytes_dropped(addon: VeilAddon) -> None:
    flow = make_flow(method="GET")
    send_request(addon, flow)
    send_response(addon, flow, b'{"email": "jane@example.com"}', "application/json",
                  headers=[("Set-Cookie", "session=abc123; Path=/"), ("ETag", '"v1"')])
    assert flow.response is not None
    assert "abc123" not in flow.response.headers["set-cookie"]
    assert "etag" not in flow.response.headers
    assert flow.response.headers["content-length"] == str(len(flow.response.raw_content or b""))


def test_headers_another_addon_changes_between_two_hooks_are_read_again(addon: VeilAddon) -> None:
    # Each direction's second hook reuses the headers its first hook decoded, while mitmproxy
    # still holds the same field tuple: a change by another addon in between must be seen.
    flow = make_flow(b'{"first_name": "Olivia"}', "text/plain")  # as text, nothing in it is found
    addon.requestheaders(flow)
    flow.request.headers["content-type"] = "application/json"  # another addon, between the hooks
    addon.request(flow)
    assert b"Olivia" not in (flow.request.raw_content or b"")  # redacted as JSON, by its key

    flow = make_flow(method="GET")
    send_request(addon, flow)
    flow.response = http.Response.make(200, b"", [(b"content-type", b"application/json")])
    flow.response.data.content = None
    addon.responseheaders(flow)
    flow.response.headers["x-debug-user"] = "jane@example.com"  # added after veil saw the headers
    flow.response.raw_content = b'{"ok": true}'
    addon.response(flow)
    assert flow.response.headers["x-debug-user"] == "[REDACTED:EMAIL]"
    assert flow.response.raw_content == b'{"ok": true}'


# -- fail closed --------------------------------------------------------------------------------


def test_invalid_json_request_is_answered_400_and_never_forwarded(addon: VeilAddon) -> None:
    flow = make_flow(b'{"email": "jane@example.com"', "application/json")
    send_request(addon, flow)
    assert flow.response is not None and flow.response.status_code == 400
    assert json.loads(flow.response.content or b"") == {
        "error": "veil_redaction_failed", "reason": "invalid_json", "direction": "request"}


def test_invalid_json_response_is_replaced_by_a_502(addon: VeilAddon) -> None:
    flow = make_flow(method="GET")
    send_request(addon, flow)
    out = send_response(addon, flow, b'{"email": "jane@example.com"', "application/json")
    assert flow.response is not None and flow.response.status_code == 502
    assert b"jane@example.com" not in out and json.loads(out)["reason"] == "invalid_json"


def test_passthrough_forwards_what_cannot_be_processed(addon: VeilAddon) -> None:
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_on_error="passthrough")
        flow = make_flow(b'{"broken', "application/json")
        send_request(addon, flow)
        assert flow.response is None and flow.request.raw_content == b'{"broken'


def test_a_request_over_the_body_limit_is_refused_before_its_body_is_read(addon: VeilAddon) -> None:
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_max_body_bytes=10)
        flow = make_flow(b'{"note": "more than ten bytes"}', "application/json")
        addon.requestheaders(flow)
        assert flow.response is not None and flow.response.status_code == 413


def test_a_gzip_bomb_response_is_refused(addon: VeilAddon) -> None:
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_max_decompressed_bytes=1000)
        flow = make_flow(method="GET")
        send_request(addon, flow)
        send_response(addon, flow, gzip.compress(b" " * 100_000), "application/json", encoding="gzip")
        assert flow.response is not None and flow.response.status_code == 502


def test_a_crash_inside_veil_blocks_the_flow_instead_of_forwarding_it(
    addon: VeilAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    flow = make_flow(b'{"email": "jane@example.com"}', "application/json")
    monkeypatch.setattr(veil.Plan, "redact_body", boom)
    send_request(addon, flow)
    assert flow.response is not None and flow.response.status_code == 400
    assert b"jane@example.com" not in (flow.response.content or b"")


def test_a_response_refused_at_its_headers_never_carries_the_upstream_body(
    addon: VeilAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = make_flow(method="GET")
    send_request(addon, flow)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(veil.Plan, "redact_headers", boom)
    out = send_response(addon, flow, b"data: jane@example.com\n\n", "text/event-stream")
    assert flow.response is not None and flow.response.status_code == 502
    assert b"jane@example.com" not in out


def test_an_addon_without_a_plan_answers_503_rather_than_forwarding() -> None:
    addon = VeilAddon()  # loaded but never configured, as when a -s script's configure failed
    flow = make_flow(b'{"email": "jane@example.com"}', "application/json")
    with addon_context(addon):
        addon.requestheaders(flow)
    assert flow.response is not None and flow.response.status_code == 503


# -- options --------------------------------------------------------------------------------------


def test_an_invalid_policy_is_an_options_error_naming_file_and_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - fields:\n      - path: '$..['\n        action: redact\n")
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match=r"policy\.yaml:4:\d+: rules\[0\]\.fields\[0\]\.path"):
            tctx.configure(addon, veil_policy=str(policy))


def test_stream_large_bodies_is_refused_because_it_would_forward_bodies_unread() -> None:
    addon = VeilAddon()
    with addon_context(Proxyserver(), addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="stream_large_bodies"):
            tctx.configure(addon, stream_large_bodies="1m")


# -- streaming ------------------------------------------------------------------------------------


def test_sse_is_rewritten_event_by_event_across_arbitrary_chunks(addon: VeilAddon) -> None:
    body = b'event: msg\ndata: {"email": "jane@example.com"}\n\ndata: call +44 20 7946 0958\n\n'
    flow = make_flow(method="GET", path="/events")
    send_request(addon, flow)
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    out = send_response(addon, flow, body, "text/event-stream", chunks=chunks)
    assert callable(flow.response.stream) if flow.response else False
    assert b"jane@example.com" not in out and b"7946 0958" not in out
    assert out.count(b"\n\n") == 2 and b"event: msg\n" in out
    assert "content-length" not in (flow.response.headers if flow.response else {})


def test_gzip_ndjson_streams_and_stays_gzip(addon: VeilAddon) -> None:
    body = b'{"email": "jane@example.com"}\n{"n": 1}\n'
    encoded = gzip.compress(body)
    flow = make_flow(method="GET", path="/export")
    send_request(addon, flow)
    out = send_response(addon, flow, encoded, "application/x-ndjson", encoding="gzip",
                        chunks=[encoded[:10], encoded[10:]])
    plain = gzip.decompress(out)
    assert b"jane@example.com" not in plain and plain.endswith(b'{"n": 1}\n')


def test_a_stream_that_fails_stops_says_why_and_is_aborted(tmp_path: Path) -> None:
    # A streamed line is bounded by the policy's max_body_bytes; the second event is longer.
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nlimits: {max_body_bytes: 64}\nrules:\n  - scan: true\n")
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_policy=str(policy))
        flow = make_flow(method="GET", path="/events")
        send_request(addon, flow)
        body = b"data: ok\n\ndata: " + b"jane@example.com " * 20 + b"\n\ndata: after\n\n"
        out = send_response(addon, flow, body, "text/event-stream", chunks=[body[:12], body[12:]])
    assert out.startswith(b"data: ok\n\n")
    assert b"jane@example.com" not in out and b"after" not in out
    assert b"event: veil_error" in out and b"line_too_long" in out
    assert flow.error is not None  # killed: the client sees an aborted stream, not a complete one


def test_passthrough_stream_hands_over_the_unprocessed_rest_unchanged(addon: VeilAddon) -> None:
    body = b'{"email": "a@example.com"}\n{"email": bad\n{"x": 1}\n'
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_on_error="passthrough")
        flow = make_flow(method="GET", path="/feed")
        send_request(addon, flow)
        out = send_response(addon, flow, body, "application/x-ndjson", chunks=[body[:20], body[20:35], body[35:]])
    assert out == b'{"email": "[REDACTED:EMAIL]"}\n{"email": bad\n{"x": 1}\n'


def test_binary_responses_stream_through_unread(addon: VeilAddon) -> None:
    flow = make_flow(method="GET", path="/file")
    send_request(addon, flow)
    body = b"\x00jane@example.com"  # a binary label is sniffed too (issue #15): its first byte says binary
    out = send_response(addon, flow, body, "image/png", headers=[("transfer-encoding", "chunked")],
                        chunks=[body[:5], body[5:]])
    assert flow.response is not None and isinstance(flow.response.stream, SniffedStream)
    assert flow.response.stream.mode == "pass"
    assert out == body


# -- round trip -----------------------------------------------------------------------------------


def test_tokens_sent_to_a_vendor_are_restored_in_its_reply(egress: VeilAddon) -> None:
    flow = make_flow(b'{"prompt": "write to jane@example.com"}', "application/json", path="/v1/chat")
    send_request(egress, flow)
    sent = flow.request.raw_content or b""
    assert b"jane@example.com" not in sent and b"tok_EMAIL_k1_" in sent
    prompt = json.loads(sent)["prompt"]
    reply = json.dumps({"answer": f'Sure, I wrote to {prompt.split()[-1]} "now"'}).encode()
    out = send_response(egress, flow, reply, "application/json")
    assert json.loads(out) == {"answer": 'Sure, I wrote to jane@example.com "now"'}


def test_a_token_split_across_sse_events_is_restored(egress: VeilAddon) -> None:
    flow = make_flow(b'{"prompt": "mail jane@example.com"}', "application/json", path="/v1/chat")
    send_request(egress, flow)
    token = json.loads(flow.request.raw_content or b"")["prompt"].split()[-1]
    text = f"Mailing {token} now."
    events = b"".join(
        b"data: " + json.dumps({"choices": [{"delta": {"content": text[i : i + 4]}}]}).encode() + b"\n\n"
        for i in range(0, len(text), 4)
    ) + b"data: [DONE]\n\n"
    out = send_response(egress, flow, events, "text/event-stream", chunks=[events[i : i + 50] for i in range(0, len(events), 50)])
    deltas = [json.loads(line[6:])["choices"][0]["delta"]["content"]
              for line in out.split(b"\n") if line.startswith(b"data: {")]
    assert "".join(deltas) == "Mailing jane@example.com now."
    assert b"tok_" not in out and out.endswith(b"data: [DONE]\n\n")


def _token_for(egress: VeilAddon, email: str) -> str:
    """The token the egress plan makes for ``email`` in a prompt (another exchange's)."""
    flow = make_flow(json.dumps({"prompt": f"to {email}"}).encode(), "application/json", path="/v1/chat")
    send_request(egress, flow)
    return str(json.loads(flow.request.raw_content or b"")["prompt"].split()[-1])


@pytest.mark.parametrize(
    "prompt",
    [
        "hello",  # nothing tokenized in this exchange
        "you know {other}",  # the client wrote the token itself: veil did not make it
        "write to jane@example.com",  # this exchange made another token
    ],
)
def test_a_reply_restores_only_tokens_made_in_its_own_request(egress: VeilAddon, prompt: str) -> None:
    """Anyone can send a token seen elsewhere (a log, another user's reply) or have the vendor echo
    one: restoring it would hand them its value."""
    other = _token_for(egress, "someone.else@example.org")
    flow = make_flow(json.dumps({"prompt": prompt.format(other=other)}).encode(), "application/json",
                     path="/v1/chat")
    send_request(egress, flow)
    out = send_response(egress, flow, json.dumps({"answer": f"see {other}"}).encode(), "application/json")
    assert json.loads(out) == {"answer": f"see {other}"}


def test_a_token_made_from_the_request_head_is_restored(egress: VeilAddon) -> None:
    token = _token_for(egress, "jane@example.com")
    flow = make_flow(b"{}", "application/json", path="/v1/chat?to=jane%40example.com")
    send_request(egress, flow)
    assert "jane" not in flow.request.path
    out = send_response(egress, flow, json.dumps({"answer": f"see {token}"}).encode(), "application/json")
    assert json.loads(out) == {"answer": "see jane@example.com"}


def test_replies_are_not_restored_when_no_rule_asks(addon: VeilAddon) -> None:
    flow = make_flow(b"{}", "application/json")
    send_request(addon, flow)
    out = send_response(addon, flow, b'{"a": "tok_EMAIL_k1_abc"}', "application/json")
    assert out == b'{"a": "tok_EMAIL_k1_abc"}'


# -- hot reload -----------------------------------------------------------------------------------


def test_hot_reload_swaps_valid_edits_keeps_the_plan_on_invalid_ones_and_counts_both(
    tmp_path: Path
) -> None:
    """The three addons together: the watcher swaps the redaction addon's plan, the admin counts it."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - fields: [{path: $.a, action: redact}]\n")
    addon, admin_addon, reloader = make_addons()
    assert isinstance(addon, VeilAddon) and isinstance(reloader, PolicyReloader)
    port = free_port()
    with addon_context(addon, admin_addon, reloader) as tctx:
        tctx.configure(addon, veil_policy=str(policy), veil_metrics_port=port)
        admin = f"http://127.0.0.1:{port}"
        assert httpx.get(admin + "/readyz").status_code == 503  # not serving yet

        async def scenario() -> None:
            addon.running()
            reloader.running()
            assert reloader.watcher is not None
            first = addon.plan
            in_flight = make_flow(method="GET")
            send_request(addon, in_flight)

            policy.write_text("version: 1\nrules:\n  - fields: [{path: $.b, action: redact}]\n")
            await reloader.watcher.check()
            assert addon.plan is not first
            # The flow that started before the reload finishes on the plan it started with.
            out = send_response(addon, in_flight, b'{"a": 1, "b": 2}', "application/json")
            assert json.loads(out) == {"a": "[REDACTED:FIELD]", "b": 2}

            second = addon.plan
            policy.write_text("version: 1\nrules:\n  - fields: [{path: '$..[', action: redact}]\n  # longer\n")
            await reloader.watcher.check()
            assert addon.plan is second
            assert (await asyncio.to_thread(httpx.get, admin + "/readyz")).status_code == 200
            metrics = (await asyncio.to_thread(httpx.get, admin + "/metrics")).text
            assert 'veil_policy_reloads_total{outcome="ok"} 1.0' in metrics
            assert 'veil_policy_reloads_total{outcome="error"} 1.0' in metrics
            assert 'veil_bodies_total{adapter="proxy",direction="response",outcome="rewritten"} 1.0' in metrics
            for each in (addon, admin_addon, reloader):
                each.done()  # type: ignore[attr-defined]
            assert reloader.watcher is None and admin_addon.server is None

        asyncio.run(scenario())


def test_each_addon_declares_only_its_own_options() -> None:
    """Split the mitmproxy way: the redaction addon alone runs without the admin's options, and
    the admin's options exist only when the admin addon is loaded."""
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon)
        assert hasattr(tctx.options, "veil_policy") and not hasattr(tctx.options, "veil_metrics_port")
    redaction, admin_addon, reloader = make_addons()
    with addon_context(redaction, admin_addon, reloader) as tctx:
        assert tctx.options.veil_metrics_port == 0 and tctx.options.veil_websocket_binary == "drop"


@pytest.mark.parametrize(
    "host_header", [None, "api.example.com", "API.example.com:8443", "[::1]:8080", "10.0.0.1", "bad host:x", "exämple.com"]
)
def test_the_route_host_is_mitmproxys_pretty_host(host_header: str | None) -> None:
    from mitmproxy.test import tutils

    from veil.http import str_headers
    from veil.proxy_addon.addon import _pretty_host

    request = tutils.treq(host="upstream.internal", port=8000)
    request.headers.pop("host", None)
    if host_header is not None:
        request.headers["host"] = host_header
    for headers in ([("Host", host_header)] if host_header is not None else [], str_headers(request.headers.fields)):
        for _ in range(2):  # the second answer comes from the memo
            assert _pretty_host(request, headers) == request.pretty_host
    request.headers.add("host", "second.example")  # mitmproxy joins repeated headers; so does veil
    assert _pretty_host(request, str_headers(request.headers.fields)) == request.pretty_host


def test_a_host_with_userinfo_is_answered_but_not_remembered() -> None:
    from mitmproxy.test import tutils

    from veil.proxy_addon.addon import _authority_host, _pretty_host

    request = tutils.treq(host="upstream.internal", port=8000)
    request.headers["host"] = "jane:hunter2@api.example.com:8443"
    _authority_host.cache_clear()
    assert _pretty_host(request, [("Host", request.headers["host"])]) == request.pretty_host
    assert _authority_host.cache_info().currsize == 0  # the credential is not kept
    assert _pretty_host(request, [("Host", "api.example.com:8443")]) == "api.example.com"


def test_veil_proxy_keeps_long_lived_objects_out_of_full_collections() -> None:
    import gc

    from veil.proxy_addon.run import freeze_long_lived

    plan = veil.default_plan()
    try:
        freeze_long_lived()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # modules, mitmproxy, the plan
        addon = VeilAddon()
        reloader = PolicyReloader(addon)
        reloader.freezes = True
        reloader.swap(plan)  # a policy reload: the old plan may go, the new one is frozen in turn
        assert gc.get_freeze_count() > 10_000
        assert addon.plan is plan
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(("path", "forwarded"), [
    ("/users/jane@example.com/orders?page=2", "/users/%5BREDACTED%3AEMAIL%5D/orders?page=2"),  # a segment
    ("/users/jane%40example.com/orders", "/users/%5BREDACTED%3AEMAIL%5D/orders"),  # percent-encoded
    ("/users/42/orders?page=2", "/users/42/orders?page=2"),  # near miss: an id, kept byte for byte
    ("/v1/chat/completions", "/v1/chat/completions"),  # nothing to find
])
def test_the_upstream_gets_the_redacted_path_while_rules_match_the_original(
    path: str, forwarded: str, tmp_path: Path
) -> None:
    """Issue #15: an e-mail in the URL path reached the upstream. A rule matching the original path still applies."""
    policy = ("version: 1\nrules:\n  - match: {paths: ['/users/*/orders']}\n    fields: [{path: $.note, action: redact}]\n"
              "  - scan: true\n")
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        (tmp_path / "policy.yaml").write_text(policy)
        tctx.configure(addon, veil_policy=str(tmp_path / "policy.yaml"))
        flow = make_flow(b'{"note": "x"}', "application/json", path=path)
        send_request(addon, flow)
    assert flow.response is None
    assert flow.request.path == forwarded
    if path.startswith("/users/"):
        assert json.loads(flow.request.content or b"{}")["note"] == "[REDACTED:FIELD]"  # matched on the original
