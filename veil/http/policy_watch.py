"""Notice that a policy file changed, compile it, hand over the new plan: for every long-running server.

``veil proxy`` (:mod:`veil.proxy_addon.reload`) and ``veil extproc`` (:mod:`veil.extproc.server`)
both watch their policy file with :class:`PolicyWatcher`.

The file is polled (stat once a second) rather than watched with inotify: it
works the same on every platform and with Kubernetes ConfigMap volumes, which
replace the file by swapping a symlink. Compiling runs in a worker thread so
that traffic keeps flowing meanwhile (and so does a server's warm-up of the new plan,
``prepare``); the swap is one reference assignment, so
each exchange sees either the old plan or the new one, never a mix. An invalid edit
keeps the old plan and is reported with its ``file:line:col`` message. A reload logs the
old and the new policy digest (``sha256:<16 hex>``, :mod:`veil.rules.lineage`) and revision.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

from veil.errors import VeilError
from veil.rules.plan import Plan
from veil.settings import load_policy

log = logging.getLogger(__name__)

Fingerprint = tuple[int, int, int]


def fingerprint(path: Path) -> Fingerprint | None:
    """What changes when the file is edited or replaced; None while it is missing."""
    try:
        st = os.stat(path)  # follows symlinks: a ConfigMap swap changes the inode
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def watches(policy: str) -> bool:
    """Whether a ``--policy`` value names a file to watch ("" and built-in profiles do not)."""
    return bool(policy) and not policy.startswith("builtin:")


class PolicyWatcher:
    """Polls ``path``; on a change compiles it and calls ``swap(plan)``, or ``failed()`` (after logging why).

    ``current`` returns the plan in use, whose digest the reload's log line names as the old
    one; without it, the plan this watcher swapped in last (none before the first reload).
    ``prepare`` runs on the new plan in the compiling thread, before the swap (a warm-up).
    """

    def __init__(
        self, path: Path, swap: Callable[[Plan], None], failed: Callable[[], None], interval: float = 1.0,
        current: Callable[[], Plan | None] | None = None, prepare: Callable[[Plan], None] | None = None,
    ) -> None:
        self.path, self.swap, self.failed, self.interval = path, swap, failed, interval
        self.current, self.prepare = current, prepare
        self.last: Plan | None = None
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
            plan = await asyncio.to_thread(self._load)
        except VeilError as exc:
            log.error("veil: policy reload failed, keeping the current plan: %s", exc)
            self.failed()
            return
        old = self.current() if self.current is not None else self.last
        self.swap(plan)
        self.last = plan
        log.info("veil: policy reloaded from %s: %d rules, %s -> %s", self.path, len(plan.rules),
                 describe_policy(old), describe_policy(plan))

    def _load(self) -> Plan:
        plan = load_policy(self.path)
        if self.prepare is not None:
            self.prepare(plan)
        return plan


def describe_policy(plan: Plan | None) -> str:
    """``sha256:0123456789abcdef (revision r7)`` for log lines; ``unknown`` without a plan."""
    if plan is None:
        return "unknown"
    revision = f" (revision {plan.revision})" if plan.revision is not None else ""
    return plan.digest + revision
