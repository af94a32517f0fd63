"""Observers named by dotted path in settings tests (tests/integrations/test_framework_settings.py)."""

from __future__ import annotations

from typing import Any


class Recorder:
    """Remembers each observed body's adapter, direction and outcome."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def observe(self, *, adapter: str, direction: str, outcome: str, **_: Any) -> None:
        self.seen.append((adapter, direction, outcome))


RECORDER = Recorder()
NOT_AN_OBSERVER = object()
