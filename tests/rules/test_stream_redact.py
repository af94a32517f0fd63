"""StreamRedactor: values split across streamed text deltas are redacted, whatever the split.

"The same bytes whatever the split" is checked as: the emitted events' delta texts of a
channel concatenate to the same string for every split, equal to the plan's redaction of
the whole text; every other field of each event is what LineRedactor gives for that event.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from veil import Route, compile_policy, default_plan
from veil.rules.stream_fields import DeltaFields, parse_path
from veil.rules.stream_redact import StreamRedactor
from veil.rules.streaming import LineRedactor

PLAN = default_plan()
ROUTE = Route("response", "POST", "api.vendor.test", "/v1/chat", "text/event-stream")
SEEDS = {
    "email": "jane.doe@example.com",
    "card": "4111 1111 1111 1111",
    "card_dashes": "5500-0000-0000-0004",
    "phone": "+1 415 555 0100",
    "ssn": "078-05-1120",
}


class Format(NamedTuple):
    kind: str
    event: Callable[[str], bytes]
    text: Callable[[dict[str, Any]], str | None]  # the delta text of a parsed event, None if none
    end: bytes


def _openai(text: str) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "service_tier": "default",
             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _responses(text: str) -> bytes:
    event = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "delta": text, "sequence_number": 7}
    return b"event: response.output_text.delta\ndata: " + orjson.dumps(event) + b"\n\n"


def _anthropic(text: str) -> bytes:
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
    return b"event: content_block_delta\ndata: " + orjson.dumps(delta) + b"\n\n"


def _gemini(text: str) -> bytes:
    chunk = {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}]}
    return b"data: " + orjson.dumps(chunk) + b"\r\n\r\n"


def _ollama(text: str) -> bytes:
    return orjson.dumps({"model": "m", "message": {"role": "assistant", "content": text}, "done": False}) + b"\n"


def _get(*path: str | int) -> Callable[[dict[str, Any]], str | None]:
    def get(doc: dict[str, Any]) -> str | None:
        node: Any = doc
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node if isinstance(node, str) else None
    return get


FORMATS = {
    "openai": Format("sse", _openai, _get("choices", 0, "delta", "content"),
                     b'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'),
    "responses": Format("sse", _responses, _get("delta"),
                        b'event: response.output_text.done\ndata: {"type":"response.output_text.done","text":"t"}\n\n'),
    "anthropic": Format("sse", _anthropic, _get("delta", "text"),
                        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'),
    "gemini": Format("sse", _gemini, _get("candidates", 0, "content", "parts", 0, "text"), b""),
    "ollama": Format("ndjson", _ollama, _get("message", "content"), b'{"model":"m","done":true}\n'),
}


def pieces(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(set(cuts)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def stream(fmt: Format, parts: list[str]) -> bytes:
    return b"".join(fmt.event(part) for part in parts) + fmt.end


def run(kind: str, data: bytes, chunks: list[int] | None = None, **options: Any) -> tuple[bytes, StreamRedactor]:
    """Feed ``data`` (cut at the byte offsets ``chunks``, else whole), then close."""
    redactor = StreamRedactor(PLAN, ROUTE, kind, **options)
    bounds = [0, *sorted(set(chunks or [])), len(data)]
    out = b"".join(redactor.feed(data[a:b]) for a, b in itertools.pairwise(bounds))
    return out + redactor.close(), redactor


def deltas(fmt: Format, out: bytes) -> list[str]:
    found = []
    for line in out.splitlines():
        payload = line[len(b"data:"):].strip() if fmt.kind == "sse" and line.startswith(b"data:") else line
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        text = fmt.text(doc) if isinstance(doc, dict) else None
        if text is not None:
            found.append(text)
    return found


def whole(text: str) -> str:
    return PLAN.redact_text(text, ROUTE).text


CASES = [
    ("email", "Sure! Write to jane.doe@example.com and I will reply."),
    ("card", "Your card 4111 1111 1111 1111 was charged today."),
    ("card_dashes", "Card on file: 5500-0000-0000-0004, expires soon."),
    ("phone", "Call me at +1 415 555 0100 tomorrow."),
    ("ssn", "The SSN 078-05-1120 is on the form."),
    ("two", "From jane.doe@example.com to bob.smith@example.org, cc none."),
    ("end", "Reach her at jane.doe@example.com"),
    ("unicode", "Zoë 🙂 wrote to jane.doe@example.com — «merci»"),
    ("newlines", "Line one\nmail: jane.doe@example.com\n\nthe end"),
    # near-misses: nothing to redact, and the text must come out exactly as it went in
    ("version", "Build 7.12.31.170 is out; rv:1.9.1.20 too."),
    ("plain", "Nothing to see here, just words and more words."),
    ("almost_card", "Order 4111 1111 1111 1112 shipped."),
]


@pytest.mark.parametrize("name", list(FORMATS))
@pytest.mark.parametrize(("case", "text"), CASES, ids=[c for c, _ in CASES])
def test_every_split_gives_the_redaction_of_the_whole_text(name: str, case: str, text: str) -> None:
    fmt = FORMATS[name]
    expected = whole(text)
    splits = [[], list(range(1, len(text)))] + [random.Random(seed).sample(range(1, len(text)), 5) for seed in range(5)]
    for cuts in splits:
        parts = pieces(text, cuts)
        out, _ = run(fmt.kind, stream(fmt, parts))
        got = deltas(fmt, out)
        assert "".join(got) == expected, (case, cuts)
        assert len(got) == len(parts)  # every event goes out, none is added
        for value in SEEDS.values():
            assert value not in out.decode("utf-8")


def test_events_keep_their_other_fields_as_line_redaction_gives_them() -> None:
    chunk = {"id": "c1", "user": "jane.doe@example.com", "choices": [{"index": 0, "delta": {"content": "hello "}}]}
    line = b"data: " + orjson.dumps(chunk) + b"\n\n"
    out, redactor = run("sse", line + FORMATS["openai"].end)
    first = orjson.loads(out.split(b"\n")[0][len(b"data: "):])
    alone = LineRedactor(PLAN, ROUTE, "sse").feed(line)
    assert first["user"] == orjson.loads(alone.split(b"\n")[0][len(b"data: "):])["user"] != "jane.doe@example.com"
    assert first["choices"][0]["delta"]["content"] == "hello "
    assert sum(redactor.counts.values()) == 1  # the user's address, counted once


def test_a_line_without_findings_goes_out_byte_for_byte() -> None:
    data = stream(FORMATS["anthropic"], ["Hello", " there", " friend"])
    out, redactor = run("sse", data)
    assert out == data and not redactor.changed


@pytest.mark.parametrize("name", list(FORMATS))
def test_splits_of_the_byte_stream_give_the_same_bytes(name: str) -> None:
    fmt = FORMATS[name]
    data = stream(fmt, pieces(CASES[7][1], [3, 9, 20, 25, 33]))
    expected, _ = run(fmt.kind, data)
    for seed in range(10):
        cuts = random.Random(seed).sample(range(1, len(data)), 8)  # inside UTF-8 characters too
        assert run(fmt.kind, data, cuts)[0] == expected


def test_plain_words_go_out_without_waiting_for_the_stream() -> None:
    redactor = StreamRedactor(PLAN, ROUTE, "sse")
    sent = [redactor.feed(_openai(part)) for part in ["Hello", " world", " and", " more"]]
    assert sent[0] == sent[1] == b""  # "Hello" could still be an address's first half, then "world"
    assert deltas(FORMATS["openai"], sent[2]) == ["Hello"]
    assert deltas(FORMATS["openai"], sent[3]) == [" world"]


def test_digits_are_held_until_the_value_ends_and_no_longer() -> None:
    redactor = StreamRedactor(PLAN, ROUTE, "sse")
    sent = [redactor.feed(_openai(part)) for part in ["pay with 4111", " 1111 1111", " 1111", " today", " ok", " fine"]]
    assert not any(sent[:5])  # the first event holds "with 4111": a cut needs two plain words
    assert deltas(FORMATS["openai"], sent[5]) == ["pay with [REDACTED:CREDIT_CARD]", "", "", " today"]


def test_held_text_is_bounded_by_the_window() -> None:
    redactor = StreamRedactor(PLAN, ROUTE, "sse", max_window=64)
    released = 0
    for i in range(200):
        released += len("".join(deltas(FORMATS["openai"], redactor.feed(_openai(f"{i % 10}")))))
        # The window, plus the look-ahead that shows whether a value runs across its forced cut.
        assert i + 1 - released <= 64 + redactor.look_behind


def test_a_ping_between_deltas_does_not_end_the_text() -> None:
    fmt = FORMATS["anthropic"]
    data = fmt.event("write jane.doe@exa") + b'event: ping\ndata: {"type": "ping"}\n\n' + fmt.event("mple.com now") + fmt.end
    out, _ = run("sse", data)
    assert "".join(deltas(fmt, out)) == "write [REDACTED:EMAIL] now"
    assert out.index(b"ping") > out.index(b"[REDACTED:EMAIL]")  # lines keep their order


def test_choices_are_separate_channels_even_at_the_same_list_position() -> None:
    def choice(index: int, text: str) -> bytes:
        return b"data: " + orjson.dumps({"choices": [{"index": index, "delta": {"content": text}}]}) + b"\n\n"
    data = choice(0, "mail jane.doe@") + choice(1, "call +1 415 ") + choice(0, "example.com ok") + choice(1, "555 0100 ok")
    out, _ = run("sse", data + b"data: [DONE]\n\n")
    texts: dict[int, str] = {0: "", 1: ""}
    for line in out.splitlines():
        if line.startswith(b"data: {"):
            item = orjson.loads(line[6:])["choices"][0]
            texts[item["index"]] += item["delta"]["content"]
    assert texts == {0: "mail [REDACTED:EMAIL] ok", 1: "call [REDACTED:PHONE] ok"}


def test_unsent_holds_every_held_line_as_it_came() -> None:
    redactor = StreamRedactor(PLAN, ROUTE, "sse")
    first = _openai("mail jane.doe@exa")
    assert redactor.feed(first) == b""
    assert redactor.unsent == first
    redactor.feed(b"data: {")
    assert redactor.unsent == first + b"data: {"


def test_text_kind_is_line_redaction() -> None:
    data = b"one jane.doe@example.com\ntwo\n"
    assert run("text", data)[0] == LineRedactor(PLAN, ROUTE, "text").feed(data)


@pytest.mark.parametrize(
    ("path", "steps"),
    [("choices[].delta.content", ("choices", "[]", "delta", "content")), ("delta", ("delta",)), ("a[][]", ("a", "[]", "[]"))],
)
def test_delta_paths_parse(path: str, steps: tuple[str, ...]) -> None:
    assert parse_path(path) == steps


@pytest.mark.parametrize("path", ["", "a..b", "[]", "a.[]"])
def test_bad_delta_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="delta field path"):
        parse_path(path)


def test_delta_fields_are_configurable() -> None:
    fields = DeltaFields(paths=("out.piece",), end_types=frozenset({"fin"}))
    data = b"".join(b"data: " + orjson.dumps({"out": {"piece": p}}) + b"\n" for p in ["to jane.doe@ex", "ample.com ok"])
    out, _ = run("sse", data + b'data: {"type":"fin"}\n', fields=fields)
    assert b"jane.doe" not in out and b"[REDACTED:EMAIL]" in out
    out, _ = run("sse", data, fields=DeltaFields(paths=()))  # no channels: each line alone
    assert b"jane.doe" in out


def test_a_detect_mode_policy_counts_split_values_without_changing_them() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: {detectors: [EMAIL]}\n")
    redactor = StreamRedactor(plan, ROUTE, "sse")
    data = stream(FORMATS["openai"], ["to jane.doe@exa", "mple.com ok"])
    out = redactor.feed(data) + redactor.close()
    assert out == data and sum(redactor.counts.values()) == 1


# -- properties -------------------------------------------------------------------------

WORDS = ["the", "reply", "Hello,", "is", "at", "and", "A", "call", "me", "card:", "Zoë", "🙂", "x", "42", "—", "\n", "SSN"]


@st.composite
def seeded_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    words = draw(st.lists(st.sampled_from(WORDS), max_size=25))
    seeds = draw(st.lists(st.sampled_from(list(SEEDS)), min_size=1, max_size=3))
    for seed in seeds:
        words.insert(draw(st.integers(0, len(words))), SEEDS[seed])
    text = " ".join(words)
    return text, [SEEDS[seed] for seed in seeds]


@settings(max_examples=150, deadline=None)
@given(
    seeded=seeded_texts(),
    name=st.sampled_from(list(FORMATS)),
    data=st.data(),
)
def test_no_split_lets_a_value_through_and_every_split_gives_the_same_text(
    seeded: tuple[str, list[str]], name: str, data: st.DataObject
) -> None:
    text, values = seeded
    expected = whole(text)
    assume(not any(value in expected for value in values))  # the plan finds them in the whole text
    fmt = FORMATS[name]
    outputs = []
    for _ in range(2):
        cuts = data.draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=12))
        raw = stream(fmt, pieces(text, cuts))
        chunks = data.draw(st.lists(st.integers(1, len(raw) - 1), max_size=6))
        out, _ = run(fmt.kind, raw, chunks)
        got = deltas(fmt, out)
        for value in values:
            assert value not in out.decode("utf-8") and all(value not in piece for piece in got)
        outputs.append("".join(got))
    assert outputs[0] == outputs[1] == expected
