"""The policy watcher addon: notice that the policy file changed, compile it, swap the plan.

:class:`PolicyReloader` watches the redaction addon's policy file while the proxy runs
and hands each new plan to it; :class:`veil.http.policy_watch.PolicyWatcher` (shared with
``veil extproc``) is the polling loop, and says why it polls.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from veil.http.policy_watch import PolicyWatcher
from veil.rules.plan import Plan

if TYPE_CHECKING:
    from veil.proxy_addon.addon import VeilAddon

log = logging.getLogger(__name__)

class PolicyReloader:
    """While the proxy runs, a changed policy file is compiled and swapped into ``redaction``.

    ``reloaded`` is told each outcome (``ok`` or ``error``), e.g. the admin addon's counter.
    """

    def __init__(self, redaction: VeilAddon, reloaded: Callable[[str], None] | None = None) -> None:
        self.redaction = redaction
        self.reloaded = reloaded
        self.watcher: PolicyWatcher | None = None
        self.serving = False
        self.freezes = False
        """``veil proxy`` froze the long-lived objects at start-up (``run.freeze_long_lived``): do it
        again after a reload, so the old plan can be collected and the new one is skipped."""

    def configure(self, updated: set[str]) -> None:
        if "veil_policy" in updated:  # the redaction addon, added first, has loaded it
            self._restart()

    def running(self) -> None:
        self.serving = True
        self._restart()

    def done(self) -> None:
        self.serving = False
        self._stop()

    def swap(self, plan: Plan) -> None:
        self.redaction.use_plan(plan)
        if self.freezes:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        self._report("ok")

    def _failed(self) -> None:
        self._report("error")

    def _report(self, outcome: str) -> None:
        if self.reloaded is not None:
            self.reloaded(outcome)

    def _restart(self) -> None:
        self._stop()
        # A built-in profile (builtin:app) is no file: nothing to watch.
        if self.serving and self.redaction.policy_path and not self.redaction.policy_path.startswith("builtin:"):
            self.watcher = PolicyWatcher(Path(self.redaction.policy_path), self.swap, self._failed,
                                         current=lambda: self.redaction.plan, prepare=self.redaction.warm)
            self.watcher.start()

    def _stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
