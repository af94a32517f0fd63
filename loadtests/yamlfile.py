"""Read a small YAML config file (budgets.yaml, scenario.yaml) with errors that point at the line.

Errors read like veil's policy errors: ``budgets.yaml:7:18: budgets.proxy.p95_ratio: expected
a positive number, got 'fast'``. Positions come from the YAML node tree, so every
value can be blamed on its own line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml


class ConfigFileError(ValueError):
    """A config file that cannot be used; ``source``, ``line``, ``column`` and ``field`` say where."""

    def __init__(self, source: str, line: int, column: int, field: str, message: str) -> None:
        self.source, self.line, self.column, self.field = source, line, column, field
        where = f"{source}:{line}:{column}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


@dataclass(frozen=True)
class Value:
    """One YAML node plus where it is (file, position, dotted field path)."""

    node: yaml.Node
    source: str
    field: str
    loader: yaml.SafeLoader

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    def error(self, message: str) -> ConfigFileError:
        return ConfigFileError(self.source, self.line, int(self.node.start_mark.column) + 1, self.field, message)

    def _child(self, node: yaml.Node, name: str) -> Value:
        field = f"{self.field}{name}" if name.startswith("[") or not self.field else f"{self.field}.{name}"
        return Value(node, self.source, field, self.loader)

    def _scalar(self) -> object:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error(f"expected a single value, got a {_kind(self.node)}")
        return self.loader.construct_object(self.node)

    def mapping(self, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Value]:
        """The keys of a mapping; an unknown, duplicate or missing key is an error naming it."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"expected a mapping, got a {_kind(self.node)}")
        out: dict[str, Value] = {}
        for key_node, value_node in self.node.value:
            key = self._child(key_node, "")._scalar()
            name = str(key)
            child = self._child(value_node, name)
            if name not in allowed:
                raise Value(key_node, self.source, child.field, self.loader).error(
                    f"unknown key (expected one of {', '.join(allowed)})")
            if name in out:
                raise Value(key_node, self.source, child.field, self.loader).error("duplicate key")
            out[name] = child
        missing = [k for k in required if k not in out]
        if missing:
            raise self.error(f"missing required key {missing[0]!r}")
        return out

    def items(self) -> Iterator[tuple[str, Value]]:
        """Free-form keys (names chosen by the user), each with its value."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"expected a mapping, got a {_kind(self.node)}")
        seen: set[str] = set()
        for key_node, value_node in self.node.value:
            name = str(self._child(key_node, "")._scalar())
            if name in seen:
                raise Value(key_node, self.source, self._child(value_node, name).field, self.loader).error(
                    "duplicate key")
            seen.add(name)
            yield name, self._child(value_node, name)

    def sequence(self) -> list[Value]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"expected a list, got a {_kind(self.node)}")
        return [self._child(node, f"[{i}]") for i, node in enumerate(self.node.value)]

    def string(self) -> str:
        value = self._scalar()
        if not isinstance(value, str) or not value:
            raise self.error(f"expected a non-empty string, got {value!r}")
        return value

    def strings(self) -> tuple[str, ...]:
        """A list of strings, or a single string taken as a list of one."""
        if isinstance(self.node, yaml.ScalarNode):
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


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "single value"


def parse_root(text: str, source: str) -> Value:
    """The document's root node; a YAML syntax error is a ConfigFileError with its position."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise ConfigFileError(source, line, column, "", f"invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigFileError(source, 1, 1, "", f"invalid YAML: {exc}") from exc
    if node is None:
        raise ConfigFileError(source, 1, 1, "", "the file is empty")
    return Value(node, source, "", loader)
