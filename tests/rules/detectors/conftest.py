"""Shared fixture: run one built-in detector through the reference matcher."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from veil.rules.detectors import BUILTIN_DETECTORS
from veil.rules.detectors.matching import CompiledDetector, compile_detector, find_spans

Detect = Callable[..., list[str]]


@pytest.fixture(scope="session")
def compiled() -> dict[str, CompiledDetector]:
    return {name: compile_detector(spec) for name, spec in BUILTIN_DETECTORS.items()}


@pytest.fixture(scope="session")
def detect(compiled: dict[str, CompiledDetector]) -> Detect:
    """``detect(type_name, text, field_name="")`` -> the texts of the findings, in order."""

    def run(name: str, text: str, field_name: str = "") -> list[str]:
        return [text[start:end] for start, end in find_spans(compiled[name], text, field_name)]

    return run
