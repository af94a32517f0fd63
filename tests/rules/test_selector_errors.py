"""A JSONPath mistake is said in the user's terms, never as the parser's own text."""

from __future__ import annotations

import pytest

from veil.rules.selectors import SelectorError, compile_selector


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("$.customer.[email", "it ends too early (an unclosed '[', a trailing '.' or an unfinished name)"),
        ("$.a.", "it ends too early (an unclosed '[', a trailing '.' or an unfinished name)"),
        ("$.a b", "unexpected 'b' at character 5"),
        ("a]", "unexpected ']' at character 2"),
    ],
)
def test_parse_errors_say_what_is_wrong(path: str, message: str) -> None:
    with pytest.raises(SelectorError) as caught:
        compile_selector(path)
    assert str(caught.value) == f"invalid JSONPath {path!r}: {message}"
    assert "Parse error" not in str(caught.value)


@pytest.mark.parametrize("path", ["$.customer.email", "$.items[*].name", "$..email", "$['a b']"])
def test_valid_paths_compile(path: str) -> None:  # near-misses of the table above
    assert compile_selector(path).text == path
