"""Reports carry no payload text: finding paths mask keys that may be data, and neither a
report nor a cache keeps the input body or a key's text (issue #15).

The rule (README, "Finding paths"): a key shaped like a schema's name (an ASCII letter or
``_``, then up to 63 letters, digits, ``_`` or ``-``) is written out (``$.user.email``,
``$['first-name']``); any other key, and any key a detector finds something in, is written
``[<key>]``. A name-shaped key nothing is found in (``{"jdoe": ...}``) stays readable: veil
cannot tell it from a field name, and the output that crosses the boundary carries it too.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import orjson
import pytest

from tests.referents import referents
from veil import compile_policy, default_plan
from veil.rules.detectors.verdicts import forget_verdicts
from veil.rules.json_splice import splice_json
from veil.rules.json_walk import redact_document
from veil.rules.plan import Plan

DETECT_ONLY = compile_policy(
    "version: 1\nrules:\n  - mode: detect\n    classify: {action: redact}\n    scan: {action: redact}\n"
)

# body -> every finding's (location, path); written out, not computed.
PATH_CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("identifier keys stay readable", {"user": {"email": "jane@example.com"}}, [("body", "$.user.email")]),
    ("list indices", {"orders": [{"email": "a@b.co"}]}, [("body", "$.orders[0].email")]),
    ("a hyphenated name is quoted", {"first-name": "Jane"}, [("body", "$['first-name']")]),
    ("a leading underscore is a name", {"_id": {"email": "a@b.co"}}, [("body", "$._id.email")]),
    ("an e-mail as a key", {"jane@example.com": {"ssn": "078-05-1120"}},
     [("key", "$"), ("body", "$[<key>].ssn")]),
    ("an e-mail key under a name, then a list", {"users": {"jane@example.com": [{"phone": "+44 20 7946 0958"}]}},
     [("key", "$.users"), ("body", "$.users[<key>][0].phone")]),
    ("a person's name as a key", {"Jane Doe": {"email": "x@example.com"}}, [("body", "$[<key>].email")]),
    ("a number as a key", {"12345": {"email": "x@example.com"}}, [("body", "$[<key>].email")]),
    ("a quote in a key", {"it's": {"email": "x@example.com"}}, [("body", "$[<key>].email")]),
    ("a non-ASCII key", {"naïve": {"email": "x@example.com"}}, [("body", "$[<key>].email")]),
    ("a name-shaped key holding a finding", {"AKIAIOSFODNN7EXAMPLE": {"email": "x@example.com"}},
     [("key", "$"), ("body", "$[<key>].email")]),
    ("a name-shaped key nothing is found in (near miss)", {"jdoe": {"email": "x@example.com"}},
     [("body", "$.jdoe.email")]),
    ("a name-shaped key of 64 characters (near miss)", {"k" * 64: {"email": "x@example.com"}},
     [("body", "$." + "k" * 64 + ".email")]),
    ("a name-shaped key of 65 characters", {"k" * 65: {"email": "x@example.com"}}, [("body", "$[<key>].email")]),
]


def _paths(findings: Any) -> list[tuple[str, str]]:
    return sorted((f.location, f.path) for f in findings)  # the engines order findings differently


@pytest.mark.parametrize("plan", [default_plan(), DETECT_ONLY], ids=["enforce", "detect"])
@pytest.mark.parametrize(("case", "doc", "expected"), PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_finding_paths_mask_keys_that_may_be_data(plan: Plan, case: str, doc: dict[str, Any],
                                                   expected: list[tuple[str, str]]) -> None:
    expected = sorted(expected)
    for body in (orjson.dumps(doc), orjson.dumps(doc, option=orjson.OPT_INDENT_2)):
        assert _paths(plan.redact_body(body, "application/json").report.findings) == expected
        view = plan.view(None, "application/json")
        assert _paths(redact_document(view, orjson.loads(body))[1]) == expected  # the walk
        spliced = splice_json(view, body)
        if spliced is not None:  # the splice path, where it takes the body
            assert _paths(spliced[1].findings) == expected
    _, report = plan.redact_json(doc)
    assert _paths(report.findings) == expected


def test_no_path_or_repr_names_a_key_holding_a_finding() -> None:
    body = b'{"jane@example.com": {"ssn": "078-05-1120"}, "AKIAIOSFODNN7EXAMPLE": [1]}'
    for plan in (default_plan(), DETECT_ONLY):
        report = plan.redact_body(body, "application/json").report
        assert report.findings
        text = repr(report) + repr([f.as_dict() for f in report.findings])
        assert "jane@example.com" not in text and "AKIA" not in text


# -- what a report and the caches keep ---------------------------------------------------

_MODULE_DICTS = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
           types.CodeType, types.FrameType)


def _reachable(root: object, limit: int = 500_000) -> list[object]:
    """Every object reachable from ``root``, not entering classes, modules, functions or module globals
    (they reach the whole interpreter; the objects under test hold their state in instances)."""
    seen = {id(root)}
    out = [root]
    todo = [root]
    while todo and len(out) < limit:
        for child in referents(todo.pop()):
            if id(child) in seen or isinstance(child, _OPAQUE) or id(child) in _MODULE_DICTS:
                continue
            seen.add(id(child))
            out.append(child)
            todo.append(child)
    return out


def _texts_holding(root: object, needle: str) -> list[object]:
    raw = needle.encode()
    return [o for o in _reachable(root) if (isinstance(o, str) and needle in o) or (isinstance(o, bytes) and raw in o)]


@pytest.mark.parametrize("body", [
    b'{"note": "mail zqx.roe@example.com", "email": "zqx@example.com"}',  # the splice path
    b'{"zqx@example.com": {"email": "zqx@example.com"}}',  # the walk (a key holding a finding)
    b'{"Zqx Roe": {"email": "zqx@example.com"}}',  # the walk's path nodes hold keys
], ids=["splice", "walk-key-finding", "walk-odd-key"])
@pytest.mark.parametrize("plan", [default_plan(), DETECT_ONLY], ids=["enforce", "detect"])
def test_a_report_keeps_neither_the_input_body_nor_payload_text(plan: Plan, body: bytes) -> None:
    body = bytes(bytearray(body))  # an object of its own, to be found by identity
    report = plan.redact_body(body, "application/json").report
    assert report.counts()
    assert not any(o is body for o in _reachable(report))
    assert _texts_holding(report, "zqx") == []
    assert [f.path for f in report.findings]  # rendered: still nothing
    assert _texts_holding(report, "zqx") == []


def test_a_report_does_not_keep_the_input_body_alive_after_the_call() -> None:
    """The same, as the garbage collector sees it: in detect mode the output is the input, and
    a report that renders paths lazily from it kept it."""
    body = bytes(bytearray(b'{"email": "zqx@example.com", "note": "call +44 20 7946 0958"}'))
    before = sys.getrefcount(body)
    report = DETECT_ONLY.redact_body(body, "application/json").report
    assert report.counts()
    assert sys.getrefcount(body) == before


# Keys that are data: user names (name-shaped), e-mails, numbers, under a covered key
# (splice path) and beside a key holding a finding (which sends the body to the walk).
CACHE_BODIES = [
    b'{"emails": {"zqxjdoe": "j@x.com", "zqx-asmith": "a@x.com"}, "accounts": {"zqxbob": {"email": "b@x.com"}}}',
    b'{"x@example.com": 1, "accounts": {"zqxjdoe": {"email": "j@x.com"}, "zqx 9": {"phone": "+44 20 7946 0958"}}}',
]


@pytest.mark.parametrize("policy", ["default", "custom"])
def test_caches_keep_no_key_text_across_bodies(policy: str) -> None:
    plan = default_plan() if policy == "default" else compile_policy(
        "version: 1\nrules:\n  - classify: {action: mask}\n    scan: {action: redact}\n")
    forget_verdicts()
    for body in CACHE_BODIES:
        out = plan.redact_body(body, "application/json")
        assert out.report.counts()
        del out
    assert _texts_holding(plan, "zqx") == []


def test_the_classifier_keeps_no_key_text() -> None:
    classifier = default_plan().classifier
    key = "".join(["zqx", "jdoe", "_email"])  # a string object of its own
    parent = "".join(["zqx", "accounts"])
    refs = sys.getrefcount(key), sys.getrefcount(parent)
    assert classifier.classify(key, parent) == "EMAIL"
    assert classifier.classify(key, parent) == "EMAIL"  # the remembered answer
    assert (sys.getrefcount(key), sys.getrefcount(parent)) == refs
    assert _texts_holding(classifier, "zqx") == []
