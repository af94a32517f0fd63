"""Where containers start and end in a JSON body with no backslashes.

Splitting on quotes (C speed) and blanking string contents leaves only the
structure at the same offsets; one pass over its brackets gives every
container's extent, parent and children. From that, the JSON path of any
offset is a few ``rfind``/``count`` calls, so the engine can report paths for
the values it rewrites without walking the whole document.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

# Fixed, linear patterns over veil's own blanked bytes, never user input.
_BRACKETS = re.compile(rb"[\[\]{}]")
_WS = b" \t\r\n"
_COLON = 0x3A
_OPEN_OBJECT = 0x7B

PathNode = tuple[Any, Any] | None


class Structure:
    __slots__ = ("body", "blank", "opens", "closes", "parents", "children", "depth", "longest_string")

    def __init__(self, body: bytes) -> None:
        self.body = body
        parts = body.split(b'"')
        strings = parts[1::2]
        self.longest_string = max(map(len, strings), default=0)
        parts[1::2] = [b" " * len(p) for p in strings]
        self.blank = b'"'.join(parts)
        opens: list[int] = []
        closes: list[int] = []
        parents: list[int] = []
        children: list[list[int]] = []
        stack: list[int] = []
        depth = 0
        blank = self.blank
        for m in _BRACKETS.finditer(blank):
            pos = m.start()
            if blank[pos] in b"{[":
                index = len(opens)
                opens.append(pos)
                closes.append(len(blank))
                parents.append(stack[-1] if stack else -1)
                children.append([])
                if stack:
                    children[stack[-1]].append(index)
                stack.append(index)
                depth = max(depth, len(stack))
            elif stack:
                closes[stack.pop()] = pos
        self.opens = opens
        self.closes = closes
        self.parents = parents
        self.children = children
        self.depth = depth

    def innermost(self, pos: int) -> int:
        """Index of the innermost container holding offset ``pos`` (-1 for none)."""
        i = bisect_right(self.opens, pos) - 1
        while i >= 0 and not (self.opens[i] < pos < self.closes[i]):
            i = self.parents[i]
        return i

    def container_at(self, pos: int) -> int:
        """Index of the container opening at ``pos`` (-1 if none does)."""
        i = bisect_right(self.opens, pos) - 1
        return i if i >= 0 and self.opens[i] == pos else -1

    def member(self, container: int, pos: int) -> str | int:
        """The key (objects) or index (arrays) of the member whose value starts at ``pos``."""
        body = self.body
        if body[self.opens[container]] == _OPEN_OBJECT:
            j = pos - 1
            while body[j] in _WS:
                j -= 1
            if body[j] == _COLON:
                kq = body.rfind(b'"', 0, j)
                return body[body.rfind(b'"', 0, kq) + 1 : kq].decode("utf-8")
            return ""
        start = self.opens[container] + 1
        count = self.blank.count(b",", start, pos)
        for child in self.children[container]:
            if self.opens[child] >= pos:
                break
            count -= self.blank.count(b",", self.opens[child], min(self.closes[child], pos))
        return count

    def node(self, pos: int) -> PathNode:
        """The path node chain (as json_walk builds it) of the value starting at ``pos``."""
        chain: list[int] = []
        c = self.innermost(pos)
        while c >= 0:
            chain.append(c)
            c = self.parents[c]
        chain.reverse()
        node: PathNode = None
        for level, c in enumerate(chain):
            child_pos = self.opens[chain[level + 1]] if level + 1 < len(chain) else pos
            node = (node, self.member(c, child_pos))
        return node

    def parent_key(self, pos: int) -> str | None:
        """The nearest object key above the container holding ``pos`` (list indices skipped)."""
        c = self.innermost(pos)
        while c >= 0:
            parent = self.parents[c]
            if parent < 0:
                return None
            key = self.member(parent, self.opens[c])
            if isinstance(key, str):
                return key
            c = parent
        return None

    def field_of(self, pos: int) -> str:
        """The field name scanning uses for the value at ``pos``: its key, else the parent key."""
        c = self.innermost(pos)
        if c < 0:
            return ""
        key = self.member(c, pos)
        if isinstance(key, str):
            return key
        return self.parent_key(pos) or ""
