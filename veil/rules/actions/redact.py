"""The ``redact`` action: replace the value with a fixed placeholder.

The placeholder names the entity (``[REDACTED:EMAIL]``) but nothing about the
value, not even its length. This is the safest action and the fallback of
``generalize``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import ClassVar

DEFAULT_TEMPLATE = "[REDACTED:{type}]"


def _split_template(template: str) -> tuple[str, ...]:
    """Split ``template`` into the literal pieces around each ``{type}``.

    Raises ValueError for any other placeholder, a conversion or format spec,
    or an unbalanced brace (``{{`` and ``}}`` are literal braces).
    """
    pieces: list[str] = []
    current = ""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"redact template {template!r} is not valid: {exc}; "
            "write '{{' or '}}' for a literal brace"
        ) from None
    for literal, field_name, format_spec, conversion in parsed:
        current += literal
        if field_name is None:
            continue
        if field_name != "type" or format_spec or conversion:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "")
            shown += (f":{format_spec}" if format_spec else "") + "}"
            raise ValueError(
                f"redact template {template!r} may only use the placeholder "
                f"'{{type}}', got {shown!r}"
            )
        pieces.append(current)
        current = ""
    pieces.append(current)
    return tuple(pieces)


@dataclass(frozen=True, slots=True)
class Redact:
    """Replaces the value with ``template``, ``{type}`` standing for the entity.

    The template is checked when the policy is compiled: ``{type}`` is the only
    placeholder allowed (anything else raises ValueError). The output does not
    depend on the value, so redacting twice equals redacting once.

    >>> Redact().apply("jane@example.com", "EMAIL")
    '[REDACTED:EMAIL]'
    """

    template: str = DEFAULT_TEMPLATE
    _pieces: tuple[str, ...] = field(init=False, repr=False, compare=False)

    name: ClassVar[str] = "redact"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = True
    changes: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pieces", _split_template(self.template))

    def apply(self, value: str, entity: str) -> str:
        return entity.join(self._pieces)
