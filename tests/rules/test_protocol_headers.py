"""Protocol headers are scanned (review of issue #15): ``Content-Type: text/plain; name=jane@example.com``
crossed unread, as did anything in Content-Encoding, Transfer-Encoding, TE, Trailer, Upgrade, Connection
and Keep-Alive. Routing and framing headers stay unscanned; Content-Type keeps its media type, charset and
boundary byte for byte, and fails closed when one of those holds a finding."""

from __future__ import annotations

import pytest

from veil import Route, compile_policy, default_plan
from veil.errors import RedactionError

PLAN = default_plan()


def redact(name: str, value: str) -> str:
    headers, _ = PLAN.redact_headers([(name, value)], Route("response"))
    assert len(headers) == 1 and headers[0][0] == name
    return headers[0][1]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Content-Type", "text/plain; name=jane@example.com", 'text/plain; name="[REDACTED:EMAIL]"'),
        ("content-type", 'text/plain; charset=utf-8; name="jane@example.com"',
         'text/plain; charset=utf-8; name="[REDACTED:EMAIL]"'),
        ("Content-Type", 'text/plain;a="x;y" ; name = jane@example.com ; q=1',
         'text/plain;a="x;y" ; name="[REDACTED:EMAIL]" ; q=1'),  # a quoted ';' separates nothing
        ("Content-Type", 'text/plain; name="jane\\@example.com"', 'text/plain; name="[REDACTED:EMAIL]"'),  # escape
        ("Content-Type", "text/plain; jane@example.com", "text/plain"),  # no "=": a name, dropped
        ("Content-Type", 'multipart/form-data; boundary=XyZ; x-owner="jane@example.com"',
         'multipart/form-data; boundary=XyZ; x-owner="[REDACTED:EMAIL]"'),
        ("Content-Encoding", "gzip, jane@example.com", "gzip, [REDACTED:EMAIL]"),
        ("Transfer-Encoding", "chunked, jane@example.com", "chunked, [REDACTED:EMAIL]"),
        ("TE", "trailers; q=jane@example.com", "trailers; q=[REDACTED:EMAIL]"),
        ("Trailer", "X-Note, jane@example.com", "X-Note, [REDACTED:EMAIL]"),
        ("Upgrade", "websocket, jane@example.com", "websocket, [REDACTED:EMAIL]"),
        ("Connection", "close, jane@example.com", "close, [REDACTED:EMAIL]"),
        ("Keep-Alive", "timeout=5, owner=jane@example.com", "timeout=5, owner=[REDACTED:EMAIL]"),
        # near-misses: values protocols use every day come back byte for byte
        ("Content-Type", "application/json", "application/json"),
        ("Content-Type", "text/html; charset=UTF-8", "text/html; charset=UTF-8"),
        ("Content-Type", 'multipart/form-data; boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"',
         'multipart/form-data; boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"'),
        ("Content-Type", 'application/vnd.api+json; profile="https://example.com/p"',
         'application/vnd.api+json; profile="https://example.com/p"'),
        ("Content-Encoding", "gzip, br", "gzip, br"),
        ("Transfer-Encoding", "chunked", "chunked"),
        ("Keep-Alive", "timeout=5, max=1000", "timeout=5, max=1000"),
        ("Connection", "Upgrade, HTTP2-Settings", "Upgrade, HTTP2-Settings"),
        # routing and framing: never scanned
        ("Host", "jane@example.com", "jane@example.com"),
        (":authority", "jane@example.com", "jane@example.com"),
        ("Content-Length", "4111111111111111", "4111111111111111"),
    ],
)
def test_protocol_headers_are_redacted_where_they_carry_a_value(name: str, value: str, expected: str) -> None:
    assert redact(name, value) == expected


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("multipart/form-data; boundary=jane@example.com", "boundary"),
        ('multipart/form-data; boundary="--jane@example.com"', "boundary"),
        ("text/plain; charset=jane@example.com", "charset"),
        ("text/jane@example.com", "media type"),
        ("jane@example.com", "media type"),
    ],
)
def test_a_finding_in_what_says_how_to_read_the_body_fails_closed(value: str, where: str) -> None:
    """Rewriting charset or boundary would leave the body unreadable by its own label (and a boundary
    repeats on every delimiter line of the body): refused, the message naming the part, not its text."""
    with pytest.raises(RedactionError) as info:
        PLAN.redact_headers([("Content-Type", value)], Route("response"))
    assert info.value.reason == "unredactable_header"
    assert where in str(info.value) and "jane" not in str(info.value)


def test_a_detect_only_finding_in_the_boundary_is_reported_not_refused() -> None:
    plan = compile_policy("version: 1\nrules:\n  - id: watch\n    mode: detect\n    scan: true\n", source="t")
    value = "multipart/form-data; boundary=jane@example.com"
    headers, report = plan.redact_headers([("Content-Type", value)], Route("response"))
    assert headers == [("Content-Type", value)]
    assert [(f.type, f.mode) for f in report.findings] == [("EMAIL", "detect")]


def test_a_content_type_with_a_finding_is_never_remembered_as_clean() -> None:
    """Values found clean are remembered by digest and not scanned again; one with a finding is, each time."""
    dirty = [("Content-Type", "text/plain; name=jane@example.com")]
    first, second = (PLAN.redact_headers(dirty, Route("response"))[0] for _ in range(2))
    assert first == second == [("Content-Type", 'text/plain; name="[REDACTED:EMAIL]"')]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # parameter names are payload too: Django's request.content_params hands them to the app
        ("application/json; jane@example.com=1", "application/json"),
        ("text/plain; 4111111111111111=x", "text/plain"),
        ("text/plain; charset=utf-8; jane@example.com=1; q=2", "text/plain; charset=utf-8; q=2"),
        # RFC 2231 continuations: receivers join the pieces, so veil scans them joined
        ('text/plain; name*0=jane; name*1="@example.com"', 'text/plain; name="[REDACTED:EMAIL]"'),
        ("text/plain; name*0*=UTF-8''jane%40; name*1=example.com; q=1",
         "text/plain; name*=UTF-8''%5BREDACTED%3AEMAIL%5D; q=1"),
        # RFC 8187 stays RFC 8187, never quoted (name*="UTF-8''..." is no valid syntax)
        ("text/plain; name*=UTF-8''jane%40example.com", "text/plain; name*=UTF-8''%5BREDACTED%3AEMAIL%5D"),
        ("text/plain; name*=UTF-8'en'jane%40example%2Ecom", "text/plain; name*=UTF-8'en'%5BREDACTED%3AEMAIL%5D"),
        # near misses: pieces and names with nothing in them stay byte for byte
        ("text/plain; name*0=jane; name*1=doe", "text/plain; name*0=jane; name*1=doe"),
        ("text/plain; name*=UTF-8''caf%C3%A9", "text/plain; name*=UTF-8''caf%C3%A9"),
        ("application/json; profile=1; q=0.5", "application/json; profile=1; q=0.5"),
        ("text/plain; charset=utf-8; charset=utf-8", "text/plain; charset=utf-8; charset=utf-8"),
    ],
)
def test_parameters_are_scanned_as_receivers_read_them(value: str, expected: str) -> None:
    assert redact("Content-Type", value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("text/plain; charset=utf-8; charset=utf-16", "charset twice"),
        ("text/plain; name*=jane%40example.com", "cannot be read"),  # no charset'language'
        ("text/plain; name*0=jane; name*0=x@example.com", "cannot be read"),
    ],
)
def test_content_types_receivers_read_differently_are_refused(value: str, message: str) -> None:
    with pytest.raises(RedactionError) as info:
        PLAN.redact_headers([("Content-Type", value)], Route("response"))
    assert info.value.reason == "unredactable_header"
    assert message in str(info.value) and "jane" not in str(info.value) and "utf-16" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 2231 pieces: receivers (werkzeug, Django, browsers) join them into jane@example.com.txt
        ('attachment; filename*0="jane"; filename*1="@example.com.txt"', 'attachment; filename="[REDACTED:EMAIL]"'),
        # RFC 8187: stays a valid extended value (percent-encoded), as Content-Type's do
        ("attachment; filename*=UTF-8''jane%40example.com.txt", "attachment; filename*=UTF-8''%5BREDACTED%3AEMAIL%5D"),
        ('inline; filename="jane@example.com.pdf"', 'inline; filename="[REDACTED:EMAIL]"'),
        # near misses: file names with nothing in them stay byte for byte
        ('attachment; filename="report.pdf"', 'attachment; filename="report.pdf"'),
        ("attachment; filename=report_2024.pdf; size=1234", "attachment; filename=report_2024.pdf; size=1234"),
    ],
)
def test_content_disposition_parameters_are_read_as_receivers_read_them(value: str, expected: str) -> None:
    assert redact("Content-Disposition", value) == expected
