"""veil.proxy_addon.steps: a hook's plan calls run inline for a plan that only computes, in a worker
thread (the hook then an awaitable) once a plan does I/O; results and exceptions reach the hook
where it yielded, and what the hook lets out reaches ``failed``. Through the addon: a vault that gives
up in the worker thread fails the flow closed."""

from __future__ import annotations

import asyncio
import json
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from tests.proxy_addon.flows import addon_context, make_flow
from tests.vault.held import HeldVault, held_plan
from veil.errors import RedactionError
from veil.proxy_addon import VeilAddon
from veil.proxy_addon.steps import Steps, Work, drive

CUSTOMER = json.dumps({"customer": {"id": "c7", "email": "down@example.com"}}).encode()
COMPUTES = SimpleNamespace(does_io=False)
DOES_IO = SimpleNamespace(does_io=True)


def where() -> str:
    return threading.current_thread().name


def refuse() -> None:
    raise RedactionError("vault_unavailable", "the vault did not answer")


def hook(plans: list[Any], record: list[Any]) -> Steps:
    """Yields one call per plan: where it ran, then one that raises, caught where it was yielded."""
    for plan in plans:
        record.append((yield Work(plan, where)))
        try:
            yield Work(plan, refuse)
        except RedactionError as exc:
            record.append(exc.reason)


def run(steps: Steps) -> tuple[bool, list[Exception]]:
    """(whether drive returned an awaitable, what reached ``failed``), the awaitable awaited."""
    failures: list[Exception] = []

    async def scenario() -> bool:
        pending = drive(steps, failures.append)
        if pending is None:
            return False
        await pending
        return True

    return asyncio.run(scenario()), failures


@pytest.mark.parametrize(("plans", "awaited", "off_loop"), [
    ([COMPUTES], False, [False]),
    ([COMPUTES, COMPUTES], False, [False, False]),
    ([DOES_IO], True, [True]),
    ([COMPUTES, DOES_IO, COMPUTES], True, [False, True, False]),  # inline until the first I/O step, then awaited
])
def test_steps_run_off_the_loop_only_when_their_plan_does_io(plans: list[Any], awaited: bool,
                                                             off_loop: list[bool]) -> None:
    record: list[Any] = []
    returned_awaitable, failures = run(hook(plans, record))
    assert returned_awaitable is awaited and failures == []
    threads, reasons = record[0::2], record[1::2]
    assert [name != threading.main_thread().name for name in threads] == off_loop
    assert reasons == ["vault_unavailable"] * len(plans)  # thrown in where the step was yielded


@pytest.mark.parametrize("plan", [COMPUTES, DOES_IO], ids=["inline", "off-loop"])
def test_what_the_hook_lets_out_reaches_failed(plan: Any) -> None:
    def leaky() -> Steps:
        yield Work(plan, refuse)
        raise AssertionError("not reached")

    _, failures = run(leaky())
    assert [type(exc) for exc in failures] == [RedactionError]


def test_a_hook_that_returns_before_any_step_is_done_inline() -> None:
    def early() -> Steps:
        return
        yield Work(DOES_IO, where)  # a generator all the same

    assert run(early()) == (False, [])


def test_a_vault_that_gives_up_fails_the_flow_closed_from_the_worker_thread() -> None:
    """The vault's failure, raised in the worker thread, reaches the hook where it asked: veil's 400."""
    vault = HeldVault(wait=0)  # never released: gives up at once
    addon = VeilAddon()
    with addon_context(addon) as tctx:
        addon.use_plan(held_plan(vault))
        flow = make_flow(CUSTOMER, "application/json", path="/customers")

        async def scenario() -> list[bool]:
            awaited = []
            for hook in (addon.requestheaders, addon.request):
                pending = hook(flow)
                awaited.append(pending is not None)
                if pending is not None:
                    await pending
            return awaited

        assert tctx.master.event_loop.run_until_complete(scenario()) == [True, True]
    assert flow.response is not None and flow.response.status_code == 400
    assert json.loads(flow.response.content or b"") == {
        "error": "veil_redaction_failed", "reason": "vault_unavailable", "direction": "request"}
