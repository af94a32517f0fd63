"""A vault backend the test holds shut: it shows whether a server keeps serving while one request
waits on the vault.

``issue`` sets ``entered`` and then waits for ``release``, which the test sets only after a second
request through the same server got its response. A server that asks the vault off its event loop
answers that second request meanwhile; one that asks on its loop cannot, so the second request
times out (the test fails, it does not hang) and ``release`` is set in the test's cleanup.
``wait`` only bounds how long a broken server keeps the first request; nothing is timed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from veil import compile_policy
from veil.rules.actions.vault_token import VaultRecord, VaultUnavailable
from veil.rules.vault_plan import VaultPlan
from tests.vault.conftest import vault_policy
from tests.vault.gate import IssueOnlyVault

KEY = bytes(range(64))
T = TypeVar("T")
U = TypeVar("U")


class HeldVault(IssueOnlyVault):
    """A :class:`veil.rules.actions.vault_token.VaultBackend` whose ``issue`` waits for the test."""

    name = "held"

    def __init__(self, wait: float = 30.0) -> None:
        self.wait = wait
        self.entered = threading.Event()
        self.release = threading.Event()
        self.issued: list[VaultRecord] = []
        self.threads: list[str] = []
        """The name of the thread each ``issue`` ran in."""

    def issue(self, record: VaultRecord) -> str:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        if not self.release.wait(self.wait):
            raise VaultUnavailable("the test never released the vault")
        self.issued.append(record)
        return record.token


def held_plan(vault: HeldVault, *, extra_rules: list[dict[str, object]] | None = None) -> VaultPlan:
    """$.customer.email and .phone tokenized into ``vault`` ($.customer.id the subject), failing closed;
    ``extra_rules`` are appended to the policy's rules."""
    policy = vault_policy({"backend": "sqlite", "path": "unused-by-the-held-vault.db"})
    policy["rules"] = [*policy["rules"], *(extra_rules or [])]  # type: ignore[misc]
    plan = compile_policy(policy, key_material={"tokens": {"k1": KEY}}, vault_connector=lambda name, spec: vault)
    assert isinstance(plan, VaultPlan)
    return plan


def while_held(vault: HeldVault, first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """Run ``first`` (which asks ``vault``) in a thread and, once it waits on the vault, ``second``
    here; release the vault only then (or when ``second`` failed). Returns both results."""
    vault.entered.clear()
    vault.release.clear()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(first)
        try:
            assert vault.entered.wait(10), "the first request never asked the vault"
            other = second()
        finally:
            vault.release.set()
        return pending.result(timeout=30), other
