"""A vault backend that answers only once the event loop of the test has run: it shows whether an
async adapter asks the vault off its event loop (a worker thread) or on it (every request stalls).

``issue`` tells the loop it was entered (``entered``, set through ``call_soon_threadsafe``), then
waits, at most ``wait`` seconds, for ``release``, which :meth:`GateVault.opener`, a task on that
same loop, sets once it gets to run. Asked from a worker thread, the loop runs the opener and the
vault answers at once; asked on the loop itself, the opener cannot run until ``issue`` gives up,
and ``issue`` raises :class:`VaultUnavailable` (the request fails closed). No timing is asserted:
``wait`` only bounds how long a broken adapter makes the test take.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

from veil import compile_policy
from veil.rules.actions.vault_token import Resolved, VaultRecord, VaultUnavailable
from veil.rules.plan import Plan
from veil.rules.vault_plan import VaultPlan
from tests.vault.conftest import vault_policy

KEY = bytes(range(64))


class IssueOnlyVault:
    """A vault backend whose ``issue`` a test controls: it keeps what it issued and resolves nothing."""

    issued: list[VaultRecord]

    def resolve(self, token: str) -> Resolved:
        return Resolved("unknown")

    def forget(self, subject: str) -> int:
        return 0

    def records(self) -> Iterator[VaultRecord]:
        return iter(self.issued)

    def rewrap(self, old: VaultRecord, new: VaultRecord) -> None:
        self.issued = [new if record.token == old.token else record for record in self.issued]


class GateVault(IssueOnlyVault):
    """A :class:`veil.rules.actions.vault_token.VaultBackend` whose ``issue`` waits for the loop."""

    name = "gate"

    def __init__(self, loop: asyncio.AbstractEventLoop, wait: float = 5.0) -> None:
        self.loop, self.wait = loop, wait
        self.entered = asyncio.Event()
        self.release = threading.Event()
        self.issued: list[VaultRecord] = []
        self.on_loop_thread: list[bool] = []
        """For each ``issue``: whether it ran on the event loop's own thread."""

    def issue(self, record: VaultRecord) -> str:
        self.on_loop_thread.append(_loop_thread_of(self.loop) == threading.get_ident())
        self.loop.call_soon_threadsafe(self.entered.set)
        if not self.release.wait(self.wait):
            raise VaultUnavailable("the gate never opened: the event loop was blocked while the vault was asked")
        self.issued.append(record)
        return record.token

    async def opener(self) -> None:
        """Open the gate once ``issue`` was entered; runs only while the loop is free."""
        await self.entered.wait()
        self.release.set()


def _loop_thread_of(loop: asyncio.AbstractEventLoop) -> int | None:
    return getattr(loop, "_thread_id", None)  # asyncio's BaseEventLoop records the thread running it


def gated_plan(gate: GateVault) -> VaultPlan:
    """$.customer.email tokenized into ``gate`` ($.customer.id the subject); fails closed when the vault fails."""
    plan = compile_policy(vault_policy({"backend": "sqlite", "path": "unused-by-the-gate.db"}),
                          key_material={"tokens": {"k1": KEY}}, vault_connector=lambda name, spec: gate)
    assert isinstance(plan, VaultPlan)
    return plan


def vaultless_plan() -> Plan:
    """The same field tokenized without a vault: the plan only computes."""
    policy = vault_policy({"backend": "sqlite", "path": "unused.db"})
    del policy["vaults"]
    policy["rules"] = [{"id": "customers", "fields": [
        {"path": "$.customer.email", "entity": "EMAIL", "action": {"type": "tokenize", "key": "tokens"}}]}]
    return compile_policy(policy, key_material={"tokens": {"k1": KEY}})
