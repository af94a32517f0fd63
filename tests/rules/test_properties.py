"""Engine properties: nothing leaks, nothing else changes, idempotent, total."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import documents, pii_text
from veil import RedactionError, default_plan

PLAN = default_plan()
MARK = "\x00pii\x00"  # placeholder leaf replaced by PII after generation


def _inject(doc: Any, texts: list[tuple[str, str]]) -> tuple[Any, list[str]]:
    """Replace MARK leaves with PII texts, returning the doc and the injected values."""
    injected: list[str] = []

    def walk(node: Any) -> Any:
        if node == MARK:
            text, value = texts[len(injected) % len(texts)]
            injected.append(value)
            return text
        if isinstance(node, list):
            return [walk(x) for x in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        return node

    return walk(doc), injected


def _same_except_marked(original: Any, redacted: Any) -> None:
    """Every leaf that was not a MARK must come back unchanged, in the same shape."""
    if original == MARK:
        return
    if isinstance(original, dict):
        assert isinstance(redacted, dict) and list(redacted) == list(original)
        for key in original:
            _same_except_marked(original[key], redacted[key])
    elif isinstance(original, list):
        assert isinstance(redacted, list) and len(redacted) == len(original)
        for a, b in zip(original, redacted):
            _same_except_marked(a, b)
    else:
        assert redacted == original


leaves_with_marks = st.one_of(st.just(MARK), st.text(alphabet="abc xyz", max_size=8), st.integers(-999, 999))


@given(documents(leaves_with_marks), st.lists(pii_text(), min_size=1, max_size=4))
def test_injected_pii_never_survives_and_nothing_else_changes(template: Any, texts: list[tuple[str, str]]) -> None:
    doc, injected = _inject(template, texts)
    body = orjson.dumps(doc)
    result = PLAN.redact_body(body, "application/json")
    out = orjson.loads(result.output)  # always valid JSON
    for value in injected:
        assert value not in result.output.decode()
    _same_except_marked(template, out)
    if not injected:
        assert result.output == body  # byte-identical when nothing is covered


@given(documents(leaves_with_marks), st.lists(pii_text(), min_size=1, max_size=3))
def test_redacting_twice_equals_redacting_once(template: Any, texts: list[tuple[str, str]]) -> None:
    doc, _ = _inject(template, texts)
    once = PLAN.redact_body(orjson.dumps(doc), "application/json").output
    twice = PLAN.redact_body(once, "application/json").output
    assert twice == once


@given(documents())
def test_pii_free_documents_come_back_byte_identical(doc: Any) -> None:
    body = orjson.dumps(doc)
    assert PLAN.redact_body(body, "application/json").output == body


@given(pii_text())
def test_json_escapes_do_not_hide_pii(item: tuple[str, str]) -> None:
    text, value = item
    escaped = "".join(f"\\u{ord(c):04x}" if c in "@.-: " else c for c in text)
    body = ('{"note": "' + escaped + '"}').encode()
    out = PLAN.redact_body(body, "application/json").output
    assert value not in orjson.loads(out)["note"]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_return_or_raise_veil_error(data: bytes) -> None:
    for ctype in ("application/json", "application/x-ndjson", "text/plain", "application/x-www-form-urlencoded", ""):
        try:
            PLAN.redact_body(data, ctype)
        except RedactionError:
            pass


@pytest.mark.parametrize("split", [1, 2, 7, 64])
def test_ndjson_lines_are_redacted_independently(split: int) -> None:
    lines = [orjson.dumps({"note": f"mail {i}@example.com now"}) for i in range(split)]
    out = PLAN.redact_body(b"\n".join(lines) + b"\n", "application/x-ndjson").output
    assert out.count(b"\n") == split
    assert b"example.com" not in out
