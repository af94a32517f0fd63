"""Find detector hits in a JSON body's raw bytes, without building a scan queue.

For a body with no backslash, every string's content stands in the raw bytes
exactly as it decodes, delimited by quotes; so one RE2 pass over the body finds
the candidate positions, quote parity says which string each one falls in, and the scanner decides each candidate inside that string with the
same anchored checks it uses everywhere else. The result is keyed by what the
JSON walk sees (the string and its field name, the key, the number's value):
the walk then rewrites values by lookup instead of queueing every string.

Semantics match ``DetectorSet.scan`` on each string: candidates are a superset
of the positions where a detector can match in the string (``^``/``$`` also
match at the quotes), and every decision runs on the string's own bytes.
Bodies with backslashes take the queue path: escapes change the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from veil.rules.json_bytes import WS, key_before
from veil.rules.normalize import needs_normalizing
from veil.rules.scanner import DetectorSet, Outcome

Spans = list[tuple[int, int, int]]
"""(start, end, detector index) in ``str`` offsets of the decoded text."""

NUMBER_START = b"-0123456789"
NUMBER_CHARS = frozenset(b"-+.eE0123456789")
_QUOTE = 0x22
_COLON = 0x3A


@dataclass(slots=True)
class RawHits:
    values: dict[str, dict[str, Spans]] = field(default_factory=dict)
    """string value -> field name -> hits (the field is "" for list items): two levels, so
    that the JSON walk looks most strings up once, without building a tuple."""
    keys: dict[str, Spans] = field(default_factory=dict)


def scan_json_body(detectors: DetectorSet, body: bytes) -> RawHits:
    """Detector hits for every string and key of ``body`` (which has no backslash)."""
    hits = RawHits()
    candidate = detectors.raw_candidate
    if candidate is None:
        return hits
    n = len(body)
    memo: dict[tuple[bytes, int, str], Outcome] = {}
    tokens: dict[int, tuple[int, bytes, str, str, bool, Spans]] = {}  # start -> (end, local, text, field, is_key, spans)
    counted_to = 0
    quotes = 0
    pos = 0
    candidates = candidate.cursor(body)
    while pos < n:
        p = candidates.next(pos)
        if p < 0:
            break
        quotes += body.count(b'"', counted_to, p)
        counted_to = p
        inside = quotes & 1
        if body[p] == _QUOTE:
            if inside:  # a closing quote: nothing starts here
                pos = p + 1
                continue
            s = p + 1  # an opening quote stood in for '^': the string starts after it
        elif inside:
            s = body.rfind(b'"', 0, p) + 1
        else:
            # Numbers are scanned by the walk from their value (raw forms such as
            # 4.1e15 would hide digits); skip the whole token here.
            pos = _after_number(body, p)
            continue
        token = tokens.get(s)
        if token is None:
            e = body.find(b'"', s)
            local = body[s:e]
            is_key, fname = role_of(body, s, e)
            text = local.decode("utf-8")
            if needs_normalizing(text):  # scanned whole, normalized: offsets in its bytes do not apply
                found = [(h.start, h.end, h.detector) for h in detectors.scan([text], [fname])]
                tokens[s] = (e, local, text, fname, is_key, found)
                pos = e + 1
                continue
            token = (e, local, text, fname, is_key, [])
            tokens[s] = token
        e, local, text, fname, _, spans = token
        lp = p - s if p >= s else 0
        key = (local, lp, fname)
        outcome = memo.get(key)
        if outcome is None:
            outcome = detectors.decide(local, lp, text, fname, local.isascii())
            memo[key] = outcome
        recorded, consumed = outcome
        spans.extend(recorded)
        if consumed > lp:
            pos = s + consumed
        else:
            pos = max(p, s - 1) + 1
            while pos < n and 0x80 <= body[pos] < 0xC0:
                pos += 1
    for e, _, text, fname, is_key, spans in tokens.values():
        if spans:
            if is_key:
                hits.keys[text] = spans
            else:
                hits.values.setdefault(text, {})[fname] = spans
    return hits


def role_of(body: bytes, s: int, e: int) -> tuple[bool, str]:
    """(is this string a key, the field name holding it) for the string at [s, e)."""
    j = e + 1
    while j < len(body) and body[j] in WS:
        j += 1
    if j < len(body) and body[j] == _COLON:
        return True, ""
    j = s - 2
    while j >= 0 and body[j] in WS:
        j -= 1
    if j >= 0 and body[j] == _COLON:
        return False, key_before(body, body, j)
    return False, ""


def _after_number(body: bytes, p: int) -> int:
    """End of the number token at ``p`` or right after it; else ``p + 1``."""
    end = p if body[p] in NUMBER_START else p + 1
    if end >= len(body) or body[end] not in NUMBER_START:
        return p + 1
    while end < len(body) and body[end] in NUMBER_CHARS:
        end += 1
    return end
