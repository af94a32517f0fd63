"""Key rotation re-wraps stored values under the new key; tokens do not change."""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.settings import load_policy_data
from veil.vault.admin import forget_subject, rotate
from veil.vault.resolve import EVERYTHING, Resolver
from veil.vault.sqlite import SQLiteVault
from tests.vault.conftest import KEY_TEXT, OTHER_KEY_TEXT, vault_policy

BODY = b'{"customer": {"id": "c1", "email": "jane@example.com"}}'


def test_rotation_keeps_tokens_and_moves_every_value_to_the_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VEIL_TEST_VAULT_KEY", KEY_TEXT)
    monkeypatch.setenv("VEIL_TEST_NEW_KEY", OTHER_KEY_TEXT)
    vault = {"path": str(tmp_path / "v.db"), "cache_ttl": 0}
    old = load_policy_data(vault_policy(vault))
    tokenized = old.redact_body(BODY, "application/json").output
    rotated_policy = vault_policy(vault)
    rotated_policy["keys"] = {"tokens": {"env": "VEIL_TEST_NEW_KEY", "id": "k2",
                                         "previous": [{"env": "VEIL_TEST_VAULT_KEY", "id": "k1"}]}}
    new = load_policy_data(rotated_policy)
    assert rotate(new) == 1
    assert rotate(new) == 0  # nothing left under k1
    assert [r.key_id for r in SQLiteVault("main", vault["path"]).records()] == ["k2"]
    assert new.redact_body(BODY, "application/json").output == tokenized  # same value: same token
    assert "jane@example.com" in Resolver(new).restore(tokenized.decode(), EVERYTHING).text
    assert forget_subject(new, "c1") == 1  # the subject digest survives rotation
