"""CPU time the servers spent on a Locust run: what one request costs them, queueing aside.

A latency percentile mixes what a request costs with how long it waited: on a
busy event loop or a shared machine the wait can be several times the work.
The CPU time a configuration's processes used during a run, divided by the
requests of that run, is the work alone, and moves far less when the machine
is disturbed. It is reported beside the budgets, never gated.

Linux only (``/proc``): elsewhere the readings are None and the table is left out.
A configuration's processes are its own process group (every server starts in a
new session, so gunicorn's workers are counted with their arbiter) plus, for a
proxy, its upstream's.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _ticks_per_second() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


TICKS = _ticks_per_second()


def session_cpu_seconds(sessions: set[int], proc: Path = PROC) -> float | None:
    """User + system CPU seconds of every live process whose session id is in ``sessions``.

    None when ``/proc`` cannot be read (not Linux). A process that exited during the
    run takes its time with it: the servers here live for the whole run.
    """
    if not proc.is_dir():
        return None
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue  # exited between the listing and the read
        # The command name (field 2) is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rfind(b")") + 2 :].split()
        # After the name: state ppid pgrp session ... utime(14) stime(15), numbered from 1 with pid and name.
        if int(fields[3]) in sessions:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS
