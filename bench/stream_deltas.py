"""Per-event cost of stream-aware redaction (StreamRedactor) against line-at-a-time (LineRedactor).

Both redact the same OpenAI-style SSE reply (the built-in default policy), one event per
few characters, with PII in some events; printed: microseconds per event for each, and how
many characters the stream-aware one held back on average when an event arrived.

    .venv/bin/python bench/stream_deltas.py [--events N] [--chars C] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import time

import orjson

from veil import Route, default_plan
from veil.rules.stream_redact import StreamRedactor
from veil.rules.streaming import LineRedactor

WORDS = ["the", "quick", "reply", "names", "a", "few", "things", "and", "then", "goes", "on", "about", "them", "at", "some", "length"]
PII = ["jane.doe@example.com", "4111 1111 1111 1111", "+1 415 555 0100", "078-05-1120"]


def reply(events: int, chars: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < events * chars:
        words.append(rng.choice(PII) if rng.random() < 0.03 else rng.choice(WORDS))
    text = " ".join(words)
    pieces = [text[i : i + chars] for i in range(0, len(text), chars)][:events]
    return [b"data: " + orjson.dumps({"id": "c1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}) + b"\n\n" for p in pieces]


def run(factory, lines: list[bytes]) -> tuple[float, bytes]:  # type: ignore[no-untyped-def]
    redactor = factory()
    started = time.perf_counter()
    out = [redactor.feed(line) for line in lines]
    out.append(redactor.close())
    return time.perf_counter() - started, b"".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--chars", type=int, default=4, help="characters of text per event")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plan, route = default_plan(), Route("response", content_type="text/event-stream")
    lines = reply(args.events, args.chars)
    kinds = {"LineRedactor": lambda: LineRedactor(plan, route, "sse"),
             "StreamRedactor": lambda: StreamRedactor(plan, route, "sse")}
    for factory in kinds.values():
        run(factory, lines)  # warm the plan's caches
    best = {name: min(run(factory, lines)[0] for _ in range(args.repeat)) for name, factory in kinds.items()}
    for name, seconds in best.items():
        print(f"{name:15s} {seconds / len(lines) * 1e6:8.1f} us/event  ({len(lines)} events of {args.chars} chars)")
    print(f"overhead        {(best['StreamRedactor'] - best['LineRedactor']) / len(lines) * 1e6:8.1f} us/event")
    held = []
    redactor = StreamRedactor(plan, route, "sse")
    for line in lines:
        redactor.feed(line)
        held.append(sum(len(channel.text()) for channel in redactor._channels.values()))
    print(f"held back       {sum(held) / len(held):8.1f} chars on average, {max(held)} at most")


if __name__ == "__main__":
    main()
