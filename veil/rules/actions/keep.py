"""The ``keep`` action: leave the value as it is.

Used to allow-list a field or entity that a broader rule would otherwise
rewrite; ``changes = False`` lets the engine skip the write (and count the
match as kept in the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Keep:
    """Returns the value unchanged.

    >>> Keep().apply("jane@example.com", "EMAIL")
    'jane@example.com'
    """

    name: ClassVar[str] = "keep"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = False
    changes: ClassVar[bool] = False

    def apply(self, value: str, entity: str) -> str:
        return value
