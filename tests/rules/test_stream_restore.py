"""StreamRestorer: tokens restored in SSE and NDJSON replies, also when split across events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import Tokenize, partial_token_start
from veil.rules.restore import Restorer
from veil.rules.stream_restore import StreamRestorer

from tests.rules.vendor_plan import VENDOR_ROUTE, vendor_restore_plan

RING = Keyring({"k1": bytes(32)}, active="k1")
RESTORER = Restorer(((RING, ("",)),))
EMAIL = "jane@example.com"
TOKEN = Tokenize(RING).apply(EMAIL, "EMAIL")
VALUES = [EMAIL, "4111 1111 1111 1111", 'a"b\\c', "Zoë 🙂"]
TOKENS = {Tokenize(RING).apply(value, "CUSTOM"): value for value in VALUES}


class Format(NamedTuple):
    """How a vendor wraps one piece of streamed text, and where the text sits."""

    kind: str
    event: Callable[[str], bytes]
    path: tuple[str | int, ...]


def _openai(text: str) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "service_tier": "default",
             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _anthropic(text: str) -> bytes:
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
    return b"event: content_block_delta\ndata: " + orjson.dumps(delta) + b"\n\n"


def _ollama(text: str) -> bytes:
    return orjson.dumps({"model": "m", "message": {"role": "assistant", "content": text}, "done": False}) + b"\n"


FORMATS = {
    "openai": Format("sse", _openai, ("choices", 0, "delta", "content")),
    "anthropic": Format("sse", _anthropic, ("delta", "text")),
    "plain": Format("sse", lambda text: f"data: {text}\n\n".encode(), ()),
    "ndjson": Format("ndjson", _ollama, ("message", "content")),
}
OPENAI_END = b'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


def run(stream: bytes, kind: str, restorer: StreamRestorer | None = None) -> tuple[bytes, StreamRestorer]:
    """Feed the stream line by line, as LineRedactor would, then close."""
    restore = restorer or StreamRestorer(RESTORER, kind)
    out = b"".join(restore.feed(line) for line in stream.splitlines(keepends=True))
    return out + restore.close(), restore


def texts(fmt: Format, stream: bytes) -> list[str]:
    """The text field of every payload line that has one."""
    found = []
    for line in stream.splitlines():
        if fmt.kind == "sse" and not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        payload = line[6:] if fmt.kind == "sse" else line
        node: Any = payload.decode() if fmt.path == () else orjson.loads(payload)
        try:
            for key in fmt.path:
                node = node[key]
        except KeyError:
            continue  # a finish event: no text
        found.append(node)
    return found


def events(fmt: Format, text: str, cuts: list[int]) -> bytes:
    bounds = [0, *cuts, len(text)]
    return b"".join(fmt.event(text[a:b]) for a, b in zip(bounds, bounds[1:]))


# -- partial_token_start ---------------------------------------------------------------------


def test_every_proper_prefix_of_a_token_is_partial_where_it_starts() -> None:
    for cut in range(1, len(TOKEN)):
        assert partial_token_start("mail " + TOKEN[:cut]) == 5, TOKEN[:cut]


@pytest.mark.parametrize(
    "text, start",
    [
        (TOKEN, None),  # complete
        (f"{TOKEN} and", None),  # complete, text after it
        (f"{TOKEN}t", len(TOKEN)),  # a glued token may start after a complete one
        ("tok_email", None),  # the type is upper case
        ("tok_EMAIL_k1_q", 0),  # format 2's version letter: its length prefix may follow
        ("tok_EMAIL_k1_qq", None),  # then a leading zero digit: never a canonical length
        ("tok_EMAIL_k1_" + "a" * 60, None),  # payload longer than its length prefix says
        ("tok_EMAIL_k1_rrrrrrrr", None),  # more length digits than a token ever has
        ("stop", None),  # ends in neither t, to nor tok
        ("", None),  # empty
        ("at", 1),  # may be the t of tok
        ("into", 2),
        ("tok", 0),
        ("tok_", 0),
        ("tok_EMAIL_", 0),
        ("tok_EMAIL_k1", 0),
        ("see tok_EMAIL_tok_", 4),  # a key id ending in 'tok': the earliest start counts
    ],
)
def test_partial_token_start(text: str, start: int | None) -> None:
    assert partial_token_start(text) == start


# -- whole tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_a_token_inside_one_event_is_restored(name: str) -> None:
    fmt = FORMATS[name]
    out, restore = run(fmt.event(f"Mail {TOKEN} now"), fmt.kind)
    assert out == fmt.event(f"Mail {EMAIL} now")
    assert restore.restored == 1


def test_a_restored_value_is_json_escaped() -> None:
    token = next(t for t, v in TOKENS.items() if v == 'a"b\\c')
    out, _ = run(_openai(f"x {token} y"), "sse")
    assert texts(FORMATS["openai"], out) == ['x a"b\\c y']


def test_an_ndjson_line_that_is_not_an_object_still_gets_json_escaped_values() -> None:
    token = next(t for t, v in TOKENS.items() if v == 'a"b\\c')
    out, restore = run(f'"x {token}"\n'.encode(), "ndjson")
    assert orjson.loads(out) == 'x a"b\\c' and restore.restored == 1


def test_a_value_that_orjson_cannot_write_is_written_by_json() -> None:
    """A lone surrogate: what a value read from a request that was not UTF-8 holds."""
    token = Tokenize(RING).apply("caf\udce9", "NAME")
    out, _ = run(_openai(token[:20]) + _openai(token[20:]), "sse")
    assert json.loads(out.splitlines()[0][6:])["choices"][0]["delta"]["content"] == "caf\udce9"


def test_only_sse_and_ndjson_are_streams_it_knows() -> None:
    with pytest.raises(ValueError, match=r"^kind must be 'sse' or 'ndjson', got 'text'$"):
        StreamRestorer(RESTORER, "text")


# -- split tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_a_token_split_across_two_events_is_restored_where_it_starts(name: str) -> None:
    fmt = FORMATS[name]
    out, restore = run(fmt.event(f"Mail {TOKEN[:10]}") + fmt.event(f"{TOKEN[10:]} now"), fmt.kind)
    assert out == fmt.event(f"Mail {EMAIL}") + fmt.event(" now")
    assert restore.restored == 1


@pytest.mark.parametrize("name", FORMATS)
def test_a_token_split_at_any_two_points_is_restored(name: str) -> None:
    fmt = FORMATS[name]
    text = f"Hi {TOKEN}!"
    for i in range(1, len(text)):
        for j in range(i, len(text)):
            out, restore = run(events(fmt, text, [i, j]), fmt.kind)
            assert "".join(texts(fmt, out)) == f"Hi {EMAIL}!", (i, j)
            assert len(texts(fmt, out)) == 3 and restore.restored == 1


@pytest.mark.parametrize("name", FORMATS)
def test_a_token_streamed_four_characters_per_event_is_restored(name: str) -> None:
    """The realistic LLM case: a token spread over a dozen events, next to prose and a second token."""
    fmt = FORMATS[name]
    card = next(t for t, v in TOKENS.items() if v.startswith("4111"))
    text = f"Write to {TOKEN}, card {card}. Thanks"
    stream = events(fmt, text, list(range(4, len(text), 4)))
    out, restore = run(stream, fmt.kind)
    assert "".join(texts(fmt, out)) == f"Write to {EMAIL}, card 4111 1111 1111 1111. Thanks"
    assert len(texts(fmt, out)) == len(texts(fmt, stream))
    assert restore.restored == 2


def test_a_split_token_before_the_finish_event_and_done() -> None:
    fmt = FORMATS["openai"]
    text = f"Bye {TOKEN}"
    out, restore = run(events(fmt, text, list(range(4, len(text), 4))) + OPENAI_END, "sse")
    assert "".join(texts(fmt, out)) == f"Bye {EMAIL}"
    assert out.endswith(OPENAI_END) and restore.restored == 1


def test_an_event_without_the_field_releases_a_token_cut_short_unchanged() -> None:
    restore = StreamRestorer(RESTORER, "sse")
    held = _openai(f"Bye {TOKEN[:20]}") + _openai(TOKEN[20:40])
    assert restore.feed(held) == b""
    assert restore.feed(OPENAI_END) == held + OPENAI_END  # the finish event ends the text


def test_lines_wait_only_while_a_token_may_be_completing() -> None:
    restore = StreamRestorer(RESTORER, "sse")
    event = b"event: content_block_delta\n"
    assert restore.feed(_anthropic(f"Mail {TOKEN[:7]}")) == event  # the data line is held
    released = restore.feed(_anthropic(TOKEN[7:]))
    assert released == _anthropic(f"Mail {EMAIL}").removeprefix(event) + _anthropic("")
    assert restore.feed(_anthropic("done.")) == _anthropic("done.")


def test_a_field_ending_in_t_in_every_event_does_not_hide_a_split_token() -> None:
    """OpenAI's "service_tier": "default" ends in t: that field is its own channel."""
    fmt = FORMATS["openai"]
    text = f"at {TOKEN} at"
    out, _ = run(events(fmt, text, [2, 9, 30, 60]), "sse")
    assert "".join(texts(fmt, out)) == f"at {EMAIL} at"
    tiers = [orjson.loads(line[6:])["service_tier"] for line in out.splitlines() if line.startswith(b"data: ")]
    assert tiers == ["default"] * 5


def test_crlf_line_endings_are_kept() -> None:
    stream = (_anthropic(f"Mail {TOKEN[:30]}") + _anthropic(TOKEN[30:])).replace(b"\n", b"\r\n")
    expected = (_anthropic(f"Mail {EMAIL}") + _anthropic("")).replace(b"\n", b"\r\n")
    assert run(stream, "sse")[0] == expected


def test_a_restored_line_break_in_plain_text_becomes_another_data_line() -> None:
    token = Tokenize(RING).apply("1 Main St\nSpringfield", "ADDRESS")
    out, _ = run(f"data: at {token[:40]}\n\ndata: {token[40:]}!\n\n".encode(), "sse")
    assert out == b"data: at 1 Main St\ndata: Springfield\n\ndata: !\n\n"


# -- near misses: nothing to restore, bytes unchanged ------------------------------------------------

OTHER_KEY = Tokenize(Keyring({"k9": bytes(range(32))}, active="k9")).apply(EMAIL, "EMAIL")
OTHER_SCOPE = Tokenize(RING, scope="tenant-b").apply(EMAIL, "EMAIL")
ENDLESS = "tok_EMAIL_k1_zzzzzzzp"  # its length prefix promises far more payload than ever comes


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize(
    "pieces",
    [
        ["Wait", " what"],  # ends in t, goes on as prose
        ["I went to", "day"],  # "to" then "today"
        ["a tok", "en"],
        ["see tok_", "en route"],
        ["tok_EMA", "IL is"],  # type, then a space
        [f"x {OTHER_KEY[:30]}", OTHER_KEY[30:]],  # unknown key id
        [f"x {OTHER_SCOPE[:30]}", OTHER_SCOPE[30:], " y"],  # made for another scope
        ["x " + TOKEN[:20], TOKEN[20:40]],  # cut short by the end of the stream
        [ENDLESS, "abcd", "efgh"],  # never completes: close releases it
    ],
)
def test_near_misses_go_on_byte_for_byte(name: str, pieces: list[str]) -> None:
    fmt = FORMATS[name]
    stream = b"".join(fmt.event(piece) for piece in pieces)
    out, restore = run(stream, fmt.kind)
    assert out == stream and restore.restored == 0


def test_held_lines_are_released_once_max_held_lines_is_passed() -> None:
    restore = StreamRestorer(RESTORER, "ndjson", max_held_lines=3)
    lines = [_ollama(ENDLESS)] + [_ollama("abcd")] * 3
    assert [restore.feed(line) for line in lines] == [b"", b"", b"", b"".join(lines)]
    assert restore.close() == b""


def test_held_bytes_stay_within_max_held_bytes() -> None:
    restore = StreamRestorer(RESTORER, "sse", max_held_bytes=300)
    stream = _anthropic(ENDLESS) + _anthropic("abcd") * 5
    fed = out = b""
    for line in stream.splitlines(keepends=True):
        fed += line
        out += restore.feed(line)
        assert len(fed) - len(out) <= 300
    assert out + restore.close() == stream


# -- properties -----------------------------------------------------------------------------------

filler = st.text(alphabet="tok_EMAIL1 é🙂\"\\", max_size=12)


@st.composite
def split_text(draw: st.DrawFn, pieces: st.SearchStrategy[str]) -> tuple[str, list[int]]:
    text = "".join(draw(st.lists(pieces, max_size=7)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    return text, cuts


@given(st.sampled_from(sorted(FORMATS)), split_text(filler))
def test_a_stream_without_tokens_goes_on_byte_for_byte(name: str, case: tuple[str, list[int]]) -> None:
    fmt = FORMATS[name]
    stream = events(fmt, *case)
    assert run(stream, fmt.kind)[0] == stream


@given(st.sampled_from(sorted(FORMATS)), split_text(filler | st.sampled_from(sorted(TOKENS))))
def test_split_tokens_are_restored_wherever_events_are_cut(name: str, case: tuple[str, list[int]]) -> None:
    fmt = FORMATS[name]
    stream = events(fmt, *case)
    out, restore = run(stream, fmt.kind)
    expected, count = RESTORER.restore_text(case[0])
    assert "".join(texts(fmt, out)) == expected
    assert len(texts(fmt, out)) == len(texts(fmt, stream)) and restore.restored == count


@given(split_text(filler | st.sampled_from(sorted(TOKENS))), st.data())
def test_feeding_all_lines_at_once_or_in_batches_gives_the_same_output(
    case: tuple[str, list[int]], data: st.DataObject
) -> None:
    stream = events(FORMATS["anthropic"], *case)
    lines = stream.splitlines(keepends=True)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(lines)), max_size=5)))
    bounds = [0, *cuts, len(lines)]
    restore = StreamRestorer(RESTORER, "sse")
    batched = b"".join(restore.feed(b"".join(lines[a:b])) for a, b in zip(bounds, bounds[1:])) + restore.close()
    whole = StreamRestorer(RESTORER, "sse")
    assert batched == whole.feed(stream) + whole.close() == run(stream, "sse")[0]


# -- through a compiled policy ------------------------------------------------------------------------


def test_a_plan_restorer_restores_the_tokens_its_rules_made() -> None:
    plan = vendor_restore_plan()
    route = VENDOR_ROUTE
    prompt = plan.redact_text(f"write to {EMAIL}", route).text
    token = prompt.removeprefix("write to ")
    assert token.startswith("tok_EMAIL_k1_")
    restorer = plan.restorer(route)
    assert restorer is not None
    fmt = FORMATS["openai"]
    text = f"Sure, {token} it is"
    stream = events(fmt, text, list(range(4, len(text), 4))) + OPENAI_END
    out, restore = run(stream, "sse", StreamRestorer(restorer, "sse"))
    assert "".join(texts(fmt, out)) == f"Sure, {EMAIL} it is" and restore.restored == 1


def test_a_value_repeated_from_the_event_before_is_not_held() -> None:
    """ "service_tier": "default" ends in t on every OpenAI chunk; only the first chunk may wait for it."""
    restore = StreamRestorer(RESTORER, "sse")
    first, second, third = _openai("Hello"), _openai(" there"), _openai(" friend")
    assert restore.feed(first) == b""  # "default" might still be the start of a token
    assert restore.feed(second) == first + second  # the repeat settles it; nothing else waits
    assert restore.feed(third) == third
