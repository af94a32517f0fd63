"""ext_proc messages <-> veil's plain values: header maps read, mutations written, hosts parsed (issue 17)."""

from __future__ import annotations

import pytest

pytest.importorskip("envoy.service.ext_proc.v3.external_processor_pb2", reason="needs veil[envoy]")

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue

from veil.extproc.exchange import host_of
from veil.extproc.messages import (
    BUFFERED,
    NONE,
    body_reply,
    head_of,
    header_mutation,
    headers_reply,
    mode,
    refusal,
    reply_to_headers,
    rewritten_body_reply,
    set_header,
    trailers_reply,
    unchanged_body,
    unchanged_trailers,
)
from veil.http import replace_length


def _applied(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``old`` with the mutation applied as Envoy does: removals, then sets (append or overwrite)."""
    mutation = header_mutation(old, new)
    if mutation is None:
        return old
    out = [(k, v) for k, v in old if k not in mutation.remove_headers]
    for option in mutation.set_headers:
        name, value = option.header.key, option.header.raw_value.decode("latin-1")
        if not option.append.value:
            out = [(k, v) for k, v in out if k != name]
        out.append((name, value))
    return out


@pytest.mark.parametrize(("old", "new"), [
    ([("a", "1")], [("a", "1")]),  # unchanged: no mutation at all
    ([("a", "1"), ("b", "2")], [("a", "x"), ("b", "2")]),  # one value changed, its neighbour untouched
    ([("set-cookie", "s=1"), ("set-cookie", "t=2")], [("set-cookie", "s=X"), ("set-cookie", "t=X")]),  # repeats kept
    ([("set-cookie", "s=1"), ("set-cookie", "t=2")], [("set-cookie", "s=1"), ("set-cookie", "t=X")]),  # only the 2nd
    ([("x-user-jane@example.com", "1"), ("b", "2")], [("b", "2")]),  # a name holding a finding: removed
    ([("content-length", "10")], [("content-length", "12")]),
    ([("a", "1")], [("a", "1"), ("etag", "x")]),  # added
])
def test_mutation_turns_the_old_headers_into_the_new(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> None:
    assert sorted(_applied(old, new)) == sorted(new)
    if old == new:
        assert header_mutation(old, new) is None


def test_mutation_writes_values_as_bytes_beyond_latin1() -> None:
    mutation = header_mutation([("x", "a")], [("x", "•••")])
    assert mutation is not None
    assert mutation.set_headers[0].header.raw_value == "•••".encode()


def test_head_reads_raw_value_and_splits_pseudo_headers() -> None:
    header_map = HeaderMap(headers=[
        HeaderValue(key=":path", raw_value=b"/a?b=1"), HeaderValue(key=":method", raw_value=b"POST"),
        HeaderValue(key="content-type", raw_value=b"application/json"), HeaderValue(key="x-old", value="v"),
        HeaderValue(key="x-latin", raw_value=b"caf\xe9"), HeaderValue(key="content-length", raw_value=b"12"),
    ])
    head = head_of(header_map)
    assert head.pseudo == {":path": "/a?b=1", ":method": "POST"}
    assert head.headers == [("content-type", "application/json"), ("x-old", "v"), ("x-latin", "café"),
                            ("content-length", "12")]
    assert (head.content_type, head.content_length) == ("application/json", 12)


@pytest.mark.parametrize(("value", "length"), [("12", 12), ("", None), ("12abc", None), ("-1", None)])
def test_declared_length_is_a_number_or_unknown(value: str, length: int | None) -> None:
    headers = [HeaderValue(key="content-length", raw_value=value.encode())] if value else []
    assert head_of(HeaderMap(headers=headers)).content_length == length


@pytest.mark.parametrize(("authority", "host"), [
    ("api.example.com", "api.example.com"),
    ("api.example.com:8443", "api.example.com"),
    ("[::1]:8080", "::1"),
    ("[::1]", "::1"),
    ("::1", "::1"),  # bare IPv6: no port to strip
    ("", ""),
])
def test_host_of_an_authority(authority: str, host: str) -> None:
    assert host_of(authority) == host


def test_set_header_replaces_an_earlier_set_of_the_same_name() -> None:
    mutation = set_header(header_mutation([("a", "1")], [("a", "2")]), ":path", "/x")
    mutation = set_header(mutation, ":path", "/y")
    assert [(o.header.key, o.header.raw_value) for o in mutation.set_headers] == [("a", b"2"), (":path", b"/y")]


@pytest.mark.parametrize(("reason", "direction", "status"), [
    ("invalid_json", "request", 400), ("body_too_large", "request", 413), ("body_too_large", "response", 502),
])
def test_refusal_is_veils_json_error(reason: str, direction: str, status: int) -> None:
    immediate = refusal(reason, direction).immediate_response
    assert immediate.status.code == status
    assert immediate.body == f'{{"error":"veil_redaction_failed","reason":"{reason}","direction":"{direction}"}}'.encode()
    assert [(o.header.key, o.header.raw_value) for o in immediate.headers.set_headers] == [
        ("content-type", b"application/json")]


@pytest.mark.parametrize(("sent", "acted_on"), [
    ("application/json", "application/json"),
    ("image/png,application/json", ""),  # two lines Envoy joined, disagreeing: no type, so the body is sniffed
    ("application/json, application/json", "application/json"),  # two lines that agree
    ('multipart/form-data; boundary="a,b"', 'multipart/form-data; boundary="a,b"'),  # a quoted comma: one line
    ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
])
def test_content_type_of_lines_envoy_joined(sent: str, acted_on: str) -> None:
    head = head_of(HeaderMap(headers=[HeaderValue(key="content-type", raw_value=sent.encode())]))
    assert head.content_type == acted_on


@pytest.mark.parametrize("sent", [
    [], [("content-length", "5")], [("content-length", "3")], [("content-length", "5"), ("content-length", "5")],
    [("Content-Length", "5"), ("etag", '"x"'), ("ETag", '"y"'), ("digest", "sha-256=:a:")],
    [("a", "1"), ("content-md5", "m"), ("content-length", "7")], [("etag", '"x"')], [("a", "b")],
])
@pytest.mark.parametrize("length", [None, 0, 3, 5])
@pytest.mark.parametrize("direction", ["request", "response"])
def test_rewritten_body_reply_is_the_body_with_the_length_mutation(
    sent: list[tuple[str, str]], length: int | None, direction: str,
) -> None:
    """One message, as ``body_reply`` with ``header_mutation(sent, replace_length(sent, length))`` would be."""
    for new_body in (b"", b"abc"):
        made = getattr(rewritten_body_reply(direction, new_body, sent, length), f"{direction}_body").response
        expected = getattr(body_reply(direction, new_body, header_mutation(sent, replace_length(sent, length))),
                           f"{direction}_body").response
        assert made.body_mutation == expected.body_mutation
        assert made.HasField("header_mutation") == expected.HasField("header_mutation")
        assert sorted(made.header_mutation.remove_headers) == sorted(expected.header_mutation.remove_headers)
        assert [o.SerializeToString() for o in made.header_mutation.set_headers] == [
            o.SerializeToString() for o in expected.header_mutation.set_headers]


@pytest.mark.parametrize("direction", ["request", "response"])
def test_shared_replies_are_the_replies_they_stand_for(direction: str) -> None:
    assert reply_to_headers(direction, None, BUFFERED, NONE) == headers_reply(direction, None, mode(BUFFERED, NONE))
    assert reply_to_headers(direction, None, BUFFERED, NONE) is reply_to_headers(direction, None, BUFFERED, NONE)
    changed = header_mutation([("a", "1")], [("a", "2")])
    assert reply_to_headers(direction, changed, NONE, BUFFERED) == headers_reply(direction, changed, mode(NONE, BUFFERED))
    assert unchanged_body(direction) == body_reply(direction)
    assert unchanged_trailers(direction) == trailers_reply(direction)
    made = reply_to_headers(direction, None, NONE, NONE)
    assert made.SerializeToString() == headers_reply(direction, None, mode(NONE, NONE)).SerializeToString()
