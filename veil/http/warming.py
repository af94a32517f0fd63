"""Warm a plan before a server lets it serve, and say so in the server's log (``veil.rules.warmup``).

``veil proxy`` and ``veil extproc`` call :func:`warm_for_serving` at start-up and, through
:class:`veil.http.policy_watch.PolicyWatcher`'s ``prepare`` hook, on every reload.
"""

from __future__ import annotations

import logging

from veil.rules.plan import Plan
from veil.rules.warmup import warm


def warm_for_serving(plan: Plan, seconds: float, log: logging.Logger) -> None:
    """Warm ``plan`` for up to ``seconds`` (0: not at all) and log one line on what was done."""
    if seconds <= 0:
        return
    done = warm(plan, seconds)
    if plan.does_io:
        log.info("veil: plan not warmed: %s", done.skipped)
    elif done.skipped:  # a bug in the warm-up, not in the plan: the plan serves unwarmed
        log.warning("veil: plan warm-up %s, after %d payloads; serving it unwarmed", done.skipped, done.payloads)
    else:
        log.info("veil: plan warmed with %d synthetic payloads in %.2f s", done.payloads, done.seconds)
