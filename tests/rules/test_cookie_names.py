"""Cookie names and nameless cookies (review, issues #15 and #16).

A cookie's NAME is scanned as a header's is: one holding a finding drops its cookie (a name
cannot hold a placeholder) and is reported as ``<name>``. A cookie without ``=`` (``Cookie:
<jwt>``) has an empty name: its value is judged by the cookie rules for every name and by the
detectors, as any value is. Expected outputs are written out.
"""

from __future__ import annotations

import pytest

from veil import Route, compile_policy, default_plan
from veil.rules.profiles import profile_plan

SCAN = compile_policy("version: 1\nrules:\n  - scan: true\n")
STRICT = default_plan()
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
GITHUB_TOKEN = "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"


def redact(plan: object, name: str, value: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    headers, report = plan.redact_headers([(name, value)])  # type: ignore[attr-defined]
    return headers, [(f.type, f.location, f.path) for f in report.findings]


@pytest.mark.parametrize(
    ("header", "value", "expected", "found"),
    [
        # a name holding a finding: that cookie goes, the others keep their bytes
        ("Cookie", "jane@example.com=1", [], [("EMAIL", "cookie", "<name>")]),
        ("Cookie", "a=1; jane@example.com=1; b=2", [("Cookie", "a=1; b=2")], [("EMAIL", "cookie", "<name>")]),
        ("Cookie", "jane%40example.com=1; b=2", [("Cookie", "b=2")], [("EMAIL", "cookie", "<name>")]),
        ("Cookie", f"{GITHUB_TOKEN}=1", [], [("API_KEY", "cookie", "<name>")]),
        ("Set-Cookie", "jane@example.com=1; Path=/; HttpOnly", [], [("EMAIL", "cookie", "<name>")]),
        # a nameless cookie: its value is scanned
        ("Cookie", JWT, [("Cookie", "[REDACTED:JWT]")], [("JWT", "cookie", "<name>")]),
        ("Cookie", f"a=1; {JWT}", [("Cookie", "a=1; [REDACTED:JWT]")], [("JWT", "cookie", "<name>")]),
        ("Cookie", "jane@example.com", [("Cookie", "[REDACTED:EMAIL]")], [("EMAIL", "cookie", "<name>")]),
        ("Set-Cookie", f"{JWT}; Path=/", [("Set-Cookie", "[REDACTED:JWT]; Path=/")], [("JWT", "cookie", "<name>")]),
        # near misses: nothing in names or nameless values, every byte kept
        ("Cookie", "session=abc123; theme=dark", [("Cookie", "session=abc123; theme=dark")], []),
        ("Cookie", "a=1;b=2", [("Cookie", "a=1; b=2")], []),  # the pieces are rejoined as before
        ("Cookie", "flag; theme=dark", [("Cookie", "flag; theme=dark")], []),  # a nameless plain word
        ("Cookie", "user.name=1", [("Cookie", "user.name=1")], []),
        ("Set-Cookie", "id=1; Path=/; Secure", [("Set-Cookie", "id=1; Path=/; Secure")], []),
        ("Set-Cookie", "flag; Path=/", [("Set-Cookie", "flag; Path=/")], []),
    ],
)
def test_cookie_names_and_nameless_cookies_are_scanned(
    header: str, value: str, expected: list[tuple[str, str]], found: list[tuple[str, str, str]]
) -> None:
    assert redact(SCAN, header, value) == (expected, found)


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("Cookie", JWT, [("Cookie", "[REDACTED:SECRET]")]),  # the rule for every name covers the nameless
        ("Cookie", f"sid=1; {JWT}", [("Cookie", "sid=[REDACTED:SECRET]; [REDACTED:SECRET]")]),
        ("Set-Cookie", f"{JWT}; Path=/", [("Set-Cookie", "[REDACTED:SECRET]; Path=/")]),
        ("Cookie", "sid=1; jane@example.com=1", [("Cookie", "sid=[REDACTED:SECRET]")]),  # was: the name kept
    ],
)
def test_the_strict_profile_redacts_nameless_cookies_and_drops_named_findings(
    header: str, value: str, expected: list[tuple[str, str]]
) -> None:
    assert redact(STRICT, header, value)[0] == expected


def test_a_name_holding_a_finding_is_never_written_in_a_report() -> None:
    """Also the finding of the rule by name (``*``), which named the cookie by its name."""
    _, found = redact(STRICT, "Cookie", f"{GITHUB_TOKEN}=1; sid=2")
    assert found and all(GITHUB_TOKEN not in path for _, _, path in found)
    assert ("SECRET", "cookie", "<name>") in found and ("SECRET", "cookie", "sid") in found


def test_a_query_name_holding_a_finding_masks_the_rule_by_names_finding_too() -> None:
    plan = compile_policy("version: 1\nrules:\n  - query: [{name: '*', action: redact}]\n    scan: true\n")
    _, report = plan.redact_query(f"{GITHUB_TOKEN}=1")
    assert report.findings and all(f.path == "<name>" for f in report.findings)


def test_the_app_profile_keeps_every_cookie_nameless_ones_too() -> None:
    """builtin:app keeps the app's own cookies by the rule for every name: a nameless one is one."""
    headers, _ = profile_plan("app").redact_headers([("Cookie", f"sid=1; {JWT}")], Route("request", "GET", "a.test", "/"))
    assert headers == [("Cookie", f"sid=1; {JWT}")]


def test_in_detect_mode_a_cookie_name_is_reported_and_kept() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: true\n")
    assert redact(plan, "Cookie", "jane@example.com=1; b=2") == (
        [("Cookie", "jane@example.com=1; b=2")], [("EMAIL", "cookie", "<name>")]
    )
