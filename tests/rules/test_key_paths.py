"""The path the splice path reads back from a key (``Parents.object_of_key``, then ``step_of`` up to the
top) equals the one a forward reading of the body gives, through lists, escapes, whitespace and sibling containers."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.rules import test_json_escapes, test_json_splice
from tests.rules.test_json_escapes import encode
from tests.rules.test_json_splice import _encode, layouts
from veil.rules.json_bytes import mask_escapes
from veil.rules.json_paths import TOKEN, Parents


def _forward_paths(body: bytes) -> dict[int, tuple[str | None, ...]]:
    """Every key's opening quote -> its path (None for a list item), read forwards token by token."""
    frame = mask_escapes(body)
    paths: dict[int, tuple[str | None, ...]] = {}
    stack: list[list[Any]] = []  # [is object, path of the container, expecting a key, current key]
    pending: tuple[str | None, ...] = ()  # the path of the next value
    for m in TOKEN.finditer(frame):
        c = m.group()[0]
        if c in b"{[":
            stack.append([c == 0x7B, pending, c == 0x7B, None])
        elif c in b"}]":
            stack.pop()
        elif c == 0x2C:  # ,
            stack[-1][2] = stack[-1][0]
        elif c == 0x3A:  # :
            continue
        elif stack and stack[-1][0] and stack[-1][2]:
            key = orjson.loads(body[m.start() : m.end()])
            paths[m.start()] = (*stack[-1][1], key)
            stack[-1][2] = False
            stack[-1][3] = key
        if stack:  # what the next value's path is, once this token is read
            top = stack[-1]
            pending = (*top[1], top[3]) if top[0] else (*top[1], None)
    return paths


def _path_of_key(parents: Parents, q: int) -> tuple[str | None, ...]:
    """The keys from the top down to the key whose opening quote is at ``q``, as ``splice_keys._states_in``
    steps the selectors: None for a list item."""
    path: list[str | None] = [orjson.loads(parents.body[q : parents.frame.find(b'"', q + 1) + 1])]
    up = parents.step_of(parents.object_of_key(q))
    while up is not None:
        path.append(up[1])
        up = parents.step_of(up[0])
    return tuple(reversed(path))


def _check(body: bytes) -> None:
    parents = Parents(body, mask_escapes(body))
    for q, path in _forward_paths(body).items():
        assert _path_of_key(parents, q) == path, (body, q)


@settings(max_examples=300)
@given(st.data(), layouts)
def test_paths_read_back_equal_paths_read_forward(data: st.DataObject, layout: str) -> None:
    _check(_encode(data.draw(test_json_splice.docs), layout))
    escaped = data.draw(test_json_escapes.docs)  # keys with quotes, backslashes, newlines, written with escapes
    _check(encode(escaped, random.Random(data.draw(st.integers(0, 2**16))), 0.3))


@pytest.mark.parametrize(("body", "key", "path"), [
    (b'{"a": {"b": 1}}', b'"b"', ("a", "b")),
    (b'[{"a": 1}]', b'"a"', (None, "a")),
    (b'  {"x": [[1, {"y": {"z": 2}}], {"w": 3}]}', b'"z"', ("x", None, None, "y", "z")),
    (b'{"x": [[1, {"y": {"z": 2}}], {"w": 3}]}', b'"w"', ("x", None, "w")),
    (b'{"s": "{\\"q\\": [", "t": {"u": 0}}', b'"u"', ("t", "u")),  # brackets and quotes inside a string
    (b'{"k\\u0065y": {"v": 0}}', b'"v"', ("key", "v")),
])
def test_paths_of_some_keys(body: bytes, key: bytes, path: tuple[str | None, ...]) -> None:
    assert _path_of_key(Parents(body, mask_escapes(body)), body.index(key)) == path


def test_a_path_as_deep_as_the_limit_is_read_without_recursion() -> None:
    depth = 5000
    body = b'{"a": ' * depth + b"0" + b"}" * depth
    parents = Parents(body, mask_escapes(body))
    parents.budget = 10**9
    assert _path_of_key(parents, body.rindex(b'"a"')) == ("a",) * depth
