"""A header's NAME can carry payload (review, issue #15): such a header is dropped, and reported
without its name."""

from __future__ import annotations

import pytest

from veil import compile_policy, default_plan

GITHUB_TOKEN = "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"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("X-User-jane@example.com", "EMAIL"),
        (f"X-{GITHUB_TOKEN}", "API_KEY"),
        ("X-Contact.jane.roe@example.org", "EMAIL"),
        # Shaped like a protocol's name (letters, digits, '-'): these were never scanned.
        ("536-22-1847", "US_SSN"),
        ("X-Card-4111-1111-1111-1111", "CREDIT_CARD"),
        ("X-GB82WEST12345698765432", "IBAN"),
    ],
)
def test_a_header_whose_name_holds_a_finding_is_dropped(name: str, kind: str) -> None:
    headers, report = default_plan().redact_headers([("Accept", "*/*"), (name, "1"), ("X-Trace", "t1")])
    assert headers == [("Accept", "*/*"), ("X-Trace", "t1")]
    assert [(f.type, f.location, f.path) for f in report.findings] == [(kind, "header", "<name>")]
    assert report.changed


@pytest.mark.parametrize("name", ["Accept", "X-Request-Id", "X_Trace_Id", "x-amz-date", "Sec-CH-UA-Platform", ":authority",
                                  "X-Card-4111-1111-1111-1112", "536-00-1847"])  # near-misses: Luhn, SSN group 00
def test_ordinary_header_names_are_kept(name: str) -> None:
    headers, report = default_plan().redact_headers([(name, "v")])
    assert headers == [(name, "v")] and not report.findings


def test_in_detect_mode_the_header_is_reported_and_kept() -> None:
    plan = compile_policy("version: 1\nrules:\n  - mode: detect\n    scan: true\n")
    headers, report = plan.redact_headers([("X-User-jane@example.com", "1")])
    assert headers == [("X-User-jane@example.com", "1")]
    assert [(f.type, f.path, f.mode) for f in report.findings] == [("EMAIL", "<name>", "detect")]


def test_a_name_list_found_clean_is_remembered_and_a_new_name_still_scanned() -> None:
    plan = default_plan()
    fresh = [("X-Request-Id", "3f6c0d4e-8f1b-4a57-9c2e-5b7d1e0a9f42"), ("Accept", "*/*")]
    assert plan.redact_headers(fresh)[0] == fresh
    again = [("X-Request-Id", "0b1e5a9d-2c47-4f8e-b3a6-7d9c4e2f1a08"), ("Accept", "*/*")]
    assert plan.redact_headers(again)[0] == again  # same names, new value: the names' list is known clean
    headers, report = plan.redact_headers([*again, ("X-536-22-1847", "1")])
    assert headers == again and [(f.type, f.path) for f in report.findings] == [("US_SSN", "<name>")]
