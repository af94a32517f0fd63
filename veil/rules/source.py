"""YAML policy text -> plain data plus a map from each value's path to its position.

Text in, never a path: reading the file is ``veil.settings``' job. Positions are
1-based ``(line, column)``; a path is a tuple of mapping keys and list indices,
the same shape as a pydantic error ``loc``, so validation errors can point at
the exact place in the file. Also the loader of loadtests' own YAML files
(budgets, scenarios), so both say what is wrong with a file the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from veil.errors import PolicyError

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class PolicySource:
    """Parsed policy text: ``data`` as plain Python values, ``positions`` by path.

    ``positions`` of a mapping entry is where its key is (errors about a key point
    at the key); ``value_positions`` is where its value starts (errors about a
    value point at the value). The two differ only for mapping entries.
    """

    name: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position_of(self, path: Path) -> tuple[int, int]:
        """Position of ``path``, or of its nearest ancestor present in the file."""
        probe = tuple(path)
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (1, 1))

    def error(self, path: Path, message: str) -> PolicyError:
        """A PolicyError located at ``path`` (``rules[2].fields[0].path`` style)."""
        line, column = self.position_of(path)
        return PolicyError(
            message, source=self.name, line=line, column=column, field=format_path(path)
        )


def format_path(path: Path) -> str:
    """``("rules", 2, "fields", 0, "path")`` -> ``rules[2].fields[0].path``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_policy_text(text: str, name: str = "<policy>") -> PolicySource:
    """Parse YAML ``text``; raise PolicyError for syntax errors and duplicate keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = _at(mark) if mark else (0, 0)
        reason = exc.problem or exc.context or "invalid YAML"
        indentation = _indentation_problem(exc, text)
        if indentation is not None:
            line, column, reason = indentation
            where = _block_at(text, line - 1, exc.context_mark) if exc.context_mark is not None else ""
            raise PolicyError(f"invalid YAML: {reason}", source=name, line=line, column=column, field=where) from exc
        if exc.problem and exc.context and exc.context_mark is not None:
            # The context names where the unfinished construct began, often the real mistake.
            start = exc.context_mark
            reason += f" ({exc.context} that starts at line {start.line + 1}, column {start.column + 1})"
        raise PolicyError(f"invalid YAML: {reason}", source=name, line=line, column=column) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid YAML: {exc}", source=name) from exc
    positions: dict[Path, tuple[int, int]] = {}
    if node is None:
        return PolicySource(name, None, positions)
    values: dict[Path, tuple[int, int]] = {}
    data = _build(node, (), positions, name, values)
    return PolicySource(name, data, positions, values)


def _indentation_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str] | None:
    """PyYAML's indentation errors in user terms: (line, column, reason), or None for others.

    PyYAML says ``expected <block end>, but found '?'`` or ``mapping values are not
    allowed here``; what the user did is indent a line to a column no block above it
    uses. Positions are of the line's first character, not of PyYAML's token.
    """
    mark = exc.problem_mark
    problem = exc.problem or ""
    if mark is None:
        return None
    lines = text.splitlines()
    here = lines[mark.line] if mark.line < len(lines) else ""
    line, column = mark.line + 1, len(here) - len(here.lstrip(" ")) + 1
    start = exc.context_mark
    if problem.startswith("expected <block end>") and start is not None:
        what = "a list item" if here.lstrip(" ").startswith("-") else "this line"
        if what == "a list item" and column == start.column + 1:
            return line, column, (
                f"bad indentation: a list item ('-') at column {column}, among the keys of the mapping "
                f"from line {start.line + 1}: to add an item to a list above, put its '-' at that list's column"
            )
        return line, column, (
            f"bad indentation: {what} starts at column {column}, which lines up with no block above it "
            f"(the block it falls in, from line {start.line + 1}, has its entries at column {start.column + 1}); "
            "entries of one block start at the same column, and a nested block is indented further"
        )
    if problem == "mapping values are not allowed here":
        return line, column, (
            f"unexpected ':' at column {mark.column + 1}: a 'key: value' cannot start here; this line may be "
            "indented further than the line before it allows, or a value holding ': ' needs quotes"
        )
    return None


def _block_at(text: str, bad_line: int, start: yaml.Mark) -> str:
    """The field path (``rules[0]``) of the block that starts at ``start``, read from the
    lines before ``bad_line``; "" when they do not parse either."""
    prefix = "\n".join(text.splitlines()[:bad_line])
    positions: dict[Path, tuple[int, int]] = {}
    try:
        node = yaml.compose(prefix, Loader=yaml.SafeLoader)
        if node is not None:
            _build(node, (), positions, "", {})
    except (yaml.YAMLError, PolicyError):
        return ""
    target = _at(start)
    paths = [path for path, position in positions.items() if position == target and path]
    return format_path(min(paths, key=len)) if paths else ""


def _build(
    node: yaml.Node, path: Path, positions: dict[Path, tuple[int, int]], name: str,
    values: dict[Path, tuple[int, int]],
) -> Any:
    positions[path] = values[path] = _at(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line, column = _at(key_node.start_mark)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise PolicyError("YAML merge keys ('<<') are not supported: write the keys out",
                                  source=name, line=line, column=column, field=format_path(path))
            key = _construct_scalar(key_node)
            if not isinstance(key, str):
                key = str(key)
            child = path + (key,)
            if key in out:
                raise PolicyError(f"duplicate key '{key}'",
                                  source=name, line=line, column=column, field=format_path(child))
            out[key] = _build(value_node, child, positions, name, values)
            # Point errors about a key at the key itself, not at its value.
            positions[child] = (line, column)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), positions, name, values) for i, item in enumerate(node.value)]
    return _construct_scalar(node)


def _at(mark: yaml.Mark) -> tuple[int, int]:
    """A PyYAML mark (0-based) as a 1-based (line, column)."""
    return mark.line + 1, mark.column + 1


def _construct_scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
