"""Read a small YAML config file (budgets.yaml, scenario.yaml) with errors that point at the line.

The YAML is read by veil's own policy loader (:mod:`veil.rules.source`), so a
syntax or indentation mistake, a duplicate key or a merge key reads exactly as it
does in a policy, and every value keeps its position. This module adds typed
accessors over that data: ``budgets.yaml:7:18: budgets.proxy.p95_ratio: expected a
number > 0, got 'fast'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from veil.errors import PolicyError
from veil.rules.source import Path, PolicySource, format_path, parse_policy_text


class ConfigFileError(PolicyError, ValueError):
    """A config file that cannot be used; ``source``, ``line``, ``column`` and ``field`` say where.

    A :class:`veil.errors.PolicyError` (same attributes, same ``file:line:col: field:
    message`` text); also a ValueError, as it was before the loaders were merged.
    """

    def __init__(self, source: str, line: int, column: int, field: str, message: str) -> None:
        super().__init__(message, source=source, line=line, column=column, field=field)


@dataclass(frozen=True)
class Value:
    """One value of the file plus where it is: its path in the document and the parsed file."""

    src: PolicySource
    path: Path
    data: Any

    @property
    def field(self) -> str:
        return format_path(self.path)

    def _position(self, *, of_key: bool = False) -> tuple[int, int]:
        return (self.src.positions if of_key else self.src.value_positions)[self.path]

    def error(self, message: str) -> ConfigFileError:
        """An error located at this value (``file:line:col: field: message``)."""
        line, column = self._position()
        return ConfigFileError(self.src.name, line, column, self.field, message)

    def _child(self, part: str | int, data: Any) -> Value:
        return Value(self.src, self.path + (part,), data)

    def _scalar(self) -> object:
        if isinstance(self.data, (dict, list)):
            raise self.error(f"expected a single value, got a {_kind(self.data)}")
        return self.data

    def mapping(self, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Value]:
        """The keys of a mapping; an unknown or missing key is an error naming it (the loader rejects duplicates)."""
        out = dict(self.items())
        for name, child in out.items():
            if name not in allowed:
                line, column = child._position(of_key=True)
                raise ConfigFileError(self.src.name, line, column, child.field,
                                      f"unknown key (expected one of {', '.join(allowed)})")
        missing = [k for k in required if k not in out]
        if missing:
            raise self.error(f"missing required key {missing[0]!r}")
        return out

    def items(self) -> Iterator[tuple[str, Value]]:
        """Free-form keys (names chosen by the user), each with its value, in file order."""
        if not isinstance(self.data, dict):
            raise self.error(f"expected a mapping, got a {_kind(self.data)}")
        for name, data in self.data.items():
            yield name, self._child(name, data)

    def sequence(self) -> list[Value]:
        if not isinstance(self.data, list):
            raise self.error(f"expected a list, got a {_kind(self.data)}")
        return [self._child(i, data) for i, data in enumerate(self.data)]

    def string(self) -> str:
        value = self._scalar()
        if not isinstance(value, str) or not value:
            raise self.error(f"expected a non-empty string, got {value!r}")
        return value

    def strings(self) -> tuple[str, ...]:
        """A list of strings, or a single string taken as a list of one."""
        if not isinstance(self.data, (list, dict)):
            return (self.string(),)
        items = self.sequence()
        if not items:
            raise self.error("expected at least one entry")
        return tuple(item.string() for item in items)

    def number(self, *, minimum: float = 0.0, inclusive: bool = False) -> float:
        value = self._scalar()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, got {value!r}")
        ok = value >= minimum if inclusive else value > minimum
        if not ok:
            bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
            raise self.error(f"expected a number {bound}, got {value!r}")
        return float(value)

    def integer(self, *, minimum: int = 1) -> int:
        value = self._scalar()
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"expected a whole number >= {minimum}, got {value!r}")
        return value


def _kind(data: object) -> str:
    if isinstance(data, dict):
        return "mapping"
    if isinstance(data, list):
        return "list"
    return "single value"


def parse_root(text: str, source: str) -> Value:
    """The document's root value; a YAML mistake is a ConfigFileError with its position."""
    try:
        src = parse_policy_text(text, source)
    except PolicyError as exc:
        raise ConfigFileError(exc.source, exc.line or 1, exc.column or 1, exc.field, exc.message) from exc
    if () not in src.positions:
        raise ConfigFileError(source, 1, 1, "", "the file is empty")
    return Value(src, (), src.data)
