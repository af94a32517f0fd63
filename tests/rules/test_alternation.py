"""Searching per detector family finds exactly the starts one alternation of every pattern finds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import NEUTRAL_WORDS, PII_VALUES
from veil import compile_policy
from veil.rules import alternation
from veil.rules.alternation import Alternation
from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.matching import compile_detector, next_char_boundary
from veil.rules.regex import compile_re2
from veil.rules.scanner import DetectorSet, alternatives, families

CATALOG = tuple(compile_detector(spec) for spec in BUILTIN_DETECTORS.values())
EDGES = ("", '"')

# What glues values to each other in the wild: separators, quotes, '_' and word characters.
GLUE = st.sampled_from(["", " ", "\n", '"', "_", "x", "-", ":", "=", "/", "é", "\t"])
TEXTS = st.lists(st.tuples(GLUE, st.sampled_from(NEUTRAL_WORDS + PII_VALUES)), max_size=10).map(
    lambda pieces: "".join(glue + piece for glue, piece in pieces)
)


def _single_starts(pattern: str, data: bytes) -> list[int]:
    """Every position, left to right, where one alternation of every pattern next starts a match."""
    single = compile_re2(pattern)
    starts: list[int] = []
    pos = 0
    while (m := single.search(data, pos)) is not None:
        starts.append(m.start())
        pos = m.start() + 1
    return starts


def _cursor_starts(split: Alternation, data: bytes) -> list[int]:
    cursor = split.cursor(data)
    starts: list[int] = []
    pos = 0
    while (start := cursor.next(pos)) >= 0:
        starts.append(start)
        pos = start + 1
    return starts


@pytest.mark.parametrize("edge", EDGES)
@given(text=TEXTS)
def test_family_searches_find_the_starts_of_one_alternation(edge: str, text: str) -> None:
    data = text.encode()
    one = "(?m)(?:" + ")|(?:".join(alternatives(CATALOG, edge=edge, leads=True)) + ")"
    split = Alternation(families(CATALOG, edge=edge), prefix="(?m)")
    assert _cursor_starts(split, data) == _single_starts(one, data)


@given(text=TEXTS, pos=st.integers(0, 40), span=st.integers(0, 60))
def test_first_within_a_window_equals_one_alternation(text: str, pos: int, span: int) -> None:
    data = text.encode()
    pos = min(pos, len(data))
    stop = min(len(data), pos + span)
    one = compile_re2("(?m)(?:" + ")|(?:".join(alternatives(CATALOG, edge="", leads=True)) + ")")
    m = one.search(data, pos, stop)
    split = Alternation(families(CATALOG, edge=""), prefix="(?m)")
    assert split.first(data, pos, stop) == (-1 if m is None else m.start())


@pytest.mark.parametrize(("groups", "text", "pos", "stop", "start"), [
    ([["xyz"], ["x.*z"]], "x1xyz", 0, None, 0),  # an earlier start whose match ends past the other's
    ([["xyz"], ["x.*z"]], "x1xyz", 0, 4, -1),  # no match ends by the stop
    ([["xyz"], ["x.*z"]], "x1xyz", 1, None, 2),
    ([["b"], ["a"]], "ba", 1, None, 1),
    ([["(?m)^a"]], "ba", 1, None, -1),  # the text before the start position is read as context
])
def test_first_is_the_leftmost_start_of_any_group(
    groups: list[list[str]], text: str, pos: int, stop: int | None, start: int,
) -> None:
    assert Alternation(groups).first(text.encode(), pos, stop) == start


def test_a_cursor_jumping_ahead_skips_what_lies_behind() -> None:
    split = Alternation([["a"], ["b"], ["c"]])
    cursor = split.cursor(b"a b c a b c")
    assert [cursor.next(0), cursor.next(1), cursor.next(3), cursor.next(5), cursor.next(7), cursor.next(11)] == [
        0, 2, 4, 6, 8, -1,
    ]


def test_every_built_in_detector_names_its_family() -> None:
    # A built-in without one would share the policy's own detectors' search (see DetectorSpec.family).
    assert [name for name, spec in BUILTIN_DETECTORS.items() if not spec.family] == []


def test_families_keep_priority_order_inside_each_group() -> None:
    groups = families(CATALOG, edge="")
    assert sum(len(g) for g in groups) == len(CATALOG)
    flat = alternatives(CATALOG, edge="", leads=True)
    for group in groups:
        assert [flat.index(p) for p in group] == sorted(flat.index(p) for p in group)


class _Reading:
    """An RE2 pattern that adds up how many bytes its searches read (to a match's end, else to the end)."""

    def __init__(self, pattern: Any, read: list[int]) -> None:
        self.pattern, self.read = pattern, read

    def search(self, data: bytes, pos: int = 0, endpos: int | None = None) -> Any:
        m = self.pattern.search(data, pos) if endpos is None else self.pattern.search(data, pos, endpos)
        self.read.append((m.end() if m is not None else len(data) if endpos is None else endpos) - pos)
        return m


@pytest.mark.parametrize("line", [
    "Authorization: Bearer abcDEF{}ghiJKL012mnoPQR",  # the match reads a name before its value (_between)
    "password=Zq8vLm{}Rt3Xw",
    "tok_A_k1_{}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa and jane{}@example.com",
])
def test_the_bytes_a_scan_reads_grow_linearly_with_the_text(monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    # Searches that want the nearest candidate must stop there: per family, each one ran on to its
    # family's next match, to the end of the text for a family with none left, once per finding.
    read: list[int] = []
    monkeypatch.setattr(alternation, "compile_re2", lambda pattern: _Reading(compile_re2(pattern), read))
    detectors = DetectorSet(CATALOG)
    totals = []
    for lines in (1000, 2000):
        read.clear()
        assert len(detectors.scan(["\n".join(line.format(i, i) for i in range(lines))])) >= lines
        totals.append(sum(read))
    assert totals[1] < 2.5 * totals[0], totals  # twice the text: about twice the reading, not four times


TOKENIZE_EMAILS = """
version: 1
keys:
  tokens: {env: VEIL_TEST_UNUSED_KEY}
rules:
  - id: all
    scan:
      detectors: [EMAIL, PHONE]
      action: {type: tokenize, key: tokens}
"""


def test_redacting_twice_reads_a_long_text_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    # The second pass meets the plan's own tokens: each is checked for a finding it would hide, by a
    # search for the nearest candidate after it (DetectorSet._hides_finding).
    read: list[int] = []
    monkeypatch.setattr(alternation, "compile_re2", lambda pattern: _Reading(compile_re2(pattern), read))
    plan = compile_policy(TOKENIZE_EMAILS, key_material={"tokens": {"k1": bytes(range(32))}})
    totals = []
    for lines in (1000, 2000):
        once = plan.redact_body("\\n".join(f"user{i}@example.com wrote" for i in range(lines)).encode(), "text/plain")
        assert once.output.count(b"@example.com") == 0
        read.clear()
        again = plan.redact_body(once.output, "text/plain")
        assert again.output == once.output
        totals.append(sum(read))
    assert totals[1] < 2.5 * totals[0], totals


@given(text=TEXTS)
def test_a_cursor_names_the_groups_whose_match_starts_where_it_stopped(text: str) -> None:
    data = text.encode()
    groups = [[], *families(CATALOG, edge="")]  # an empty group has no pattern, and keeps its number
    split = Alternation(groups, prefix="(?m)")
    single = {n: compile_re2("(?m)(?:" + ")|(?:".join(g) + ")") for n, g in enumerate(groups) if g}
    cursor = split.cursor(data)
    pos = 0
    while (start := cursor.next(pos)) >= 0:
        expected = sorted(n for n, rx in single.items() if (m := rx.search(data, start)) is not None and m.start() == start)
        assert sorted(cursor.starting_at(start)) == expected
        pos = start + 1


PROTECTED_PLAN = TOKENIZE_EMAILS.replace("[EMAIL, PHONE]", "[EMAIL, PHONE, CREDIT_CARD, US_SSN, API_KEY]")


@pytest.mark.parametrize("protected", [False, True])
@given(text=TEXTS)
def test_the_groups_trees_decide_as_the_whole_tree_does(protected: bool, text: str) -> None:
    # At every candidate the scan meets, the detector found through the trees of the groups that start
    # there is the one found through the tree of every pattern: the same outcome, findings and resume.
    if protected:
        plan = compile_policy(PROTECTED_PLAN, key_material={"tokens": {"k1": bytes(range(32))}})
        detectors = plan.view(None, "text/plain").scope(plan.view(None, "text/plain").everywhere).detectors
        text = plan.redact_text(text).text + " " + text  # the plan's own tokens: the protected group
    else:
        detectors = DetectorSet(CATALOG)
    data = text.encode()
    candidate = detectors._candidate
    assert candidate is not None
    cursor = candidate.cursor(data)
    ascii_only = len(data) == len(text)
    pos = 0
    while (start := cursor.next(pos)) >= 0:
        at = cursor.starting_at(start)
        assert detectors._decide(data, start, text, "", ascii_only, at) == detectors._decide(data, start, text, "", ascii_only)
        pos = next_char_boundary(data, start + 1)
