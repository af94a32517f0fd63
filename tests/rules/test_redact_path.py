"""``Plan.redact_path``: URL path segments get the detectors query values get (issue #15).

An e-mail, a token or a card in ``/users/jane@example.com/orders`` crossed unredacted;
ordinary ids, versions, dates and UUIDs must be left alone, byte for byte.
"""

from __future__ import annotations

import pytest

from veil import compile_policy, default_plan
from veil.rules.plan_types import Route
from veil.rules.scanner import DetectorSet

GITHUB_TOKEN = "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"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")

# path -> (rewritten path, [(type, finding path)]); written out, not computed.
REDACTED = [
    ("/users/jane@example.com/orders", "/users/%5BREDACTED%3AEMAIL%5D/orders", [("EMAIL", "/<segment>/<segment>")]),
    ("/users/jane%40example.com/orders", "/users/%5BREDACTED%3AEMAIL%5D/orders", [("EMAIL", "/<segment>/<segment>")]),
    ("/users/JANE%40Example.COM", "/users/%5BREDACTED%3AEMAIL%5D", [("EMAIL", "/<segment>/<segment>")]),
    (f"/v1/tokens/{GITHUB_TOKEN}/revoke", "/v1/tokens/%5BREDACTED%3AAPI_KEY%5D/revoke", [("API_KEY", "/<segment>/<segment>/<segment>")]),
    (f"/session/{JWT}", "/session/%5BREDACTED%3AJWT%5D", [("JWT", "/<segment>/<segment>")]),
    ("/cards/4111111111111111/charge", "/cards/%5BREDACTED%3ACREDIT_CARD%5D/charge", [("CREDIT_CARD", "/<segment>/<segment>")]),
    ("/a/jane@example.com/b/bob@example.org", "/a/%5BREDACTED%3AEMAIL%5D/b/%5BREDACTED%3AEMAIL%5D",
     [("EMAIL", "/<segment>/<segment>"), ("EMAIL", "/<segment>/<segment>/<segment>/<segment>")]),
    ("/mail;to=jane@example.com/x", "/mail;to=%5BREDACTED%3AEMAIL%5D/x", [("EMAIL", "/<segment>")]),
    ("users/jane@example.com", "users/%5BREDACTED%3AEMAIL%5D", [("EMAIL", "<segment>/<segment>")]),  # relative
]

UNCHANGED = [
    "/", "", "*", "/orders/ord_8f3a2b/items/42", "/v1/customers/cus_NffrFeUfNV2Hib",
    "/items/123e4567-e89b-12d3-a456-426614174000", "/reports/2024-05-01", "/users/12345/profile",
    "/search/caf%C3%A9", "/a//b/", "/static/app.v2.min.js", "/users/jdoe", "/a%2Fb/c",
]


@pytest.mark.parametrize(("path", "expected", "found"), REDACTED)
def test_values_in_path_segments_are_redacted(path: str, expected: str, found: list[tuple[str, str]]) -> None:
    new, report = default_plan().redact_path(path)
    assert new == expected
    assert [(f.type, f.path) for f in report.findings] == found
    assert {f.location for f in report.findings} == {"path"}
    assert report.changed


@pytest.mark.parametrize("path", UNCHANGED)
def test_ordinary_segments_are_left_byte_for_byte(path: str) -> None:
    new, report = default_plan().redact_path(path)
    assert new is path or new == path
    assert report.findings == () and not report.changed


def test_the_query_and_fragment_are_redacted_as_a_query_is() -> None:
    new, report = default_plan().redact_path("/users/jane@example.com?email=bob@example.org&page=2#top")
    assert new == "/users/%5BREDACTED%3AEMAIL%5D?email=[REDACTED:EMAIL]&page=2#top"  # as redact_query writes it
    assert sorted((f.location, f.path) for f in report.findings) == [("path", "/<segment>/<segment>"), ("query", "email")]


def test_detect_mode_reports_without_rewriting() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: {action: redact}\n")
    new, report = plan.redact_path("/users/jane@example.com/orders")
    assert new == "/users/jane@example.com/orders"
    assert [(f.type, f.mode) for f in report.findings] == [("EMAIL", "detect")]
    assert not report.changed


def test_rules_are_chosen_by_route_and_a_policy_without_detectors_leaves_paths() -> None:
    plan = compile_policy(
        "version: 1\nrules:\n  - match: {direction: response}\n    scan: {action: redact}\n"
    )
    path = "/users/jane@example.com"
    assert plan.redact_path(path, Route("request"))[0] == path
    assert plan.redact_path(path, Route("response"))[0] == "/users/%5BREDACTED%3AEMAIL%5D"


def test_a_tokenized_segment_is_a_valid_segment() -> None:
    plan = compile_policy(
        "version: 1\nkeys:\n  tokens: {env: T}\nrules:\n  - scan: {action: {type: tokenize, key: tokens}}\n",
        key_material={"tokens": {"k1": bytes(range(64))}},
    )
    new, _ = plan.redact_path("/users/jane@example.com/orders")
    head, token, tail = new.split("/")[0:2], new.split("/")[2], new.split("/")[3:]
    assert head == ["", "users"] and tail == ["orders"]
    assert "@" not in token and "jane" not in token and token


# -- query names: a bare parameter is all name, and a name may be a value ---------------------

QUERY_CASES = [
    ("jane@example.com&page=2", "[REDACTED:EMAIL]&page=2", [("EMAIL", "<name>")]),
    ("4111111111111111=x", "[REDACTED:CREDIT_CARD]=x", [("CREDIT_CARD", "<name>")]),
    ("jane@example.com=call+%2B44+20+7946+0958", "[REDACTED:EMAIL]=call+[REDACTED:PHONE]",
     [("EMAIL", "<name>"), ("PHONE", "<name>")]),
    ("filter[email]=a%40b.co", "filter[email]=[REDACTED:EMAIL]", [("EMAIL", "filter[email]")]),
    ("AKIAIOSFODNN7EXAMPLE=jane@example.com", "[REDACTED:AWS_ACCESS_KEY]=[REDACTED:EMAIL]",
     [("AWS_ACCESS_KEY", "<name>"), ("EMAIL", "<name>")]),  # a name-shaped name holding a finding
]


@pytest.mark.parametrize(("query", "expected", "found"), QUERY_CASES)
def test_query_names_are_scanned_and_never_named_in_findings(query: str, expected: str,
                                                            found: list[tuple[str, str]]) -> None:
    new, report = default_plan().redact_query(query)
    assert new == expected
    assert sorted((f.type, f.path) for f in report.findings) == sorted(found)


@pytest.mark.parametrize("query", ["page=2&sort=-created", "debug", "ids[]=1&ids[]=2", "q=caf%C3%A9"])
def test_ordinary_query_names_are_left_alone(query: str) -> None:
    new, report = default_plan().redact_query(query)
    assert new is query or new == query
    assert report.findings == () and not report.changed


def _counting_scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = DetectorSet.scan

    def counted(self: DetectorSet, *args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DetectorSet, "scan", counted)
    return calls


# Paths no other test sends: the built-in plan is shared, and so are its caches.
@pytest.mark.parametrize("path", ["/orders/ord_8f3a2b/items/43?page=2", "/search/caf%C3%A9s/once"])
def test_a_clean_path_is_scanned_once_per_view(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    plan = default_plan()
    calls = _counting_scans(monkeypatch)
    assert plan.redact_path(path) == (path, plan.redact_path(path)[1])
    first = len(calls)
    assert first >= 1
    for _ in range(3):
        new, report = plan.redact_path(path)
        assert new == path and not report.findings
    assert len(calls) == first


@pytest.mark.parametrize(("path", "expected", "found"), REDACTED[:3] + REDACTED[-2:])
def test_a_path_with_a_finding_is_redacted_every_time(path: str, expected: str, found: list[tuple[str, str]]) -> None:
    plan = default_plan()
    for _ in range(3):
        new, report = plan.redact_path(path)
        assert new == expected
        assert [(f.type, f.path) for f in report.findings] == found
