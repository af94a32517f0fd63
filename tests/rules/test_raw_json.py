"""Finding hits in the raw body gives exactly what the joined-scan queue gives."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import NEUTRAL_KEYS, NEUTRAL_WORDS, PII_VALUES
from veil import compile_policy, default_plan
from veil.rules.json_walk import redact_document
from veil.rules.raw_json import scan_json_body

ANCHORED = compile_policy(
    "version: 1\n"
    "detectors:\n"
    "  - {name: ORDER_REF, pattern: '^ORD-[0-9]{4}$'}\n"
    "  - {name: DOB_CTX, pattern: '[0-9]{4}-[0-9]{2}-[0-9]{2}', context: [born], context_required: true}\n"
    "rules:\n  - classify: true\n    scan: true\n"
)

text = st.lists(
    st.sampled_from(NEUTRAL_WORDS + PII_VALUES + ["ORD-1234", "born 1990-01-02", "x ORD-1234", "2001-02-03", "é"]),
    max_size=5,
).map(" ".join)
keys = st.sampled_from(NEUTRAL_KEYS + ["email", "jane@example.com", "born", "ORD-1234", "name", "customer"])
leaves = text | st.integers(-10**17, 10**17) | st.booleans() | st.none()
docs = st.recursive(
    leaves, lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=4), max_leaves=20
).filter(lambda d: isinstance(d, (dict, list)))


def _both(plan: Any, doc: Any, indent: bool) -> None:
    body = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    view = plan.view(None, "application/json")
    assert view.raw_scannable
    scope = view.raw_scope(body)
    a, fa, ca = redact_document(view, orjson.loads(body), (scan_json_body(scope.detectors, body), scope))
    b, fb, cb = redact_document(view, orjson.loads(body), None)
    assert orjson.dumps(a) == orjson.dumps(b)
    assert sorted(map(repr, fa)) == sorted(map(repr, fb))
    assert ca == cb
    # And the whole pipeline (prefilter fast path included) agrees with the queue path.
    out = plan.redact_body(body, "application/json").output
    assert orjson.loads(out) == b if cb else out == body


@given(docs, st.booleans())
def test_raw_hits_equal_queue_hits_with_the_default_policy(doc: Any, indent: bool) -> None:
    _both(default_plan(), doc, indent)


@given(docs, st.booleans())
def test_raw_hits_equal_queue_hits_with_anchored_and_context_detectors(doc: Any, indent: bool) -> None:
    _both(ANCHORED, doc, indent)


def test_anchored_custom_detector_matches_whole_strings_in_raw_bodies() -> None:
    out = ANCHORED.redact_body(b'{"ref": "ORD-1234", "note": "x ORD-1234"}', "application/json").output
    assert orjson.loads(out) == {"ref": "[REDACTED:ORDER_REF]", "note": "x ORD-1234"}
