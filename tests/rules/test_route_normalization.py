"""Path and host rules apply to every spelling the server behind routes the same way.

A proxy sees the raw request target: ``/%61pi/x``, ``//api/x`` and ``/x/../api/x`` all reach
``/api/x`` upstream, and ``api.openai.com.`` is ``api.openai.com``. A rule scoped to the
path or host must apply to each, or the body crosses unredacted.
"""

from __future__ import annotations

import pytest

import veil

PATH_POLICY = veil.compile_policy(
    "version: 1\nrules:\n  - match: {paths: ['/api/**']}\n    scan: {detectors: [EMAIL]}\n"
)
HOST_POLICY = veil.compile_policy(
    "version: 1\nrules:\n  - match: {hosts: [api.openai.com]}\n    scan: {detectors: [EMAIL]}\n"
)
BODY = b"mail jane@example.com"


@pytest.mark.parametrize(
    ("path", "covered"),
    [
        ("/api/x", True),
        ("/%61pi/x", True),  # percent-encoded letter
        ("//api/x", True),  # doubled slash
        ("/./api/x", True),
        ("/x/../api/x", True),  # dot segments
        ("/api%2fx", True),  # an encoded slash: ASGI servers decode it into the path
        ("/api/", True),
        # near misses: other paths stay outside the rule
        ("/apix/y", False),
        ("/x/api/y", False),
        ("/%61pix", False),
    ],
)
def test_a_path_rule_applies_to_every_spelling_of_its_paths(path: str, covered: bool) -> None:
    route = veil.Route("request", "POST", "", path, "text/plain")
    out = PATH_POLICY.redact_body(BODY, "text/plain", route).output
    assert (b"jane@example.com" not in out) is covered


@pytest.mark.parametrize(
    ("host", "covered"),
    [
        ("api.openai.com", True),
        ("API.OpenAI.com", True),
        ("api.openai.com.", True),  # fully qualified, trailing dot
        ("api.openai.com.:443", True),
        ("api.openai.com.evil.example", False),  # near miss
        ("openai.com", False),
    ],
)
def test_a_host_rule_applies_to_every_spelling_of_its_host(host: str, covered: bool) -> None:
    route = veil.Route("request", "POST", host, "/v1/chat", "text/plain")
    out = HOST_POLICY.redact_body(BODY, "text/plain", route).output
    assert (b"jane@example.com" not in out) is covered
