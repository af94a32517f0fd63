"""Vault administration: erase a subject's tokens, re-wrap values under a new key."""

from __future__ import annotations

from dataclasses import dataclass

from veil.rules.actions.vault_token import VaultBackend, VaultKeys, VaultTokenize
from veil.rules.plan import Plan


@dataclass(frozen=True, slots=True)
class _Vault:
    keys: VaultKeys
    backend: VaultBackend


def _vaults(plan: Plan) -> list[_Vault]:
    actions: tuple[VaultTokenize, ...] = getattr(plan, "vault_actions", ())
    if not actions:
        raise ValueError(f"policy {plan.source} has no vault tokens (no tokenize action with 'vault:')")
    seen: dict[tuple[int, int], _Vault] = {}
    for action in actions:
        seen.setdefault((id(action.keys), id(action.backend)), _Vault(action.keys, action.backend))
    return list(seen.values())


def forget_subject(plan: Plan, subject: str) -> int:
    """Make every token of ``subject`` (as the rules' ``subject:`` selector reads it) unresolvable
    in every vault of ``plan``; return how many tokens. Other processes stop resolving them
    within their resolve cache's TTL (``cache_ttl``, 30 s by default, at most 60)."""
    if not subject:
        raise ValueError("the subject id must not be empty")
    # Every key id: rows not yet re-wrapped carry the digest of the key that sealed them.
    return sum(v.backend.forget(v.keys.subject_digest(subject, kid)) for v in _vaults(plan) for kid in v.keys.key_ids)


def rotate(plan: Plan) -> int:
    """Re-wrap every stored value under the active key id (seal and lookup); tokens do not change.

    Run it after making a new key active (the old one under ``previous:``); old tokens'
    tags still check with the old id, so keep it listed. Returns how many values moved.
    """
    moved = 0
    for vault in _vaults(plan):
        keys = vault.keys
        for record in list(vault.backend.records()):
            if record.key_id == keys.active:
                continue
            opened = keys.open_with_subject(record)
            if opened is None:
                continue  # sealed under a key this policy no longer has: left as it is
            subject, value = opened
            token_type = record.token.split("_", 2)[1]
            new = type(record)(
                token=record.token, lookup=keys.lookup(record.scope, token_type, subject, value),
                subject=keys.subject_digest(subject) if subject else "", key_id=keys.active,
                sealed=keys.seal(record.token, value, subject), expires_at=record.expires_at,
                scope=record.scope, rule=record.rule,
            )
            vault.backend.rewrap(record, new)
            moved += 1
    return moved
