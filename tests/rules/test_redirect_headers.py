"""Headers that carry URLs are redacted as a request's URL is (issue #15).

``Location``, ``Content-Location``, ``Referer``, the URL in ``Refresh`` and each target of
``Link``: path segments by the detectors (``Plan.redact_path``), query values by name and
by detectors (``Plan.redact_query``). Before, their values were only scanned whole: a
``?token=`` or ``?email=`` that no detector recognises crossed, and a placeholder was
written raw into the path.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil import compile_policy, default_plan
from veil.rules.plan_types import Route

SECRET = "s3cr3tvalue99"  # no detector finds it: only the parameter's name says what it is

# (header, value, expected value); written out, not computed.
CASES = [
    ("Location", "https://app.example.com/users/jane@example.com/orders?page=2",
     "https://app.example.com/users/%5BREDACTED%3AEMAIL%5D/orders?page=2"),
    ("Location", f"/reset?token={SECRET}&next=/home", "/reset?token=[REDACTED:SECRET]&next=/home"),
    ("location", f"https://app.example.com/cb#access_token={SECRET}&token_type=bearer",
     "https://app.example.com/cb#access_token=[REDACTED:SECRET]&token_type=bearer"),
    ("Content-Location", "/users/jane%40example.com", "/users/%5BREDACTED%3AEMAIL%5D"),
    ("Referer", f"https://shop.example.com/account?email=jane.doe&session_id={SECRET}",
     "https://shop.example.com/account?email=[REDACTED:EMAIL]&session_id=[REDACTED:SECRET]"),
    ("Refresh", "0; url=/users/jane@example.com", "0; url=/users/%5BREDACTED%3AEMAIL%5D"),
    ("Link", f'</items?page=2&api_key={SECRET}>; rel="next", </users/jane@example.com>; rel="author"',
     '</items?page=2&api_key=[REDACTED:SECRET]>; rel="next", </users/%5BREDACTED%3AEMAIL%5D>; rel="author"'),
]

# Near misses: URLs with nothing to find, and headers that are not URLs.
UNCHANGED = [
    ("Location", "https://app.example.com/orders/ord_8f3a2b?page=2&sort=-created#items"),
    ("Location", "/v1/customers/cus_NffrFeUfNV2Hib"),
    ("Referer", "https://www.example.com/"),
    ("Refresh", "5"),
    ("Link", '<https://cdn.example.com/app.v2.css>; rel="preload"; as="style"'),
    ("X-Next", "/orders/ord_8f3a2b?page=2"),  # not a URL header, and nothing in it
]


@pytest.mark.parametrize(("name", "value", "expected"), CASES)
def test_url_headers_are_redacted_like_a_request_url(name: str, value: str, expected: str) -> None:
    out, report = default_plan().redact_headers([(name, value), ("X-Request-Id", "r-1")], Route("response"))
    assert out == [(name, expected), ("X-Request-Id", "r-1")]
    assert report.changed and report.findings
    assert SECRET not in repr(report) and "jane" not in repr(report)


@pytest.mark.parametrize(("name", "value"), UNCHANGED)
def test_other_urls_and_headers_are_left_as_they_are(name: str, value: str) -> None:
    out, report = default_plan().redact_headers([(name, value)])
    assert out == [(name, value)]
    assert report.findings == () and not report.changed


def test_finding_locations_name_the_url_part_not_its_text() -> None:
    _, report = default_plan().redact_headers(
        [("Location", f"/users/jane@example.com?token={SECRET}")], Route("response"))
    assert sorted((f.location, f.path) for f in report.findings) == [("path", "/<segment>/<segment>"), ("query", "token")]


def test_detect_mode_reports_url_headers_without_rewriting() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: {action: redact}\n    classify: {action: redact}\n")
    value = f"/users/jane@example.com?token={SECRET}"
    out, report = plan.redact_headers([("Location", value)])
    assert out == [("Location", value)]
    assert sorted(f.type for f in report.findings) == ["EMAIL", "SECRET"]
    assert not report.changed


def test_a_header_the_policy_names_is_handled_by_its_rule_alone() -> None:
    plan = compile_policy("version: 1\nrules:\n  - headers: [{name: location, action: drop}]\n    scan: {action: redact}\n")
    out, _ = plan.redact_headers([("Location", "/users/jane@example.com"), ("Via", "1.1 proxy")])
    assert out == [("Via", "1.1 proxy")]


def test_the_authority_is_scanned_as_header_text() -> None:
    out, report = default_plan().redact_headers([("Referer", "http://10.1.2.3/users/jane@example.com")])
    assert out == [("Referer", "http://[REDACTED:IP_ADDRESS]/users/%5BREDACTED%3AEMAIL%5D")]
    assert sorted((f.type, f.location, f.path) for f in report.findings) == [
        ("EMAIL", "path", "/<segment>/<segment>"), ("IP_ADDRESS", "header", "Referer")]


# Refresh's URL was cut out by '(.*?)(['"]?\s*)$' in Python's re: quadratic in a run of inner
# spaces (8 KB: half a second; Envoy passes 60 KB headers: about half a minute per response).
_OLD_REFRESH = re.compile(r"""^(\s*[0-9.]+\s*[;,]\s*(?:url\s*=\s*)?['"]?)(.*?)(['"]?\s*)$""", re.IGNORECASE)


@given(st.text(alphabet="0.5;,= uUrRlL'\"/ax\t\n\u2003", max_size=24))
def test_a_refresh_value_is_cut_as_it_was(value: str) -> None:
    from veil.rules.urls import refresh_parts

    old = _OLD_REFRESH.match(value)
    assert refresh_parts(value) == (None if old is None else old.groups())


def test_a_refresh_value_with_a_long_run_of_spaces_is_cut_at_once() -> None:
    import signal

    from veil.rules.urls import refresh_parts

    def too_slow(*_: object) -> None:
        raise TimeoutError("Refresh backtracked")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        value = "0; url=/a" + " " * 200_000 + "b"
        assert refresh_parts(value) == ("0; url=", "/a" + " " * 200_000 + "b", "")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
