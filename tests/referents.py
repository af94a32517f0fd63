"""What tests that look for payload kept in memory walk: every object an object refers to."""

from __future__ import annotations

import gc
from typing import Any


def referents(obj: Any) -> list[Any]:
    """``gc.get_referents(obj)``, plus a dict's keys: the collector does not visit the keys of a
    dict whose keys are all str (a str holds no reference, so no cycle), and a cache keyed by
    raw payload text is exactly such a dict."""
    found = gc.get_referents(obj)
    if isinstance(obj, dict):
        found.extend(obj.keys())
    return found
