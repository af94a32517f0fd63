"""Prometheus metrics for every adapter: a re-export of :mod:`veil.observe.prometheus`.

    from veil.integrations.prometheus import Metrics   # pip install veil[metrics]

Kept so the documented import path stays; the class lives with the other observers.
"""

from __future__ import annotations

from veil.observe.prometheus import Metrics

__all__ = ["Metrics"]
