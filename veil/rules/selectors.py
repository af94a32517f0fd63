"""JSONPath selectors compiled into steps matched while the engine walks a document.

jsonpath-ng parses the selector once, at compile time; its ``find`` is never
called per request. The engine carries a small set of ``(selector, step)``
states down the tree and advances them one key at a time, so every selector is
matched in the same single walk.

Supported: ``$``, ``.name`` / ``['name']``, ``*`` / ``[*]``, ``[0]`` / ``[-1]``,
slices ``[1:3]``, and recursive descent ``..name`` / ``..*``. Filters and
arithmetic are rejected at compile time: they need the values, not the path.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import jsonpath_ng
from jsonpath_ng import jsonpath as jp

Key = str | int


class SelectorError(ValueError):
    """The selector is not valid or not supported; the message says why."""


@dataclass(frozen=True, slots=True)
class Step:
    """One path step. ``names`` None means any key or index."""

    names: frozenset[str] | None = None
    indices: tuple[int, ...] | None = None
    slice_: tuple[int | None, int | None, int | None] | None = None
    anywhere_below: bool = False

    def matches(self, key: Key, length: int) -> bool:
        if isinstance(key, str):
            if self.indices is not None or self.slice_ is not None:
                return False
            return self.names is None or key in self.names
        # list index
        if self.names is not None:
            return False
        if self.indices is not None:
            return any(key == (i if i >= 0 else length + i) for i in self.indices)
        if self.slice_ is not None:
            start, stop, step = self.slice_
            return key in range(length)[slice(start, stop, step)]
        return True


@dataclass(frozen=True, slots=True)
class Selector:
    text: str
    steps: tuple[Step, ...]


_AT_TOKEN = re.compile(r"Parse error at \d+:(\d+) near token (.*?) \([^()]*\)$")


def _in_user_terms(message: str, text: str) -> str:
    """jsonpath-ng's parser message said as what is wrong in the path (its own words otherwise)."""
    if message.startswith("Parse error near the end of string"):
        return "it ends too early (an unclosed '[', a trailing '.' or an unfinished name)"
    found = _AT_TOKEN.match(message)
    if found is not None:
        return f"unexpected {found[2]!r} at character {int(found[1]) + 1}"  # its column counts from 0
    return message


def compile_selector(text: str) -> Selector:
    """Parse ``text`` with jsonpath-ng and flatten it to steps."""
    if "[?" in text or "?(" in text:
        raise SelectorError(
            f"unsupported JSONPath filter in {text!r}: filters select by value, veil selects by path "
            "(use names, wildcards, indices, slices or ..)"
        )
    try:
        # jsonpath-ng warns about deprecated syntax ('|'); under -W error that would
        # replace the real answer (unsupported) with a warning's text.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = jsonpath_ng.parse(text)  # type: ignore[attr-defined]  # re-exported, not in __all__
    except Exception as exc:  # jsonpath-ng raises bare Exception for lexer errors
        raise SelectorError(f"invalid JSONPath {text!r}: {_in_user_terms(str(exc), text)}") from None
    steps: list[Step] = []
    _flatten(tree, steps, text)
    if not steps:
        raise SelectorError(f"JSONPath {text!r} selects the whole document; name a field")
    return Selector(text, tuple(steps))


def _flatten(node: object, steps: list[Step], text: str) -> None:
    if isinstance(node, jp.Root):
        return
    if isinstance(node, jp.Child):
        _flatten(node.left, steps, text)
        _flatten(node.right, steps, text)
        return
    if isinstance(node, jp.Descendants):
        _flatten(node.left, steps, text)
        before = len(steps)
        _flatten(node.right, steps, text)
        if len(steps) > before:
            first = steps[before]
            steps[before] = Step(first.names, first.indices, first.slice_, anywhere_below=True)
        return
    if isinstance(node, jp.Fields):
        if "*" in node.fields:
            steps.append(Step())
        else:
            steps.append(Step(names=frozenset(node.fields)))
        return
    if isinstance(node, jp.Index):
        indices = tuple(getattr(node, "indices", ()) or (getattr(node, "index"),))
        steps.append(Step(indices=indices))
        return
    if isinstance(node, jp.Slice):
        if node.start is None and node.end is None and node.step is None:
            steps.append(Step())  # [*] parses as an open slice
        else:
            steps.append(Step(slice_=(node.start, node.end, node.step)))
        return
    if isinstance(node, jp.Wildcard):
        steps.append(Step())
        return
    kind = _ELEMENT_NAMES.get(type(node).__name__, type(node).__name__)
    raise SelectorError(
        f"unsupported JSONPath {kind} in {text!r}; supported: "
        "names, wildcards, indices, slices and recursive descent (..)"
    )


_ELEMENT_NAMES = {
    "Union": "union ('|')",
    "_Union": "union ('|')",
    "Intersect": "intersection ('&')",
    "Where": "'where'",
    "WhereNot": "'wherenot'",
    "Parent": "'`parent`'",
    "This": "'@' (this)",
}

State = tuple[int, int]
"""(selector index, index of the next step to match)."""


def advance(
    selectors: tuple[Selector, ...], states: frozenset[State], key: Key, length: int
) -> tuple[frozenset[State], tuple[int, ...]]:
    """States for the child ``key``, and the selectors that end exactly at it, in selector order
    (the view lists them in rule precedence: the first that ends at a key decides it)."""
    nxt: set[State] = set()
    done: list[int] = []
    for sid, i in states:
        step = selectors[sid].steps[i]
        if step.anywhere_below:
            nxt.add((sid, i))  # keep looking deeper
        if step.matches(key, length):
            if i + 1 == len(selectors[sid].steps):
                done.append(sid)
            else:
                nxt.add((sid, i + 1))
    return frozenset(nxt), tuple(sorted(done))


def initial_states(count: int) -> frozenset[State]:
    return frozenset((sid, 0) for sid in range(count))
