"""Where a position of a JSON body sits: the key holding it, and its JSONPath.

Both read a body's structure from its masked copy (``json_bytes.mask_escapes``)
and decode only the keys they return.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from typing import Any

from veil.rules.json_bytes import Undecidable, key_before, mask_escapes, skip_ws_back, string_text
from veil.rules.json_walk import PathNode, render_path

# A fixed, backtracking-free pattern over a (masked) body's own structure, not
# user input: Python's ``re`` iterates it faster than pyre2 does.
TOKEN = re.compile(rb'"[^"]*"|[{}\[\],:]|[^\s{}\[\],:"]+')


class Parents:
    """The walk's parent key for a position, found by scanning backwards.

    The parent of a key is the key holding its object; an object (or list) in
    a list takes the key holding that list. Every member (or item) already
    resolved is remembered with its container: a scan that reaches one at
    depth 0 has found a sibling, and stops there. So the items of a list are
    each scanned back only to the one before, and a body is scanned about
    once. Scans are still bounded: past the budget the body takes the walk.
    """

    __slots__ = ("body", "frame", "budget", "known", "lists")

    def __init__(self, body: bytes, frame: bytes) -> None:
        self.body = body  # keys are read from it
        self.frame = frame  # brackets and quotes are found in it (``mask_escapes``)
        self.budget = 64 + len(body) // 8
        # per opener byte: (sorted starts of resolved members or items, start -> their container's opener)
        self.known: dict[int, tuple[list[int], dict[int, int]]] = {0x7B: ([], {}), 0x5B: ([], {})}
        self.lists: dict[int, str | None] = {}  # '[' position -> key holding it

    def of_key(self, q: int) -> str | None:
        """Parent key for the key whose opening quote is at ``q``."""
        return self._holder(self._enclosing(q, 0x7B, 0x7D))

    def object_of_key(self, q: int) -> int:
        """Where the object holding the key whose opening quote is at ``q`` opens."""
        return self._enclosing(q, 0x7B, 0x7D)

    def step_of(self, opener: int) -> tuple[int, str | None] | None:
        """(where the container holding the container at ``opener`` opens, the step from it: the key, or
        None for a list item); None at the document's top."""
        frame = self.frame
        j = skip_ws_back(frame, opener - 1)
        if opener <= 0 or frame[j] not in b":,[":
            return None
        if frame[j] == 0x3A:  # a member's value
            ke = frame.rfind(b'"', 0, j)
            ks = frame.rfind(b'"', 0, ke)
            return self._enclosing(ks, 0x7B, 0x7D), string_text(self.body, ks + 1, ke)
        return self._enclosing(opener, 0x5B, 0x5D), None  # a list's item

    def of_item(self, q: int) -> str | None:
        """The key holding the list whose item starts at ``q``."""
        return self._list_holder(self._enclosing(q, 0x5B, 0x5D))

    def _holder(self, opener: int) -> str | None:
        """The key holding the container that opens at ``opener``: through lists of lists, as deep as
        the depth limit allows, without recursion."""
        frame, lists = self.frame, self.lists
        within: list[int] = []  # the lists in lists on the way up, all held by the key found
        found: str | None = None
        while True:
            j = skip_ws_back(frame, opener - 1)
            if opener <= 0 or frame[j] not in b":,[":
                break
            if frame[j] == 0x3A:
                found = key_before(self.body, frame, j)
                break
            bracket = self._enclosing(opener, 0x5B, 0x5D)  # an item: the key holding its list
            if bracket < 0:
                break
            if bracket in lists:
                found = lists[bracket]
                break
            within.append(bracket)
            opener = bracket
        for bracket in within:
            lists[bracket] = found
        return found

    def _list_holder(self, bracket: int) -> str | None:
        if bracket < 0:
            return None
        if bracket not in self.lists:
            self.lists[bracket] = self._holder(bracket)
        return self.lists[bracket]

    def _enclosing(self, q: int, opener: int, closer: int) -> int:
        """Position of the unclosed ``opener`` before ``q`` (outside strings), or -1.

        ``q`` starts a member (``{``) or an item (``[``) directly in that container.
        Brackets of the other kind are skipped: containers between are balanced in both.
        Each search for a bracket stops at the nearest member or item already resolved,
        so a list's items are not rescanned from every later one.
        """
        starts, owner = self.known[opener]
        found = owner.get(q)
        if found is not None:
            return found
        body = self.frame
        open_b = bytes((opener,))
        close_b = bytes((closer,))
        depth = 0
        j = q
        quotes = 0  # quotes in [j, q): odd means j is inside a string
        while True:
            self.budget -= 1
            if self.budget < 0:
                raise Undecidable
            i = bisect_left(starts, j) - 1
            x = starts[i] if i >= 0 else -1  # the nearest resolved start before j
            k = body.rfind(open_b, max(x, 0), j)
            k = max(k, body.rfind(close_b, k + 1, j))
            if x > k:  # no bracket between x and j
                if depth == 0:  # x is a sibling of q's
                    found = owner[x]
                    break
                quotes += body.count(b'"', x, j)
                j = x
                continue
            if k < 0:
                found = -1
                break
            quotes += body.count(b'"', k, j)
            j = k
            if quotes & 1:
                continue
            if body[k] == closer:
                depth += 1
            elif depth == 0:
                found = k
                break
            else:
                depth -= 1
                if depth == 0 and k in owner:  # a sibling that is itself a container of this kind
                    found = owner[k]
                    break
        insort(starts, q)
        owner[q] = found
        return found



class PathIndex:
    """JSONPath of findings' offsets, computed in one pass over a body on first use.

    Findings are mostly counted, not read: the pass runs only when a path is.
    The body is the *output* of a redaction, offsets given in it, with every value a
    finding was made for rewritten (or blanked, ``splice_rewrite._blanked``): never the
    input, which a report must not keep alive. Keys that are not name-shaped are
    rendered ``[<key>]`` (``json_walk.render_path``).
    """

    __slots__ = ("body", "wanted", "done")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.wanted: set[int] = set()
        self.done: dict[int, str] | None = None

    def render(self, at: int) -> str:
        if self.done is None:
            body = self.body
            nodes = _nodes(body, mask_escapes(body), self.wanted)
            self.done = {at: render_path(node) for at, node in nodes.items()}
            self.body = b""  # rendered: nothing more to read
        return self.done[at]


def _nodes(body: bytes, frame: bytes, wanted: set[int]) -> dict[int, PathNode]:
    """Path nodes (as json_walk builds them) of the values starting at the ``wanted`` offsets
    (``frame``: the body's masked copy, read for its structure)."""
    out: dict[int, PathNode] = {}
    # frame: [is object, node of the container, current key or index, expecting a key]
    stack: list[list[Any]] = []
    for m in TOKEN.finditer(frame):
        t = m.group()
        c = t[0]
        start = m.start()
        if c == 0x7B or c == 0x5B:
            node: PathNode = None
            if stack:
                top = stack[-1]
                node = (top[1], top[2])
            if start in wanted:
                out[start] = node
            stack.append([c == 0x7B, node, None if c == 0x7B else 0, c == 0x7B])
        elif c == 0x7D or c == 0x5D:
            stack.pop()
        elif c == 0x2C:
            top = stack[-1]
            if top[0]:
                top[3] = True
            else:
                top[2] += 1
        elif c == 0x3A:
            continue
        else:
            top = stack[-1]
            if top[0] and top[3]:
                top[2] = string_text(body, start + 1, m.end() - 1)
                top[3] = False
            elif start in wanted:
                out[start] = (top[1], top[2])
    return out
