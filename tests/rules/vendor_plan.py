"""A policy that tokenizes e-mails sent to one vendor with ``restore: true``, shared by the restore tests."""

from __future__ import annotations

from veil import Plan, Route, compile_policy

VENDOR_ROUTE = Route("request", "POST", "api.vendor.test", "/v1/chat", "application/json")
KEY = bytes(range(64))


def vendor_restore_plan(extra_rules: str = "") -> Plan:
    """E-mails on requests to api.vendor.test are tokenized, restorable; ``extra_rules`` are YAML list items."""
    return compile_policy(
        "version: 1\n"
        "keys:\n  tokens: {env: VEIL_TEST_KEY}\n"
        "rules:\n"
        "  - match: {hosts: [api.vendor.test]}\n"
        "    scan: {detectors: [EMAIL], action: {type: tokenize, restore: true}}\n" + extra_rules,
        key_material={"tokens": {"k1": KEY}},
    )
