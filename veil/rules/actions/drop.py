"""The ``drop`` action: remove the field, header or parameter entirely.

Adapters see ``removes = True`` and delete the container entry instead of
writing a value; for a span inside free text the span is replaced by ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Drop:
    """Removes the value; ``apply`` returns ``""`` for spans of free text.

    >>> Drop().apply("jane@example.com", "EMAIL")
    ''
    """

    name: ClassVar[str] = "drop"
    removes: ClassVar[bool] = True
    value_free: ClassVar[bool] = True
    changes: ClassVar[bool] = True

    def apply(self, value: str, entity: str) -> str:
        return ""
