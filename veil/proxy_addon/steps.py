"""A hook's work for the plan, run inline or, when the plan does I/O, off mitmproxy's event loop.

mitmproxy runs every hook on its one asyncio loop and awaits what a hook returns when it is
awaitable (``AddonManager.invoke_addon``), so a hook may be sync or async. A vault plan
(``plan.does_io``: a round trip to the vault per new value) asked on the loop would stall every
flow of the proxy while Redis answers; a vaultless plan only computes, and a thread hop would
cost more than most of its work. So each hook is written once, as a generator that yields each
call into the plan (:class:`Work`) and gets its result back (or its exception thrown in), and
:func:`drive` runs it: inline, returning None, while the plan only computes (the hook stays
synchronous, as tests and other callers use it); from the first step whose plan does I/O on,
as a coroutine for mitmproxy to await, that step in a worker thread. Everything else a hook
does (reading and changing the flow, answering, closing a connection) stays on the loop.

A stream function (``flow.response.stream``) is called by mitmproxy's protocol layer, not as
a hook, and must answer at once: it cannot be awaited (mitmproxy/mitmproxy#8103), so SSE and
NDJSON lines are still redacted on the loop, vault plan or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from veil.rules.plan import Plan


class Work:
    """One call into the plan, ``fn(*args, **kwargs)``, which a hook yields to :func:`drive`."""

    __slots__ = ("args", "fn", "kwargs", "plan")

    def __init__(self, plan: Plan, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.plan, self.fn, self.args, self.kwargs = plan, fn, args, kwargs

    def call(self) -> tuple[Any, Exception | None]:
        """(result, None), or (None, the exception) to throw into the hook where it yielded."""
        try:
            return self.fn(*self.args, **self.kwargs), None
        except Exception as exc:
            return None, exc


Steps = Generator[Work, Any, None]
"""A hook's body: yields each :class:`Work`, receives its result."""


def drive(steps: Steps, failed: Callable[[Exception], None]) -> Awaitable[None] | None:
    """Run ``steps``: None once done inline; a coroutine (for mitmproxy to await) from the first
    step whose plan does I/O. ``failed`` gets any exception the steps let out, on the loop."""
    try:
        work = _resume(steps, None, None)
        while work is not None:
            if work.plan.does_io:
                return _off_the_loop(steps, work, failed)
            work = _resume(steps, *work.call())
    except Exception as exc:
        failed(exc)
    return None


async def _off_the_loop(steps: Steps, work: Work | None, failed: Callable[[Exception], None]) -> None:
    try:
        while work is not None:
            outcome = await asyncio.to_thread(work.call) if work.plan.does_io else work.call()  # contextvars copied
            work = _resume(steps, *outcome)
    except Exception as exc:
        failed(exc)


def _resume(steps: Steps, result: Any, error: Exception | None) -> Work | None:
    """The hook's next step after ``result`` (or ``error`` raised where it yielded); None once it returned."""
    try:
        return steps.throw(error) if error is not None else steps.send(result)
    except StopIteration:
        return None
