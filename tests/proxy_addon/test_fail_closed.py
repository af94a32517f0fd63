"""The addon's fail-open paths (issue #15), hook by hook: a flow veil holds no state for, a
WebSocket message, and what the failure paths log.

Each test seeds ``jane@example.com`` and asserts it is redacted or refused, never forwarded, and
never logged. Real sockets (mitmdump, a WebSocket echo server) are in ``test_websocket_process.py``
and ``test_log_hygiene.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.test import tflow
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

import veil
from tests.proxy_addon.flows import KEY_ENV, KEY_HEX, RESTORE_POLICY, addon_context, make_flow, send_request, send_response
from veil.proxy_addon import VeilAddon

EMAIL = "jane@example.com"
PROFILE = json.dumps({"customer": {"email": EMAIL, "plan": "gold"}}).encode()


@pytest.fixture
def addon() -> Iterator[VeilAddon]:
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon)
        yield addon


@pytest.fixture
def reloaded() -> Iterator[tuple[VeilAddon, VeilAddon]]:
    """Two configured instances: the one a flow started in and the one a script reload put in its place."""
    before, after = VeilAddon(), VeilAddon()
    with addon_context(before) as tctx:
        tctx.configure(before)
        reload_script(tctx.master, before, after)
        tctx.configure(after)
        yield before, after


def reload_script(master: Any, before: VeilAddon, after: VeilAddon) -> None:
    """What ``mitmdump -s`` does when the script changes: the old instance out, a new one in.
    ``before`` keeps its plan, so a test can still run the first hooks of a flow through it."""
    master.addons.remove(before)
    master.addons.add(after)


# -- flows without veil's per-flow state --------------------------------------------------------


def test_a_response_after_a_reload_between_request_and_response_is_still_redacted(
    reloaded: tuple[VeilAddon, VeilAddon],
) -> None:
    before, after = reloaded
    flow = make_flow(method="GET", path="/profile")
    send_request(before, flow)
    out = send_response(after, flow, PROFILE, "application/json")
    assert flow.response is not None and flow.response.status_code == 200
    assert EMAIL.encode() not in out and json.loads(out)["customer"]["plan"] == "gold"


def test_a_request_body_after_a_reload_between_its_headers_and_body_is_still_redacted(
    reloaded: tuple[VeilAddon, VeilAddon],
) -> None:
    before, after = reloaded
    flow = make_flow(PROFILE, "application/json")
    before.requestheaders(flow)
    after.request(flow)
    assert flow.response is None
    assert EMAIL.encode() not in (flow.request.raw_content or b"")
    assert flow.request.headers["content-length"] == str(len(flow.request.raw_content or b""))


def test_a_response_another_addon_asked_to_stream_is_buffered_and_redacted_without_veil_state(
    reloaded: tuple[VeilAddon, VeilAddon],
) -> None:
    before, after = reloaded
    flow = make_flow(method="GET", path="/profile")
    send_request(before, flow)
    flow.response = http.Response.make(200, b"", [(b"content-type", b"application/json")])
    flow.response.data.content = None
    flow.response.stream = True  # set by another addon's responseheaders, before veil's
    after.responseheaders(flow)
    assert flow.response.stream is False
    flow.response.data.content = PROFILE
    after.response(flow)
    assert EMAIL.encode() not in (flow.response.raw_content or b"")


def test_a_response_another_addon_answered_with_is_redacted(addon: VeilAddon) -> None:
    """e.g. map_local or a cache answering in its requestheaders hook: veil's request hooks do nothing."""
    flow = make_flow(method="GET", path="/profile")
    flow.response = http.Response.make(200, PROFILE, {"content-type": "application/json"})
    send_request(addon, flow)
    addon.response(flow)
    assert flow.response.status_code == 200
    assert EMAIL.encode() not in (flow.response.raw_content or b"")
    assert flow.response.headers["content-length"] == str(len(flow.response.raw_content or b""))


def test_a_response_without_state_and_without_a_plan_is_replaced_by_a_502() -> None:
    addon = VeilAddon()  # never configured: no plan to redact with
    flow = make_flow(method="GET", path="/profile")
    flow.response = http.Response.make(200, PROFILE, {"content-type": "application/json"})
    with addon_context(addon):
        addon.response(flow)
    assert flow.response.status_code == 502
    assert EMAIL.encode() not in (flow.response.raw_content or b"")


def test_veils_own_refusal_is_kept_when_its_response_hook_runs() -> None:
    addon = VeilAddon()
    flow = make_flow(PROFILE, "application/json")
    with addon_context(addon):
        send_request(addon, flow)
        addon.response(flow)
    assert flow.response is not None and flow.response.status_code == 503  # not turned into a 502


def test_tokens_are_restored_in_a_reply_handled_by_a_reloaded_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The rebuilt state computes the request route's restorer, as the lost one had."""
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    policy = tmp_path / "egress.yaml"
    policy.write_text(RESTORE_POLICY)
    before, after = VeilAddon(), VeilAddon()
    with addon_context(before) as tctx:
        tctx.configure(before, veil_policy=str(policy))
        reload_script(tctx.master, before, after)
        tctx.configure(after, veil_policy=str(policy))
        flow = make_flow(json.dumps({"prompt": f"mail {EMAIL}"}).encode(), "application/json", path="/v1/chat")
        send_request(before, flow)
        sent = json.loads(flow.request.raw_content or b"")["prompt"]
        assert EMAIL not in sent
        token = sent.split()[-1]
        out = send_response(after, flow, json.dumps({"answer": token}).encode(), "application/json")
    assert json.loads(out) == {"answer": EMAIL}


# -- WebSocket messages -------------------------------------------------------------------------


def ws_flow(addon: VeilAddon, path: str = "/v1/realtime") -> http.HTTPFlow:
    """A WebSocket flow whose upgrade went through the addon's HTTP hooks, as mitmproxy runs them."""
    flow = tflow.twebsocketflow(messages=False)
    flow.request.path = path
    upgrade = flow.response
    flow.response = None
    send_request(addon, flow)
    flow.response = upgrade
    addon.responseheaders(flow)
    addon.response(flow)
    assert flow.websocket is not None
    flow.websocket.messages.clear()
    return flow


def deliver(addon: VeilAddon, flow: http.HTTPFlow, content: bytes, *, from_client: bool = True,
            text: bool = True) -> WebSocketMessage:
    assert flow.websocket is not None
    message = WebSocketMessage(Opcode.TEXT if text else Opcode.BINARY, from_client, content)
    flow.websocket.messages.append(message)
    addon.websocket_message(flow)
    return message


@pytest.mark.parametrize("from_client", [True, False], ids=["client-to-server", "server-to-client"])
@pytest.mark.parametrize("content", [
    PROFILE,
    json.dumps({"type": "conversation.item.create", "item": {"content": [{"text": f"mail {EMAIL}"}]}}).encode(),
    f"please mail {EMAIL} today".encode(),
    b'{"not json but text": ' + EMAIL.encode(),  # looks like JSON, is not: scanned as text
], ids=["json", "realtime-event", "text", "broken-json"])
def test_a_text_websocket_message_is_redacted_in_both_directions(
    addon: VeilAddon, content: bytes, from_client: bool
) -> None:
    flow = ws_flow(addon)
    message = deliver(addon, flow, content, from_client=from_client)
    assert not message.dropped
    assert EMAIL.encode() not in message.content
    assert message.is_text and message.text  # still valid UTF-8 text


def test_a_websocket_message_without_pii_is_forwarded_byte_for_byte(addon: VeilAddon) -> None:
    flow = ws_flow(addon)
    content = b'{"type": "response.create",  "n": 1.50}'
    message = deliver(addon, flow, content)
    assert not message.dropped and message.content == content


def test_a_binary_websocket_message_is_dropped_and_every_later_one_too(addon: VeilAddon) -> None:
    flow = ws_flow(addon)
    binary = deliver(addon, flow, EMAIL.encode(), text=False)
    assert binary.dropped
    later = deliver(addon, flow, b'{"ok": true}')
    assert later.dropped  # the connection is closing: nothing more crosses


def test_binary_websocket_messages_pass_unread_when_the_option_says_so() -> None:
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_websocket_binary="pass")
        flow = ws_flow(addon)
        binary = deliver(addon, flow, b"\x00\x01audio", text=False)
        text = deliver(addon, flow, f"mail {EMAIL}".encode())
    assert not binary.dropped and binary.content == b"\x00\x01audio"
    assert not text.dropped and EMAIL.encode() not in text.content


def test_a_websocket_message_veil_cannot_process_is_dropped_never_forwarded_raw() -> None:
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_max_body_bytes=64, veil_on_error="passthrough")
        flow = ws_flow(addon)
        big = deliver(addon, flow, f"mail {EMAIL} ".encode() * 10)
        small = deliver(addon, flow, b"hi")
    assert big.dropped  # passthrough forwards HTTP bodies, but a message cannot be refused any other way
    assert small.dropped


def test_a_crash_while_redacting_a_websocket_message_drops_it(
    addon: VeilAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = ws_flow(addon)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(veil.Plan, "redact_body", boom)
    message = deliver(addon, flow, PROFILE)
    assert message.dropped


def test_a_websocket_message_on_a_flow_veil_never_saw_is_redacted(
    reloaded: tuple[VeilAddon, VeilAddon],
) -> None:
    before, after = reloaded
    flow = ws_flow(before)
    message = deliver(after, flow, PROFILE, from_client=False)
    assert not message.dropped and EMAIL.encode() not in message.content


def test_a_websocket_message_without_a_plan_is_dropped() -> None:
    addon = VeilAddon()
    flow = tflow.twebsocketflow(messages=False)
    with addon_context(addon):
        message = deliver(addon, flow, PROFILE)
    assert message.dropped


@pytest.fixture
def restoring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[VeilAddon]:
    """An addon on a policy that tokenizes with ``restore: true``."""
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    policy = tmp_path / "egress.yaml"
    policy.write_text(RESTORE_POLICY)
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_policy=str(policy))
        yield addon


def test_tokens_in_a_websocket_reply_are_restored(restoring: VeilAddon) -> None:
    flow = ws_flow(restoring)
    sent = deliver(restoring, flow, json.dumps({"prompt": f"mail {EMAIL}"}).encode())
    token = json.loads(sent.content)["prompt"].split()[-1]
    assert EMAIL not in token
    reply = deliver(restoring, flow, json.dumps({"delta": f"writing to {token}"}).encode(), from_client=False)
    assert json.loads(reply.content) == {"delta": f"writing to {EMAIL}"}


def test_a_websocket_reply_restores_only_tokens_the_client_side_sent(restoring: VeilAddon) -> None:
    elsewhere = ws_flow(restoring)
    sent = deliver(restoring, elsewhere, json.dumps({"prompt": f"mail {EMAIL}"}).encode())
    token = json.loads(sent.content)["prompt"].split()[-1]
    flow = ws_flow(restoring)  # another connection: it never sent the address
    deliver(restoring, flow, b'{"prompt": "hello"}')
    reply = deliver(restoring, flow, json.dumps({"delta": f"writing to {token}"}).encode(), from_client=False)
    assert json.loads(reply.content) == {"delta": f"writing to {token}"}


# -- what the failure paths log -----------------------------------------------------------------


SEEDED_PATH = f"/users/{EMAIL}/orders?next=/users/{EMAIL}"


def assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "the failure was not logged at all"
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert EMAIL not in text and "jane" not in text, text


def test_a_crash_is_logged_without_the_exception_message_or_the_path(
    addon: VeilAddon, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError(f"invalid literal for int() with base 10: {EMAIL!r}")  # third-party text quoting payload

    monkeypatch.setattr(veil.Plan, "redact_body", boom)
    flow = make_flow(PROFILE, "application/json", path=SEEDED_PATH)
    with caplog.at_level(logging.DEBUG, logger="veil"):
        send_request(addon, flow)
    assert flow.response is not None and flow.response.status_code == 400
    assert_clean(caplog)
    [record] = [r for r in caplog.records if "internal error" in r.getMessage()]
    text = record.getMessage()
    assert "ValueError" in text and "request body" in text
    assert "bodies.py" in text and "in boom" in text  # the frames are kept: the bug can be found
    assert any("internal_error" in r.getMessage() and "POST" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("direction", ["request", "response"])
def test_a_refusal_is_logged_with_reason_method_and_rule_ids_not_the_path(
    addon: VeilAddon, direction: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken = b'{"email": "' + EMAIL.encode() + b'", '
    with caplog.at_level(logging.DEBUG, logger="veil"):
        if direction == "request":
            send_request(addon, make_flow(broken, "application/json", path=SEEDED_PATH))
        else:
            flow = make_flow(method="GET", path=SEEDED_PATH)
            send_request(addon, flow)
            send_response(addon, flow, broken, "application/json")
    assert_clean(caplog)
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "invalid_json" in message and direction in message
    rule_ids = [rule.id for rule in veil.default_plan().rules]
    assert any(rule_id in message for rule_id in rule_ids)


def test_a_dropped_websocket_message_is_logged_without_its_text(
    addon: VeilAddon, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    flow = ws_flow(addon, path=f"/v1/realtime/{EMAIL}")

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyError(EMAIL)

    monkeypatch.setattr(veil.Plan, "redact_body", boom)
    with caplog.at_level(logging.DEBUG, logger="veil"):
        deliver(addon, flow, PROFILE)
        deliver(addon, flow, f"mail {EMAIL}".encode(), text=False)
    assert_clean(caplog)


def test_a_replayed_flow_veil_once_refused_has_its_new_response_redacted(addon: VeilAddon) -> None:
    flow = make_flow(b'{"email": ', "application/json")
    send_request(addon, flow)
    assert flow.response is not None and flow.response.status_code == 400  # veil's own answer
    flow.response = None  # replay.client resets the response and sends the request again
    flow.request.raw_content = b"{}"
    send_request(addon, flow)
    out = send_response(addon, flow, PROFILE, "application/json")
    assert EMAIL.encode() not in out


def test_under_passthrough_a_body_that_fails_keeps_its_redacted_head() -> None:
    """on_error: passthrough forwards the body veil could not read, as it came; the head was
    redacted, and goes redacted (the in-app middlewares do the same). It went out as received."""
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        tctx.configure(addon, veil_on_error="passthrough")
        flow = make_flow(method="GET", path="/profile")
        send_request(addon, flow)
        broken = b'{"email": "jane@example.com"'  # invalid JSON: the body cannot be redacted
        out = send_response(addon, flow, broken, "application/json", headers=[("X-Contact", EMAIL)])
    assert out == broken
    assert flow.response is not None and flow.response.headers["x-contact"] == "[REDACTED:EMAIL]"


def test_reverse_mode_on_the_default_policy_names_the_profile_to_choose(caplog: pytest.LogCaptureFixture) -> None:
    addon = VeilAddon()
    with addon_context(addon) as tctx, caplog.at_level(logging.WARNING):
        tctx.configure(addon)
        addon.running()
    [line] = [r.getMessage() for r in caplog.records if "builtin:strict" in r.getMessage()]
    assert "--policy builtin:app" in line
