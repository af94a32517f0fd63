"""Child processes that do not outlive the veil process that started them.

``veil envoy`` starts Envoy and ``veil extproc``; ``veil extproc --workers N`` starts N workers.
Each stops its children on SIGTERM and SIGINT, but a parent killed outright (SIGKILL, the OOM
killer) cannot: its children would keep running unsupervised, holding their ports, so the next
``veil envoy`` could not bind them. On Linux each child asks the kernel for SIGTERM when its parent
dies (``PR_SET_PDEATHSIG``), and stops as it does on a clean shutdown. Elsewhere nothing is asked.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def _find_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _find_prctl()  # resolved here: the child, between fork and exec, only calls it


def dying_with_this_process() -> dict[str, Any]:
    """``subprocess.Popen`` keyword arguments: the child gets SIGTERM when this process dies.

    Call it from the thread that stays for the process's life (the main thread): the kernel
    signals the child when the thread that started it exits."""
    prctl = _PRCTL
    if prctl is None:
        return {}
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return {"preexec_fn": die_with_parent}
