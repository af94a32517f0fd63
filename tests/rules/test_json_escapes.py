"""Bodies with escapes take the splice path, decide what their text says, and agree with the walk.

Real JSON is full of escapes: newlines and quotes in free text, ``\\uXXXX`` from
encoders that write ASCII only, surrogate pairs for emoji. The splice path reads
such a body through its masked copy and decodes every string that holds an
escape; these tests hold it to the reference walk on random documents written
with random escapes, and check that no escape, around or inside a value, lets
the value through.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.rules.test_json_splice import CLASSIFIED_KEYS, CONTEXT_KEYS, CUSTOM, FIELDS, ODD_KEYS
from tests.strategies import NEUTRAL_KEYS, NEUTRAL_WORDS, PII_VALUES
from veil import compile_policy, default_plan
from veil.rules.json_bytes import mask_escapes
from veil.rules.json_splice import splice_json
from veil.rules.json_walk import redact_document

JSON = "application/json"
FIELD_NAMES_ONLY = compile_policy("version: 1\nrules:\n  - id: names\n    classify: {action: redact}\n")

# Pieces that make an encoder write escapes: quotes, backslashes, control characters,
# and text outside ASCII (a surrogate pair for the emoji when written as \u escapes).
ESCAPY = ['"quoted"', "back\\slash", "line\nbreak", "x\nORD-1234", "ORD-1234\n", '"ORD-1234"', "\nborn 1990-01-02", "tab\there", "\r\n", "\x00", "\u2028", "é", "日本", "😀", '\\"', "/"]
SEPARATORS = [" ", "\n", '"', "\t", " \\ ", "é", "😀", "\u00a0"]


@st.composite
def escaped_text(draw: st.DrawFn, pii: bool = True) -> str:
    words = NEUTRAL_WORDS + ESCAPY + ((PII_VALUES + ["ORD-1234", "born 1990-01-02"]) if pii else [])
    pieces = draw(st.lists(st.sampled_from(words), max_size=5))
    out = ""
    for piece in pieces:
        out += (draw(st.sampled_from(SEPARATORS)) if out else "") + piece
    return out


keys = st.sampled_from(NEUTRAL_KEYS + CLASSIFIED_KEYS + CONTEXT_KEYS + ODD_KEYS + ['a"b', "k\\ey", "line\nkey", "ema\u0131l"])
numbers = st.integers(-(10**17), 10**17) | st.sampled_from([4111111111111111, 123456789, 0.5])
leaves = escaped_text() | numbers | st.booleans() | st.none()
docs = st.recursive(
    leaves, lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=5), max_leaves=20
).filter(lambda d: isinstance(d, (dict, list)))


def encode(doc: Any, rng: random.Random, rate: float) -> bytes:
    """JSON for ``doc`` with each character of each string written as a ``\\u`` escape at ``rate``
    (quotes, backslashes and control characters always escaped, in one of their forms)."""

    def string(s: str) -> str:
        out = ['"']
        for ch in s:
            code = ord(ch)
            if ch in '"\\' and rng.random() >= rate:
                out.append("\\" + ch)
            elif ch == "\n" and rng.random() >= rate:
                out.append("\\n")
            elif code < 0x20 or ch in '"\\' or rng.random() < rate:
                if code > 0xFFFF:  # a surrogate pair
                    code -= 0x10000
                    out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
                else:
                    out.append(f"\\u{code:04x}" if rng.random() < 0.5 else f"\\u{code:04X}")
            elif ch == "/" and rng.random() < 0.5:
                out.append("\\/")
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)

    def value(v: Any) -> str:
        if isinstance(v, str):
            return string(v)
        if isinstance(v, dict):
            return "{" + ", ".join(f"{string(k)}: {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ",".join(value(x) for x in v) + "]"
        return orjson.dumps(v).decode()

    return value(doc).encode("utf-8")


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in [key, *_keys(v)]]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def _needs_the_walk(view: Any, doc: Any) -> bool:
    """The documented reasons the splice path hands a valid body to the walk: a key a detector
    finds something in (the walk renames keys), or parent lookups dense enough to cost more."""
    keys = _keys(doc)
    if view.everywhere:
        full = view.scope(view.everywhere)
        if any(any(not view.allows(k[h.start : h.end]) for h in full.detectors.scan([k], [""])) for k in keys):
            return True
    return view.classifier is not None and sum(map(view.classifier.parent_matters, keys)) > 16


def _agree(plan: Any, body: bytes) -> None:
    view = plan.view(None, JSON)
    spliced = splice_json(view, body)
    walked, findings, changed = redact_document(view, orjson.loads(body), None)
    if spliced is None:
        # Escapes are no reason to leave the splice path: only the documented ones are.
        assert _needs_the_walk(view, orjson.loads(body))
        return
    out, report, spliced_changed = spliced
    assert orjson.loads(out) == walked
    assert sorted(map(repr, report.findings)) == sorted(map(repr, findings))
    assert spliced_changed == changed
    if not changed:
        assert out is body


@given(docs, st.randoms(use_true_random=False), st.sampled_from([0.0, 0.1, 1.0]))
def test_escaped_bodies_give_what_the_walk_gives_with_the_default_policy(doc: Any, rng: random.Random, rate: float) -> None:
    _agree(default_plan(), encode(doc, rng, rate))


@given(docs, st.randoms(use_true_random=False), st.sampled_from([0.0, 0.2]))
def test_escaped_bodies_give_what_the_walk_gives_with_custom_rules(doc: Any, rng: random.Random, rate: float) -> None:
    _agree(CUSTOM, encode(doc, rng, rate))


@given(docs, st.randoms(use_true_random=False))
def test_escaped_bodies_give_what_the_walk_gives_with_field_names_only(doc: Any, rng: random.Random) -> None:
    _agree(FIELD_NAMES_ONLY, encode(doc, rng, 0.2))


@given(docs, st.randoms(use_true_random=False), st.sampled_from([0.0, 0.2, 1.0]))
def test_escaped_bodies_give_what_the_walk_gives_with_field_selectors(doc: Any, rng: random.Random, rate: float) -> None:
    # Keys written with escapes (``"e\\u006dail"``) are found by their text, and their path read through
    # escaped keys above them. A body the splice path leaves to the walk without escapes (a selector or
    # a class ending at a container) is left to it with them too; any other is spliced.
    if splice_json(FIELDS.view(None, JSON), orjson.dumps(doc)) is not None:
        _agree(FIELDS, encode(doc, rng, rate))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@given(
    st.lists(st.tuples(escaped_text(pii=False), st.sampled_from(PII_VALUES), escaped_text(pii=False)),
             min_size=1, max_size=4),
    st.randoms(use_true_random=False),
    st.sampled_from([0.0, 0.3, 1.0]),
)
def test_no_seeded_value_survives_any_escaping(parts: list[tuple[str, str, str]], rng: random.Random, rate: float) -> None:
    """Escapes around a value (a newline, a quote, an emoji right before it) and inside it
    (``jane\\u002eroe\\u0040example.com``) never let it through, in any decoding of the output."""
    # Separated from their neighbours by a space, as a writer would: glued to a word,
    # some values stop being values (a card number inside a longer run of digits).
    # Values side by side are the detectors' concern (tests/rules/detectors), not the escapes'.
    doc = {"items": [{"note": f"{before} {value} {after}"} for before, value, after in parts]}
    body = encode(doc, rng, rate)
    out = default_plan().redact_body(body, JSON).output
    decoded = orjson.loads(out)  # valid JSON
    for _, value, _ in parts:
        assert value.encode() not in out
        assert not any(value in s for s in _strings(decoded))


def _plant(doc: Any, notes: list[str], rng: random.Random) -> Any:
    """``doc`` with each of ``notes`` put in a container of it chosen at random (under a neutral key)."""
    containers: list[Any] = []
    todo = [doc]
    while todo:
        node = todo.pop()
        containers.append(node)
        todo.extend(v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list)))
    for n, note in enumerate(notes):
        target = rng.choice(containers)
        if isinstance(target, dict):
            target[f"remark {n}"] = note
        else:
            target.insert(rng.randint(0, len(target)), note)
    return doc


@settings(max_examples=200)
@given(
    docs,
    st.lists(st.tuples(escaped_text(pii=False), st.sampled_from(PII_VALUES), escaped_text(pii=False)),
             min_size=1, max_size=4),
    st.randoms(use_true_random=False),
    st.sampled_from([0.0, 0.3, 1.0]),
)
def test_seeded_values_in_random_documents_with_random_escapes(
    doc: Any, parts: list[tuple[str, str, str]], rng: random.Random, rate: float,
) -> None:
    """The three properties together, on random documents with the values planted anywhere in them and
    escapes everywhere: the output is valid JSON, it is what the walk gives (or the walk decides it, for
    a documented reason), and no seeded value is left in it in any decoding."""
    body = encode(_plant(doc, [f"{before} {value} {after}" for before, value, after in parts], rng), rng, rate)
    _agree(default_plan(), body)
    out = default_plan().redact_body(body, JSON).output
    decoded = orjson.loads(out)
    for _, value, _ in parts:
        assert value.encode() not in out
        assert not any(value in s for s in _strings(decoded))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # an escape inside the value cannot hide it
        (rb'{"note": "a\u0040b.com"}', {"note": "[REDACTED:EMAIL]"}),
        (rb'{"note": "jane\u002eroe\u0040example\u002Ecom"}', {"note": "[REDACTED:EMAIL]"}),
        # a newline escape right before the value is a boundary, not a letter ``n``
        (rb'{"note": "line\njane@example.com"}', {"note": "line\n[REDACTED:EMAIL]"}),
        # quoted inside the text
        (rb'{"note": "he said \"4111 1111 1111 1111\" twice"}', {"note": 'he said "[REDACTED:CREDIT_CARD]" twice'}),
        # a surrogate pair right before the value
        (rb'{"note": "\ud83d\ude00 jane@example.com"}', {"note": "\U0001F600 [REDACTED:EMAIL]"}),
        # a key written with escapes is the key it decodes to
        (rb'{"e\u006dail": "x"}', {"email": "[REDACTED:EMAIL]"}),
        # an escaped backslash before a quote ends the string where the parser says
        (rb'{"a": "c:\\", "email": "jane@example.com"}', {"a": "c:\\", "email": "[REDACTED:EMAIL]"}),
        # escapes elsewhere in the body: a plain value is still found
        (rb'{"a": "x\ty", "note": "call +44 20 7946 0958"}', {"a": "x\ty", "note": "call [REDACTED:PHONE]"}),
    ],
)
def test_escaped_values_are_decoded_decided_and_rewritten(body: bytes, expected: Any) -> None:
    view = default_plan().view(None, JSON)
    spliced = splice_json(view, body)
    assert spliced is not None, "the splice path takes bodies with escapes"
    assert orjson.loads(spliced[0]) == expected


@pytest.mark.parametrize(
    "body",
    [
        rb'{"a": "\u004fRD-1234"}',  # a whole-string pattern, the string escaped
        rb'{"x": "a\nb", "a": "\u004fRD-1234"}',  # the same after another escaped string
        rb'{"x": "a\nb", "a": "\u004fRD-1234", "y": "c\td"}',  # and before a third
        rb'["\n", "\u004fRD-1234", "\n"]',
    ],
)
def test_a_pattern_anchored_at_the_start_of_an_escaped_string_is_found(body: bytes) -> None:
    """Each escaped text is searched from its own opening quote, which a leading edge takes."""
    out = orjson.loads(CUSTOM.redact_body(body, JSON).output)
    strings = _strings(out)
    assert "ORD-1234" not in strings and "[REDACTED:ORDER_REF]" in strings


def test_untouched_escaped_strings_keep_their_bytes() -> None:
    body = rb'{"a": "caf\u00e9 \"ok\"\n", "b": "\/path", "email": "jane@example.com"}'
    out = default_plan().redact_body(body, JSON).output
    assert out == rb'{"a": "caf\u00e9 \"ok\"\n", "b": "\/path", "email": "[REDACTED:EMAIL]"}'


def test_an_unchanged_escaped_body_is_returned_as_is() -> None:
    body = rb'{"a": "caf\u00e9 \"ok\"\n", "n": [1, 2]}'
    result = default_plan().redact_body(body, JSON)
    assert result.output is body and not result.report.changed


def test_a_value_already_redacted_with_escapes_is_not_changed() -> None:
    body = rb'{"email": "\u005bREDACTED:EMAIL]"}'
    result = default_plan().redact_body(body, JSON)
    assert not result.report.changed and result.output is body
    assert [f.type for f in result.report.findings] == ["EMAIL"]


def test_paths_of_findings_in_escaped_bodies_name_the_decoded_keys() -> None:
    body = rb'{"a\"b": {"n\u006fte": "x\njane@example.com"}, "list": ["\t4111 1111 1111 1111"]}'
    report = default_plan().redact_body(body, JSON).report
    # 'a"b' is no name: masked (issue #15); 'n\u006fte' decodes to the name 'note'
    assert sorted(f.path for f in report.findings) == ["$.list[0]", "$[<key>].note"]


def test_the_masked_copy_keeps_structure_at_the_same_offsets() -> None:
    body = rb'{"k": "a\"b\\", "u": "\u0040"}'
    frame = mask_escapes(body)
    assert len(frame) == len(body)
    assert b'\\"' not in frame and b"\\\\" not in frame  # no escaped quote or backslash is left
    assert [i for i, c in enumerate(frame) if c == 0x22] == [1, 3, 6, 13, 16, 18, 21, 28]
    assert mask_escapes(b'{"a": 1}') == b'{"a": 1}'


@pytest.mark.parametrize(
    "content",
    [
        rb"\\",  # one escaped backslash
        rb"\"",  # one escaped quote
        rb"\\\"",  # an escaped backslash, then an escaped quote
        rb"\\\\",  # two escaped backslashes, the string's closing quote after them
        rb"a\\\\\"b",
        rb"\n\t\u0022\u005c",  # escapes of the same characters spelled as \u: left as written
        rb"\\n",  # an escaped backslash then a plain n (not a newline escape)
        rb"\/\b\f\r",
        rb"x\\\\\\\"",
    ],
)
def test_the_masked_copy_pairs_each_backslash_with_the_byte_after_it(content: bytes) -> None:
    body = b'{"k":"' + content + b'","v":"' + content + b'"}'
    orjson.loads(body)  # every case is valid JSON
    frame = mask_escapes(body)
    # What a parser does: left to right, a backslash and the byte after it are one escape.
    expected = bytearray(body)
    i = 0
    while i < len(body):
        if body[i] == 0x5C:
            if body[i + 1] in b'\\"':
                expected[i : i + 2] = b"\x01\x01"
            i += 2
        else:
            i += 1
    assert frame == bytes(expected)
    assert [i for i, c in enumerate(frame) if c == 0x22] == [1, 3, 5, 6 + len(content), 8 + len(content), 10 + len(content), 12 + len(content), 13 + 2 * len(content)]
