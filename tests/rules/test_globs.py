"""Path and host globs (issue #16): ``**`` as a whole segment matches zero or more segments."""

from __future__ import annotations

import pytest

from veil.rules.globs import compile_globs, matches

PATHS = [
    # (glob, path, matches)
    ("/api/**/orders", "/api/orders", True),  # zero segments (was: no match)
    ("/api/**/orders", "/api/v1/orders", True),
    ("/api/**/orders", "/api/v1/eu/orders", True),
    ("/api/**/orders", "/api/xorders", False),  # near miss: not a segment boundary
    ("/api/**/orders", "/apiorders", False),
    ("/api/**/orders", "/api/orders/1", False),
    ("/api/**/orders", "/v2/api/orders", False),
    ("/api/**/orders/*", "/api/orders/17", True),
    ("/api/**/orders/*", "/api/orders/17/items", False),
    ("/a/**/b/**/c", "/a/b/c", True),
    ("/a/**/b/**/c", "/a/x/b/y/z/c", True),
    ("/a/**/b/**/c", "/a/x/c", False),
    ("**/orders", "/orders", True),
    ("**/orders", "/api/v1/orders", True),
    ("**/orders", "/api/preorders", False),
    ("/api/**", "/api/x/y", True),  # trailing: everything below, as before
    ("/api/**", "/api/", True),
    ("/api/**", "/api", False),
    ("/api/v**", "/api/v1/x", True),  # inside a segment: any run, as before
    ("/api/*/orders", "/api/orders", False),  # one * is exactly one segment
    ("/api/*/orders", "/api/v1/orders", True),
    ("/api/*/orders", "/api/v1/eu/orders", False),
    ("/api/?/orders", "/api/1/orders", True),
    ("/api/?/orders", "/api//orders", False),
    ("/api.v1/**/x", "/apixv1/x", False),  # '.' is literal
]

HOSTS = [
    ("**.example.com", "example.com", True),
    ("**.example.com", "eu.api.example.com", True),
    ("**.example.com", "evilexample.com", False),
    ("*.example.com", "example.com", False),  # one * is exactly one label
    ("*.example.com", "api.example.com", True),
    ("*.example.com", "eu.api.example.com", False),
    ("api.**.example.com", "api.example.com", True),
    ("api.**.example.com", "api.eu.west.example.com", True),
    ("api.**.example.com", "apix.example.com", False),
    ("API.**.Example.com", "api.example.COM", True),  # case-insensitive
]


@pytest.mark.parametrize(("glob", "path", "expected"), PATHS)
def test_path_globs(glob: str, path: str, expected: bool) -> None:
    assert matches(compile_globs([glob], separator="/", case_insensitive=False), path) is expected


@pytest.mark.parametrize(("glob", "host", "expected"), HOSTS)
def test_host_globs(glob: str, host: str, expected: bool) -> None:
    assert matches(compile_globs([glob], separator=".", case_insensitive=True), host) is expected


def test_a_policy_path_with_double_star_matches_the_path_without_the_segment() -> None:
    from veil import compile_policy
    from veil.rules.plan_types import Route

    plan = compile_policy("version: 1\nrules:\n  - match: {paths: ['/api/**/orders']}\n    fields: [{path: $.a}]\n")
    for path, applies in [("/api/orders", True), ("/api/v2/orders", True), ("/api/order", False)]:
        assert bool(plan.view(Route("request", path=path), "application/json").rules) is applies, path
