"""The httpx transports on the wire: the request target, restored tokens' escaping, observers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from veil import RedactionError, compile_policy
from veil.integrations.httpx import AsyncRedactingTransport, RedactingTransport
from veil.rules.plan_types import Report

from tests.integrations.httpx_vendor import serve

KEYS = {"tokens": {"k1": bytes(range(64))}}
# $.note is tokenized whole, so the token stands for a value holding quotes and a backslash.
NOTE = 'say "hi" to C:\\jane'
FIELD_TOKENS = compile_policy(
    "version: 1\nkeys:\n  tokens: {env: T}\n"
    "rules:\n  - fields: [{path: $.note, action: {type: tokenize, key: tokens}}]\n",
    key_material=KEYS,
)
TOKEN = json.loads(FIELD_TOKENS.redact_body(json.dumps({"note": NOTE}).encode(), "application/json").output)["note"]


def send(transport: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    if isinstance(transport, httpx.AsyncBaseTransport):
        async def run() -> httpx.Response:
            async with httpx.AsyncClient(transport=transport, timeout=10) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(run())
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.request(method, url, **kwargs)


TRANSPORTS = {"sync": RedactingTransport, "async": AsyncRedactingTransport}


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("target", "received"),
    [
        ("/v1/items", "/v1/items"),  # no query: no "?" added
        ("/v1/items?", "/v1/items?"),  # an empty query stays empty
        ("/v1/items?q=a+b&x=%7e&list[]=1", "/v1/items?q=a+b&x=%7e&list[]=1"),  # escapes kept as written
        ("/v1/items?flag", "/v1/items?flag"),
        ("/v1/items?api_key=s3cr3t&q=hi", "/v1/items?api_key=[REDACTED:SECRET]&q=hi"),  # only the secret changes
        ("/v1/items?q=a+b&token=abc", "/v1/items?q=a+b&token=[REDACTED:SECRET]"),
        ("/users/jane@example.com/orders?q=a+b", "/users/%5BREDACTED%3AEMAIL%5D/orders?q=a+b"),  # a path segment
        ("/users/jane%40example.com/orders", "/users/%5BREDACTED%3AEMAIL%5D/orders"),
        ("/users/A-17/orders/v1.2", "/users/A-17/orders/v1.2"),  # ids and versions are not personal data
    ],
)
def test_the_request_target_changes_only_where_something_was_redacted(flavour: str, target: str, received: str) -> None:
    with serve(lambda handler: handler.reply(b"{}")) as vendor:
        send(TRANSPORTS[flavour]("builtin:strict"), "GET", vendor.base + target)
    assert [seen.target for seen in vendor.seen] == [received]


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("content_type", "template", "expected"),
    [
        ("application/json", '{"echo": "%s"}', {"echo": NOTE}),
        ("application/problem+json", '{"echo": "%s"}', {"echo": NOTE}),
        # A JSON body under a label without "json" in it: still escaped for a JSON string.
        ("text/plain; charset=utf-8", '{"echo": "%s"}', {"echo": NOTE}),
        ("", '{"echo": "%s"}', {"echo": NOTE}),
        ("application/x-ndjson", '{"echo": "%s"}\n{"n": 2}\n', {"echo": NOTE}),
        # Text under a label with "json" in it (Jsonnet source): the value as it is.
        ("text/x-jsonnet", "local echo = %s;", 'local echo = say "hi" to C:\\jane;'),
        ("text/plain", "you said: %s", 'you said: say "hi" to C:\\jane'),
        # A form would need the value form-encoded: the token stays.
        ("application/x-www-form-urlencoded", "echo=%s", "echo=" + TOKEN),
    ],
)
def test_restored_tokens_are_escaped_for_what_the_body_is(
    flavour: str, content_type: str, template: str, expected: Any
) -> None:
    body = (template % TOKEN).encode()
    with serve(lambda handler: handler.reply(body, content_type)) as vendor:
        # The request sends the note (tokenized on its way): its reply may restore that token.
        reply = send(TRANSPORTS[flavour](FIELD_TOKENS, detokenize=True), "POST", vendor.base, json={"note": NOTE})
    assert vendor.seen[0].body == json.dumps({"note": TOKEN}, separators=(",", ":")).encode()
    got = json.loads(reply.text.splitlines()[0]) if isinstance(expected, dict) else reply.text
    assert got == expected
    assert reply.headers.get("content-length", "streamed") in (str(len(reply.content)), "streamed")


EMAIL_TOKENS = compile_policy(
    "version: 1\nkeys:\n  tokens: {env: T}\n"
    "rules:\n  - scan: {detectors: [EMAIL], action: {type: tokenize, key: tokens}}\n",
    key_material=KEYS,
)


@pytest.mark.parametrize("flavour", TRANSPORTS)
def test_a_token_split_across_streamed_events_is_restored_and_nothing_else_changes(flavour: str) -> None:
    """detokenize without redact_responses: the stream is restored, never redacted."""
    token = EMAIL_TOKENS.redact_text("jane@example.com").text
    cut = len(token) // 2
    events = sse("Writing to " + token[:cut]) + sse(token[cut:] + ", cc bob@example.org") + b"data: [DONE]\n\n"
    with serve(lambda handler: handler.reply(events, "text/event-stream")) as vendor:
        reply = send(TRANSPORTS[flavour](EMAIL_TOKENS, detokenize=True), "POST", vendor.base,
                     content=b"write to jane@example.com", headers={"content-type": "text/plain"})
    texts = [json.loads(line[6:])["choices"][0]["delta"]["content"]
             for line in reply.text.splitlines() if line.startswith("data: {")]
    assert "".join(texts) == "Writing to jane@example.com, cc bob@example.org"
    assert "content-length" not in reply.headers


OTHER_TOKEN = EMAIL_TOKENS.redact_text("someone.else@example.org").text


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("request_body", "reply_body", "expected"),
    [
        # Nothing sent in this exchange: a token the vendor answers with (seen in another user's
        # exchange, a log, a cache) stays a token.
        (b"hello", "you mean %s?" % OTHER_TOKEN, "you mean %s?" % OTHER_TOKEN),
        # The client wrote the token itself: veil did not make it, so it stays.
        (OTHER_TOKEN.encode(), "you mean %s?" % OTHER_TOKEN, "you mean %s?" % OTHER_TOKEN),
        # Escaped in JSON, the same.
        (b'{"q": "\\u0074' + OTHER_TOKEN[1:].encode() + b'"}', "you mean %s?" % OTHER_TOKEN,
         "you mean %s?" % OTHER_TOKEN),
        # Only the token of what was sent opens; the foreign one beside it stays.
        (b"mail jane@example.com", "%s, %s" % (EMAIL_TOKENS.redact_text("jane@example.com").text, OTHER_TOKEN),
         "jane@example.com, %s" % OTHER_TOKEN),
    ],
    ids=["nothing-sent", "client-wrote-the-token", "client-wrote-it-escaped", "only-what-was-sent"],
)
def test_a_reply_restores_only_the_tokens_veil_made_in_its_request(
    flavour: str, request_body: bytes, reply_body: str, expected: str
) -> None:
    with serve(lambda handler: handler.reply(reply_body.encode(), "text/plain")) as vendor:
        reply = send(TRANSPORTS[flavour](EMAIL_TOKENS, detokenize=True), "POST", vendor.base,
                     content=request_body, headers={"content-type": "text/plain"})
    assert reply.text == expected


@pytest.mark.parametrize("flavour", TRANSPORTS)
def test_a_head_reply_keeps_its_length(flavour: str) -> None:
    def answer(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", "1234")
        handler.end_headers()

    with serve(answer) as vendor:
        reply = send(TRANSPORTS[flavour](redact_responses=True), "HEAD", vendor.base)
    assert reply.headers["content-length"] == "1234" and reply.content == b""


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 304)])
def test_an_encoded_reply_without_a_body_is_not_truncated(flavour: str, method: str, status: int) -> None:
    # HEAD and 304 replies carry the Content-Encoding of the body they stand for, and no body.
    def answer(handler: Any) -> None:
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-encoding", "gzip")
        if status == 200:
            handler.send_header("content-length", "1234")
        handler.end_headers()

    with serve(answer) as vendor:
        reply = send(TRANSPORTS[flavour](redact_responses=True), method, vendor.base)
    assert reply.status_code == status and reply.content == b""


class Recorder:
    """An Observer keeping what it was told, findings as counts."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str, dict[str, int]]] = []

    def observe(self, *, adapter: str, direction: str, outcome: str, report: Report, seconds: float, size: int,
                reason: str = "") -> None:
        assert seconds >= 0 and size >= 0
        types: dict[str, int] = {}
        for (kind, _, _, _), count in report.counts().items():
            types[kind] = types.get(kind, 0) + count
        self.seen.append((adapter, direction, outcome, reason, types))


def sse(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode() + b"\n\n"


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda h: h.reply(b'{"to": "jane@example.com"}'),
            [("httpx", "request", "rewritten", "", {"EMAIL": 1}), ("httpx", "response", "rewritten", "", {"EMAIL": 1})],
        ),
        (
            lambda h: h.reply(b'{"ok": true}'),
            [("httpx", "request", "rewritten", "", {"EMAIL": 1}), ("httpx", "response", "unchanged", "", {})],
        ),
        (  # a stream is observed once, when it ends
            lambda h: h.reply(sse("mail jane@exa") + sse("mple.com") + b"data: [DONE]\n\n", "text/event-stream"),
            [("httpx", "request", "rewritten", "", {"EMAIL": 1}), ("httpx", "response", "rewritten", "", {"EMAIL": 1})],
        ),
        (
            lambda h: h.reply(b'{"to": "jane@example.com"', "application/json"),
            [("httpx", "request", "rewritten", "", {"EMAIL": 1}), ("httpx", "response", "error", "invalid_json", {})],
        ),
    ],
)
def test_every_body_is_reported_to_the_observer(flavour: str, answer: Any, expected: list[Any]) -> None:
    recorder = Recorder()
    with serve(answer) as vendor:
        transport = TRANSPORTS[flavour]("builtin:strict", redact_responses=True, observer=recorder)
        try:
            send(transport, "POST", vendor.base, json={"note": "mail jane@example.com"})
        except RedactionError:
            pass
    assert recorder.seen == expected


@pytest.mark.parametrize("flavour", TRANSPORTS)
def test_a_request_refused_for_its_size_is_reported_and_never_sent(flavour: str) -> None:
    recorder = Recorder()
    policy = compile_policy("version: 1\nlimits: {max_body_bytes: 64}\nrules:\n  - scan: {detectors: [EMAIL]}\n")
    with serve(lambda handler: handler.reply(b"{}")) as vendor:
        with pytest.raises(RedactionError):
            send(TRANSPORTS[flavour](policy, observer=recorder), "POST", vendor.base, json={"pad": "x" * 100})
    assert vendor.seen == []
    assert recorder.seen == [("httpx", "request", "error", "body_too_large", {})]


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (None, True),  # builtin:egress, the transport's default: the vendor gets the client's credentials
        ("builtin:egress", True),
        ("builtin:strict", False),  # strict strips every credential, the client's own too
    ],
)
def test_the_clients_own_credentials_reach_the_vendor_by_default(
    policy: str | None, kept: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers set on the client (not the request) go through the transport too; personal data in
    the body is redacted whichever profile."""
    monkeypatch.delenv("VEIL_POLICY", raising=False)
    credentials = {"Authorization": "Bearer sk-live-123", "X-Api-Key": "k-123"}
    with serve(lambda handler: handler.reply(b"{}")) as vendor:
        with httpx.Client(transport=RedactingTransport(policy), headers=credentials) as client:
            client.post(vendor.base, json={"prompt": "mail jane@example.com"})
    (seen,) = vendor.seen
    got = {"Authorization": seen.headers["authorization"], "X-Api-Key": seen.headers["x-api-key"]}
    assert got == (credentials if kept else {name: "[REDACTED:SECRET]" for name in credentials})
    assert b"jane@example.com" not in seen.body


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(("method", "length"), [("POST", "0"), ("GET", None)])
def test_an_empty_body_is_framed_as_httpx_frames_it(flavour: str, method: str, length: str | None) -> None:
    with serve(lambda handler: handler.reply(b"{}")) as vendor:
        send(TRANSPORTS[flavour](), method, vendor.base, **({"content": b""} if method == "POST" else {}))
    assert [seen.headers.get("content-length") for seen in vendor.seen] == [length]


SMALL_LIMIT = compile_policy("version: 1\nlimits: {max_body_bytes: 2048}\nrules:\n  - scan: {detectors: [EMAIL]}\n")


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize("content_type", ["application/octet-stream", "", "application/x-unknown-thing"])
def test_a_vague_upload_is_judged_by_its_head(flavour: str, content_type: str) -> None:
    """Binary by its head: on unread, whatever its size (over the body limit here). Text by its
    head: read whole, redacted, and refused over the limit."""
    binary = b"\x00\x01\x02PK" + b"jane@example.com " * 200
    text = b'{"email": "jane@example.com"}'
    headers = {"content-type": content_type} if content_type else {}
    with serve(lambda handler: handler.reply(b"{}")) as vendor:
        send(TRANSPORTS[flavour](SMALL_LIMIT), "POST", vendor.base, content=binary, headers=headers)
        send(TRANSPORTS[flavour](SMALL_LIMIT), "POST", vendor.base, content=text, headers=headers)
        with pytest.raises(RedactionError) as caught:
            send(TRANSPORTS[flavour](SMALL_LIMIT), "POST", vendor.base, content=text + b" " * 4096, headers=headers)
    assert [seen.body for seen in vendor.seen] == [binary, b'{"email": "[REDACTED:EMAIL]"}']
    assert caught.value.reason == "body_too_large"


JSON_ONLY = compile_policy(  # a rule limited to a content type: a type can lie or be missing (issue #15)
    "version: 1\nrules:\n  - match: {content_types: [application/json]}\n    scan: {detectors: [EMAIL]}\n")


@pytest.mark.parametrize("flavour", TRANSPORTS)
@pytest.mark.parametrize(
    ("content_type", "sent"),
    [
        ("application/json", b'{"email": "[REDACTED:EMAIL]"}'),
        ("application/octet-stream", b'{"email": "[REDACTED:EMAIL]"}'),  # JSON behind a vague label
        ("", b'{"email": "[REDACTED:EMAIL]"}'),  # and behind none
        ("image/png", b'{"email": "[REDACTED:EMAIL]"}'),  # a binary label is only the sender's claim
        ("text/csv", b'{"email": "[REDACTED:EMAIL]"}'),  # a JSON document under a text label is JSON (#15, F3)
    ],
)
def test_a_rule_limited_to_json_applies_to_json_whatever_its_label(flavour: str, content_type: str, sent: bytes) -> None:
    """As the in-app adapters (veil.http.coverage): a direction is skipped unread only when no rule may
    apply on its route, never for its declared type, which the body's own head may contradict."""
    body = b'{"email": "jane@example.com"}'
    headers = {"content-type": content_type} if content_type else {}
    with serve(lambda handler: handler.reply(b'{"email": "jane@example.com"}', content_type or "")) as vendor:
        reply = send(TRANSPORTS[flavour](JSON_ONLY, redact_responses=True), "POST", vendor.base, content=body,
                     headers=headers)
    assert [seen.body for seen in vendor.seen] == [sent]
    assert reply.content == sent


@pytest.mark.parametrize("flavour", TRANSPORTS)
def test_a_rule_limited_to_json_leaves_text_that_is_not_json(flavour: str) -> None:
    """The near miss: under a text label, a body that is no JSON document stays text, out of the rule."""
    body = b"email\njane@example.com\n"
    with serve(lambda handler: handler.reply(body, "text/csv")) as vendor:
        reply = send(TRANSPORTS[flavour](JSON_ONLY, redact_responses=True), "POST", vendor.base, content=body,
                     headers={"content-type": "text/csv"})
    assert [seen.body for seen in vendor.seen] == [body]
    assert reply.content == body
