"""The redact action: a fixed placeholder, validated when the policy is compiled."""

from __future__ import annotations

import pytest

from veil.rules.actions.redact import Redact


@pytest.mark.parametrize(
    ("template", "value", "entity", "expected"),
    [
        ("[REDACTED:{type}]", "jane@example.com", "EMAIL", "[REDACTED:EMAIL]"),
        ("[REDACTED:{type}]", "", "EMAIL", "[REDACTED:EMAIL]"),  # empty value
        ("[REDACTED:{type}]", "x", "PIN", "[REDACTED:PIN]"),  # one char
        ("[REDACTED:{type}]", "😀" * 3, "EMOJI", "[REDACTED:EMOJI]"),  # emoji
        ("[REDACTED:{type}]", "a" * 100_000, "BLOB", "[REDACTED:BLOB]"),  # very long
        ("<{type}>", "Zoë Ñúñez", "NAME", "<NAME>"),  # non-ASCII value, custom template
        ("{type}/{type}", "v", "X", "X/X"),  # placeholder twice
        ("***", "secret", "X", "***"),  # no placeholder at all
        ("{{type}} {type}", "v", "X", "{type} X"),  # doubled braces are literal
        ("", "secret", "X", ""),  # empty template
    ],
)
def test_redact_replaces_value_with_template(
    template: str, value: str, entity: str, expected: str
) -> None:
    assert Redact(template).apply(value, entity) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("[{value}]", r"may only use the placeholder '\{type\}', got '\{value\}'"),  # other name
        ("[{}]", r"may only use the placeholder '\{type\}', got '\{\}'"),  # positional
        ("[{0}]", r"got '\{0\}'"),  # numbered
        ("[{type!r}]", r"got '\{type!r\}'"),  # conversion
        ("[{type:>10}]", r"got '\{type:>10\}'"),  # format spec
        ("[{type.__class__}]", r"got '\{type.__class__\}'"),  # attribute access
        ("[REDACTED:{type]", r"is not valid: .*literal brace"),  # unbalanced open brace
        ("REDACTED}", r"is not valid: .*literal brace"),  # lone close brace
    ],
)
def test_redact_rejects_templates_with_other_placeholders(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=rf"^redact template .*{message}"):
        Redact(template)


def test_redact_is_idempotent() -> None:
    action = Redact()
    once = action.apply("jane@example.com", "EMAIL")
    assert action.apply(once, "EMAIL") == once
