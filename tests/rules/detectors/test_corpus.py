"""The shared detector corpus (tests/corpus/detectors.jsonl) through the reference matcher.

Each line is ``{"text": ..., "type": ..., "expect": [[start, end], ...]}`` with
``str`` offsets; ``expect: []`` marks a near miss that must not be found. The
same file feeds the CLI evaluation, so keep it detector-agnostic JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.matching import CompiledDetector, find_spans

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "detectors.jsonl"


def load_cases() -> list[Any]:
    cases: list[Any] = []
    for lineno, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        case = json.loads(line)
        cases.append(pytest.param(case, id=f"{lineno}-{case['type']}"))
    return cases


@pytest.mark.parametrize("case", load_cases())
def test_corpus_case(compiled: dict[str, CompiledDetector], case: dict[str, Any]) -> None:
    expected = [tuple(span) for span in case["expect"]]
    assert find_spans(compiled[case["type"]], case["text"], case.get("field", "")) == expected


def test_corpus_covers_every_builtin_type_with_positive_and_negative() -> None:
    lines = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    positive = {c["type"] for c in lines if c["expect"]}
    negative = {c["type"] for c in lines if not c["expect"]}
    assert positive == set(BUILTIN_DETECTORS)
    assert negative == set(BUILTIN_DETECTORS)
