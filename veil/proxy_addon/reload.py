"""The policy watcher addon: notice that the policy file changed, compile it, swap the plan.

:class:`PolicyReloader` watches the redaction addon's policy file while the proxy runs
and hands each new plan to it; :class:`PolicyWatcher` is the polling loop.

The file is polled (stat once a second) rather than watched with inotify: it
works the same on every platform and with Kubernetes ConfigMap volumes, which
replace the file by swapping a symlink. Compiling runs in a worker thread so
that traffic keeps flowing meanwhile; the swap is one reference assignment, so
each flow sees either the old plan or the new one, never a mix. An invalid edit
keeps the old plan and is reported with its ``file:line:col`` message.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from veil.errors import VeilError
from veil.rules.plan import Plan
from veil.settings import load_policy

if TYPE_CHECKING:
    from veil.proxy_addon.addon import VeilAddon

log = logging.getLogger(__name__)

Fingerprint = tuple[int, int, int]


def fingerprint(path: Path) -> Fingerprint | None:
    """What changes when the file is edited or replaced; None while it is missing."""
    try:
        st = os.stat(path)  # follows symlinks: a ConfigMap swap changes the inode
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class PolicyWatcher:
    """Polls ``path``; on a change compiles it and calls ``swap(plan)``, or ``failed()`` (after logging why)."""

    def __init__(
        self, path: Path, swap: Callable[[Plan], None], failed: Callable[[], None], interval: float = 1.0,
    ) -> None:
        self.path, self.swap, self.failed, self.interval = path, swap, failed, interval
        self.seen = fingerprint(path)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="veil policy watcher")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def check(self) -> None:
        """Reload once if the file changed since the last look."""
        now = fingerprint(self.path)
        if now is None or now == self.seen:
            return  # a missing file (mid-replace) keeps the current plan
        self.seen = now
        try:
            plan = await asyncio.to_thread(load_policy, self.path)
        except VeilError as exc:
            log.error("veil: policy reload failed, keeping the current plan: %s", exc)
            self.failed()
            return
        self.swap(plan)
        log.info("veil: policy reloaded from %s: %d rules", self.path, len(plan.rules))


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
            self.watcher = PolicyWatcher(Path(self.redaction.policy_path), self.swap, self._failed)
            self.watcher.start()

    def _stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
