"""Examples that run as scripts must keep running (server examples are run by their own tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_httpx_egress_example_hides_the_value_from_the_vendor_only() -> None:
    env = {**os.environ, "VEIL_TOKEN_KEY": "ab" * 32}
    out = subprocess.run([sys.executable, "examples/httpx_egress.py"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    vendor_line = next(line for line in out.splitlines() if line.startswith("vendor received:"))
    caller_line = next(line for line in out.splitlines() if line.startswith("caller sees:"))
    assert "jane.roe@example.com" not in vendor_line and "tok_EMAIL_k1_" in vendor_line
    assert "jane.roe@example.com" in caller_line


def test_llm_vendor_policy_round_trip_restores_tokens_and_redacts_what_the_vendor_adds() -> None:
    import orjson

    from veil import Route
    from veil.http import LineStream, Options
    from veil.proxy_addon.stream import ResponseStream
    from veil.settings import load_policy

    plan = load_policy(ROOT / "examples/policies/llm-vendor.yaml", environ={"VEIL_TOKEN_KEY": "ab" * 32})
    request = Route("request", "POST", "api.vendor.test", "/v1/chat/completions", "application/json")
    prompt = {"model": "m", "messages": [{"role": "user", "content": "Email jane.roe@example.com, card 4111 1111 1111 1111"}]}
    sent = plan.redact_body(orjson.dumps(prompt), "application/json", request).output
    assert b"jane.roe@example.com" not in sent and b"4111" not in sent and b"tok_EMAIL_k1_" in sent
    credentials = [("Authorization", "Bearer sk-proj-" + "a1B2" * 12), ("x-api-key", "sk-ant-api03-" + "x9Y8" * 20),
                   ("anthropic-version", "2023-06-01")]
    assert plan.redact_headers(credentials, request)[0] == credentials  # the client's own keys reach the vendor
    token = orjson.loads(sent)["messages"][0]["content"].split()[1].rstrip(",")
    restorer = plan.restorer(request)
    assert restorer is not None

    # A reply that names the token and brings in an address and a phone number of its own.
    reply_text = f"Done: wrote to {token}. Also cc bob.smith@example.org or call +1 415 555 0100 now."
    response = Route("response", "POST", "api.vendor.test", "/v1/chat/completions", "application/json")
    whole = {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text}}]}
    out = plan.redact_body(orjson.dumps(whole), "application/json", response).output
    content = orjson.loads(restorer.restore_body(out, "application/json")[0])["choices"][0]["message"]["content"]
    expected = "Done: wrote to jane.roe@example.com. Also cc [REDACTED:EMAIL] or call [REDACTED:PHONE] now."
    assert content == expected

    # The same reply streamed, split inside the token and inside both new values.
    sse = Route("response", "POST", "api.vendor.test", "/v1/chat/completions", "text/event-stream")
    for step in (3, 7, 11):
        events = [reply_text[i : i + step] for i in range(0, len(reply_text), step)]
        body = b"".join(b"data: " + orjson.dumps({"choices": [{"index": 0, "delta": {"content": piece}}]}) + b"\n\n"
                        for piece in events) + b"data: [DONE]\n\n"
        stream = ResponseStream(LineStream(plan, sse, "sse", Options(), "proxy", restorer=restorer, error_event=True))
        streamed = b"".join(b"".join(stream(body[i : i + 50])) for i in range(0, len(body), 50)) + b"".join(stream(b""))
        text = "".join(orjson.loads(line[6:])["choices"][0]["delta"]["content"]
                       for line in streamed.splitlines() if line.startswith(b"data: {"))
        assert text == expected, step
