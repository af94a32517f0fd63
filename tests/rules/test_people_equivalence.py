"""People by role words: the splice path decides exactly as the walk (its reference) does.

A role key's class holds only for values shaped like a name, directly or in lists under
it; both paths must cover the same values, find the same things elsewhere, and write the
same bytes, whatever the layout and however the strings are escaped.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import NEUTRAL_KEYS, NEUTRAL_WORDS, PII_VALUES
from veil import compile_policy, default_plan
from veil.rules.json_splice import splice_json
from veil.rules.json_walk import redact_document

ROLE_KEYS = ["assignee", "createdBy", "ticket_requester", "participants", "attendees", "owner", "agent", "user_agent",
             "owner_id", "to", "from", "cc", "author", "reviewers", "primaryContact", "next_of_kin"]
NAME_KEYS = ["name", "first", "last", "given", "family", "display", "full_name", "first_name", "displayName"]
PARENT_KEYS = ["message", "repository", "customer", "product", "names", "actor", "requester", "created_by"]
NAMES = ["Jane Doe", "Raj Patel", "O'Brien", "Zoë Saldaña", "李小龙", "JANE DOE", "Jane Doe <jane@example.com>", "Dobson",
         'Jane "JD" Doe', "Jo\\an Roe", "Ann\nLee"]
NOT_NAMES = ["team-platform", "Mozilla/5.0 (X11)", "bot[bot]", "system", "usr_8f2k3", "GitHub", "Acme Corp", "USD"]

keys = st.sampled_from(ROLE_KEYS + NAME_KEYS + PARENT_KEYS + NEUTRAL_KEYS[:4])
text = st.sampled_from(NAMES + NOT_NAMES + NEUTRAL_WORDS + PII_VALUES) | st.lists(
    st.sampled_from(NAMES + NEUTRAL_WORDS), min_size=1, max_size=3).map(" ".join)
leaves = text | st.integers(-10, 10**12) | st.booleans() | st.none()
docs = st.recursive(
    leaves, lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=5), max_leaves=20
).filter(lambda d: isinstance(d, (dict, list)))
encodings = st.sampled_from(["compact", "indent", "ascii"])

MASK = compile_policy("version: 1\nrules:\n  - classify: {action: {type: mask, keep_last: 2}}\n    scan: true\n")
ALLOW = compile_policy(
    "version: 1\nallow: {values: [Raj Patel]}\nrules:\n  - classify: true\n    scan: true\n"
    "  - mode: detect\n    classify: true\n"
)
DETECT = compile_policy("version: 1\nrules:\n  - mode: detect\n    classify: true\n    scan: true\n")


def _encode(doc: Any, encoding: str) -> bytes:
    if encoding == "indent":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    if encoding == "ascii":  # every non-ASCII character as \\uXXXX: the splice path's escaped strings
        return json.dumps(doc, ensure_ascii=True).encode()
    return orjson.dumps(doc)


def _agree(plan: Any, doc: Any, encoding: str) -> bool:
    body = _encode(doc, encoding)
    view = plan.view(None, "application/json")
    spliced = splice_json(view, body)
    walked, findings, changed = redact_document(view, orjson.loads(body), None)
    if spliced is None:
        return False
    out, report, spliced_changed = spliced
    assert orjson.loads(out) == walked
    assert sorted(map(repr, report.findings)) == sorted(map(repr, findings))
    assert spliced_changed == changed
    if not changed:
        assert out is body
    return True


@settings(max_examples=400, deadline=None)
@given(docs, encodings)
def test_splice_equals_walk_on_role_keys_with_the_default_policy(doc: Any, encoding: str) -> None:
    _agree(default_plan(), doc, encoding)


@settings(max_examples=200, deadline=None)
@given(docs, encodings, st.sampled_from([MASK, ALLOW, DETECT]))
def test_splice_equals_walk_on_role_keys_with_other_actions_allow_lists_and_modes(doc: Any, encoding: str, plan: Any) -> None:
    _agree(plan, doc, encoding)


def test_the_splice_path_takes_bodies_with_role_keys() -> None:
    """Guard against a splice path that falls back on every such body (and so tests nothing)."""
    samples = [
        {"participants": ["Jane Doe", "jane@example.com", ["Raj Patel"], {"name": "Ann Lee"}, 4111111111111111]},
        {"ticket": {"assignee": {"name": "Raj Patel"}, "createdBy": "system", "owner": "Zoë Saldaña"}},
        {"message": {"from": "Jane Doe <jane@example.com>", "to": ["Dobson"]}, "to": "USD"},
        {"name": {"first": "Jane", "last": "Doe"}, "repository": {"full_name": "octo-org/hello"}},
    ]
    for doc in samples:
        for encoding in ("compact", "indent", "ascii"):
            assert _agree(default_plan(), doc, encoding), (doc, encoding)


def test_a_name_in_a_role_list_is_covered_once_even_when_an_event_falls_inside_it() -> None:
    """'Dobson' holds 'dob' (a context word of DATE_OF_BIRTH, so an event of the splice pass):
    covered as a name by its list's key, it is not decided a second time."""
    body = orjson.dumps({"attendees": ["Dobson", "Dobson x"]})
    result = default_plan().redact_body(body, "application/json")
    assert orjson.loads(result.output) == {"attendees": ["[REDACTED:PERSON_NAME]", "Dobson x"]}
    assert [f.path for f in result.report.findings] == ["$.attendees[0]"]


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(["ticket", "primary", "assignee", "created", "by", "attendees", "to", "reply", "agent",
                                    "user", "next", "of", "kin", "first", "display", "name", "full", "x"]), min_size=1, max_size=3),
    sep=st.sampled_from(["_", "-", "", " "]),
    case=st.sampled_from([str.lower, str.capitalize, str.upper]),
    parent=st.sampled_from([None, "message", "name", "assignee", "product", "repository"]),
)
def test_every_key_with_a_class_shaped_or_not_is_an_event(words: list[str], sep: str, case: Any, parent: str | None) -> None:
    """The splice pass sees only keys its events pattern finds: role keys must be among them."""
    key = sep.join(case(w) for w in words)
    view = default_plan().view(None, "application/json")
    assert view.classifier is not None and view.splice_events is not None
    if view.classifier.key_class(key, parent) is None:
        return
    assert view.splice_events.search(orjson.dumps({key: "x"})) is not None, (key, parent)


def test_only_flat_lists_under_a_role_key_have_their_names_covered() -> None:
    """A list holding an object or a list is decided item by item as any other (its objects'
    keys take the role key as their parent): the splice path then never reads a list of
    objects to its end."""
    doc = {"attendees": [{"name": "Jane Doe", "rsvp": "Yes"}, "Raj Patel"], "cc": ["Ann Lee", "bot[bot]"]}
    for encoding in ("compact", "indent", "ascii"):
        assert _agree(default_plan(), doc, encoding)
    out = default_plan().redact_json(doc)[0]
    assert out == {"attendees": [{"name": "[REDACTED:PERSON_NAME]", "rsvp": "Yes"}, "Raj Patel"],
                   "cc": ["[REDACTED:PERSON_NAME]", "bot[bot]"]}
