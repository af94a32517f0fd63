"""Long streamed replies: tiny deltas and gap-less text still give the whole text's redaction.

Found in review (issue #14): 1-character deltas over compact JSON held more events than the
held-lines limit, which then cut the text where the events happened to end (values leaked,
and the output depended on the split); and the window's forced cut could fall inside a value,
whose head was then released unread.
"""

from __future__ import annotations

import json
import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil import Route, default_plan
from veil.rules.stream_redact import StreamRedactor

PLAN = default_plan()
ROUTE = Route("response", "POST", "api.vendor.test", "/v1/chat", "text/event-stream")


def _event(text: str) -> bytes:
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _stream(text: str, cuts: list[int]) -> str:
    redactor = StreamRedactor(PLAN, ROUTE, "sse")
    out = b""
    prev = 0
    for cut in [*cuts, len(text)]:
        out += redactor.feed(_event(text[prev:cut]))
        prev = cut
    out += redactor.feed(b"data: [DONE]\n\n") + redactor.close()
    return "".join(
        orjson.loads(line[6:])["choices"][0]["delta"]["content"]
        for line in out.split(b"\n")
        if line.startswith(b"data: {")
    )


RECORDS = json.dumps(
    [
        {"id": 1000 + i, "email": f"user{i}@example.com", "card": "4111111111111111", "phone": f"+1 415 555 {100 + i:04d}"}
        for i in range(12)
    ],
    separators=(",", ":"),
)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 16])
def test_tiny_deltas_over_gapless_text_give_the_whole_texts_redaction(size: int) -> None:
    whole = PLAN.redact_text(RECORDS).text
    assert "example.com" not in whole and "4111111111111111" not in whole
    assert _stream(RECORDS, list(range(size, len(RECORDS), size))) == whole


def _csv(n: int) -> str:
    row = "101,2024-01-05,42.50,3\n"
    return (row * (n // len(row) + 2))[: n - 1] + "\n"


@pytest.mark.parametrize("offset", range(0, 24, 3))
@pytest.mark.parametrize("value", ["4111111111111111", "jane.doe@example.com"])
def test_a_value_across_the_windows_forced_cut_is_redacted_whole(offset: int, value: str) -> None:
    text = _csv(1024 - offset) + f"Contact:{value},7\n" + _csv(100)
    whole = PLAN.redact_text(text).text
    rng = random.Random(offset)
    for cuts in ([], sorted(rng.sample(range(1, len(text)), 60))):
        out = _stream(text, cuts)
        assert out == whole
        assert value[:6] not in out.replace("101,2024", "")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_digit_heavy_text_in_tiny_random_deltas_never_leaks(seed: int, most: int) -> None:
    rng = random.Random(seed)
    values = ["4111 1111 1111 1111", "jane.roe@example.com", "+44 20 7946 0958", "536-22-1234"]
    parts = []
    while sum(map(len, parts)) < 2000:
        parts.append(rng.choice([f"{rng.randint(0, 10**6)},", f" {rng.choice(values)} ", "x" * rng.randint(1, 30), ";"]))
    text = "".join(parts)
    whole = PLAN.redact_text(text).text
    outs = []
    for _ in range(2):
        cuts, at = [], 0
        while at < len(text):
            at += rng.randint(1, most)
            cuts.append(at)
        outs.append(_stream(text, [c for c in cuts if c < len(text)]))
    assert outs[0] == outs[1]  # the same bytes whatever the split
    for value in values:
        if value not in whole:  # what the whole text's redaction removes, no split lets through
            assert value not in outs[0]
