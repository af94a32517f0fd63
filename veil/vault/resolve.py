"""Resolving vault tokens in a body: who may see what, with a bounded local cache.

:class:`Resolver` finds every vault token of a plan's keys in a text (its tag
must check: look-alikes are left alone without a vault call), asks the vault
for each (a bounded cache keeps answers for the vault's ``cache_ttl``, at most
what the policy says, 30 s by default), and puts back the values a
:class:`Grant` allows. Everything else stays a token; each token gets one
outcome: ok, denied, unknown, expired, forgotten or error (vault down, or a
sealed value that does not open).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from veil.rules.actions.vault_token import (
    Outcome,
    Resolved,
    TTLCache,
    VaultBackend,
    VaultKeys,
    VaultUnavailable,
    find_vault_tokens,
)
from veil.rules.plan import Plan


@dataclass(frozen=True, slots=True)
class Grant:
    """What one client may reverse: token types, and optionally only some scopes or rules.

    ``None`` for ``scopes``/``rules`` means any; ``types`` empty means nothing.
    """

    types: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None
    rules: frozenset[str] | None = None

    def allows_type(self, token_type: str) -> bool:
        return "*" in self.types or token_type in self.types

    def allows(self, token_type: str, scope: str, rule: str) -> bool:
        return (self.allows_type(token_type)
                and (self.scopes is None or scope in self.scopes)
                and (self.rules is None or rule in self.rules))


EVERYTHING = Grant(types=frozenset({"*"}))


@dataclass
class Restored:
    """The text with the granted tokens restored; outcomes and types counted (never values)."""

    text: str
    outcomes: Counter[str] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)


@dataclass
class _Vaults:
    keys: VaultKeys
    backends: list[VaultBackend]
    cache: TTLCache


class Resolver:
    """Resolves the vault tokens of ``plan`` (a plan with ``vault_actions``)."""

    def __init__(self, plan: Plan, *, max_cache_ttl: float = 60.0,
                 on_vault_call: Callable[[float], None] | None = None) -> None:
        groups: dict[int, _Vaults] = {}
        for action in getattr(plan, "vault_actions", ()):
            group = groups.get(id(action.keys))
            if group is None:
                cache = TTLCache(action.issued.size, min(action.issued.ttl, max_cache_ttl))
                group = groups[id(action.keys)] = _Vaults(action.keys, [], cache)
            if action.backend not in group.backends:
                group.backends.append(action.backend)
        if not groups:
            raise ValueError(f"policy {plan.source} has no vault tokens (no tokenize action with 'vault:')")
        self._groups = list(groups.values())
        self._on_vault_call = on_vault_call

    def restore(self, text: str, grant: Grant, escape: Callable[[str], str] = str) -> Restored:
        """Restore in ``text`` the tokens ``grant`` allows; ``escape`` fits a value to where it goes."""
        out = Restored(text)
        for group in self._groups:
            pieces: list[str] = []
            done = 0
            for start, end, token, token_type in find_vault_tokens(out.text, group.keys):
                out.types[token_type] += 1
                value, outcome = self._resolve(group, token, token_type, grant)
                out.outcomes[outcome] += 1
                if value is not None:
                    pieces.append(out.text[done:start])
                    pieces.append(escape(value))
                    done = end
            if done:
                pieces.append(out.text[done:])
                out.text = "".join(pieces)
        return out

    def _resolve(self, group: _Vaults, token: str, token_type: str, grant: Grant) -> tuple[str | None, Outcome]:
        if not grant.allows_type(token_type):
            return None, "denied"  # decided without the vault
        resolved = group.cache.get(token)
        if resolved is None:
            try:
                resolved = self._ask(group, token)
            except VaultUnavailable:
                return None, "error"
            group.cache.put(token, resolved)
        if resolved.outcome != "ok" or resolved.record is None:
            return None, resolved.outcome
        record = resolved.record
        if not grant.allows(token_type, record.scope, record.rule):
            return None, "denied"
        value = group.keys.open(record)
        return (value, "ok") if value is not None else (None, "error")

    def _ask(self, group: _Vaults, token: str) -> Resolved:
        started = time.perf_counter()
        try:
            answer = Resolved("unknown")
            for backend in group.backends:
                answer = backend.resolve(token)
                if answer.outcome != "unknown":
                    break
            return answer
        finally:
            if self._on_vault_call is not None:
                self._on_vault_call(time.perf_counter() - started)
