"""Streamed replies for ``bench/detection.py``: PII split across SSE delta events.

A reply text holding personal values is cut into OpenAI chat-completions chunks
(``{"choices":[{"index":0,"delta":{"content":...}}]}``) at every split point into two events, and
at random points into three to five, then fed event by event to veil's stream redactor for SSE.
A split leaks when a labelled value can be read in the text the client rebuilds from the deltas;
for each text, every split should give the same rebuilt text.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Protocol

import veil
from veil.rules.plan_types import Route

from detection_data import card, email_address, iban, phone, uk_nino, us_ssn
from detection_data_tokens import CATALOG, jwt


class StreamRedactor(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...
    def close(self) -> bytes: ...


@dataclass
class StreamScore:
    redactor: str = ""
    texts: int = 0
    streams: int = 0
    events: int = 0
    leaks: int = 0
    split_leaks: int = 0  # leaks of a value the unsplit reply does not leak: the split's own doing
    whole_leaks: int = 0  # replies that leak even unsplit (a detection miss, not a stream one)
    max_distinct: int = 0
    texts_differing: int = 0


def make_redactor(plan: veil.Plan) -> tuple[str, StreamRedactor]:
    """The stream-aware SSE redactor veil offers (the line redactor when there is no other)."""
    route = Route(direction="response")
    try:
        from veil.rules.stream_redact import StreamRedactor as Redactor  # issue #14's delta-aware redactor
    except ImportError:  # veil before it: one line at a time
        from veil.rules.streaming import LineRedactor as Redactor
    return f"{Redactor.__module__}.{Redactor.__name__}", Redactor(plan, route, "sse")


def chunk_event(piece: str, n: int) -> bytes:
    doc = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1750000000 + n, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
    return b"data: " + json.dumps(doc, ensure_ascii=False).encode() + b"\n\n"


def rebuild(output: bytes) -> str:
    """The reply text as a client rebuilds it: every data line's ``choices[0].delta.content`` joined."""
    text = []
    for line in output.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            continue
        try:
            doc: Any = json.loads(payload)
            text.append(doc["choices"][0]["delta"].get("content") or "")
        except (ValueError, KeyError, IndexError, TypeError):
            text.append(payload.decode(errors="replace"))
    return "".join(text)


def run(plan: veil.Plan, pieces: list[str]) -> bytes:
    _, redactor = make_redactor(plan)
    out = [redactor.feed(chunk_event(p, i)) for i, p in enumerate(pieces)]
    out.append(redactor.feed(b"data: [DONE]\n\n"))
    out.append(redactor.close())
    return b"".join(out)


def replies(rng: random.Random) -> list[tuple[str, list[str]]]:
    """Reply texts with the values they carry."""
    e, c, p, s, i = email_address(rng), card(rng)[0], phone(rng)[0], us_ssn(rng)[0], iban(rng)[0]
    jwt_, p2, nino = jwt(rng)[0], phone(rng)[0], uk_nino(rng)[0]
    token = rng.choice([f for f in CATALOG if not f.needs_context]).make(rng)
    return [
        (f"Sure! I've updated the record: email {e}, and we'll call {p} tomorrow.", [e, p]),
        (f"The card on file is {c}. Want me to replace it?", [c]),
        (f"Your SSN is {s}; please keep it private.", [s]),
        (f"Transfer to IBAN {i} was scheduled.", [i]),
        (f"Use this key in the header: {token}", [token]),
        (f"Here is your session token {jwt_} (valid for one hour).", [jwt_]),
        (f"Mobile:{p2} / NI number {nino}.", [p2, nino]),
    ]


def split_points(rng: random.Random, text: str, quick: bool) -> list[list[str]]:
    n = len(text)
    cuts = range(1, n) if not quick else sorted(rng.sample(range(1, n), min(12, n - 1)))
    splits = [[text[:k], text[k:]] for k in cuts]
    for _ in range(6 if quick else 40):
        points = sorted(rng.sample(range(1, n), rng.randint(2, 4)))
        bounds = [0, *points, n]
        splits.append([text[a:b] for a, b in zip(bounds, bounds[1:])])
    return splits


def score_streams(plan: veil.Plan, seed: int, quick: bool = False) -> StreamScore:
    rng = random.Random(seed + 2)
    score = StreamScore(redactor=make_redactor(plan)[0])
    for text, values in replies(rng):
        score.texts += 1
        whole = rebuild(run(plan, [text]))
        missed_whole = {v for v in values if v in whole}
        score.whole_leaks += bool(missed_whole)
        outputs = set()
        for pieces in split_points(rng, text, quick):
            raw = run(plan, pieces)
            rebuilt = rebuild(raw)
            score.streams += 1
            score.events += len(pieces) + 1
            if any(v in rebuilt for v in values):
                score.leaks += 1
                score.split_leaks += any(v in rebuilt for v in values if v not in missed_whole)
            outputs.add(rebuilt)
        score.max_distinct = max(score.max_distinct, len(outputs))
        score.texts_differing += outputs != {whole}
    return score
