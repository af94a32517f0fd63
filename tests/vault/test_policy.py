"""Vault tokens in a policy: errors point at file:line:col; tokens are typed, tagged and idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from veil.errors import PolicyError
from veil.rules.actions.vault_token import VAULT_TOKEN_PATTERN
from veil.settings import load_policy, load_policy_data
from veil.vault.resolve import EVERYTHING, Resolver
from tests.vault.conftest import vault_policy

TOKEN = re.compile(VAULT_TOKEN_PATTERN)

BAD = [
    # (action or vault text, where the error points, what it says)
    ("vault: nowhere", "rules[0].fields[0].action.vault", "no vault named 'nowhere'"),
    ("vault: main, ttl: soon", "rules[0].fields[0].action.ttl", "expected a duration like 30s"),
    ("ttl: 30d", "rules[0].fields[0].action", "only apply to vault tokens"),
    ("vault: main, subject: '$[?(@.a)]'", "rules[0].fields[0].action.subject", "filter"),
    ("vault: main, subject: '$.customers[*].id'", "rules[0].fields[0].action.subject", "subject must select one value"),
    ("vault: main, subject: '$..id'", "rules[0].fields[0].action.subject", "subject must select one value"),
    ("vault: main, on_vault_error: raw", "rules[0].fields[0].action.on_vault_error", "'block' or 'vaultless'"),
    ("vault: main, restore: true", "rules[0].fields[0].action", "restore works with vaultless tokens only"),
]


@pytest.mark.parametrize(("action", "field", "message"), BAD)
def test_bad_vault_actions_are_named_at_their_line(tmp_path: Path, key_env: str, action: str, field: str,
                                                  message: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\n"
        f"keys:\n  tokens: {{env: {key_env}}}\n"
        f"vaults:\n  main: {{path: {tmp_path / 'v.db'}}}\n"
        "rules:\n"
        "  - fields:\n"
        "      - path: $.email\n"
        f"        action: {{type: tokenize, {action}}}\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    text = str(caught.value)
    assert f"{policy}:9:" in text and field in text and message in text


def test_a_redis_vault_needs_a_url(tmp_path: Path, key_env: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\nkeys:\n  tokens: {{env: {key_env}}}\nvaults:\n  main:\n    backend: redis\n"
                      "rules:\n  - fields:\n      - path: $.email\n        action: {type: tokenize, vault: main}\n")
    with pytest.raises(PolicyError, match=r":5:\d+: vaults.main: .*needs 'url' or 'url_env'"):
        load_policy(policy)


def test_block_with_passthrough_is_refused(tmp_path: Path, key_env: str) -> None:
    with pytest.raises(PolicyError, match="on_vault_error: block needs the policy's on_error: block"):
        load_policy_data(vault_policy({"path": str(tmp_path / "v.db")}, on_error="passthrough"))
    load_policy_data(vault_policy({"path": str(tmp_path / "v.db")}, action={"on_vault_error": "vaultless"},
                                  on_error="passthrough"))


def test_tokens_are_typed_stable_per_subject_and_idempotent(tmp_path: Path, key_env: str) -> None:
    plan = load_policy_data(vault_policy({"path": str(tmp_path / "v.db")}))
    body = b'{"customer": {"id": "c1", "email": "jane@example.com", "phone": "+1 555 0100"}}'
    out = plan.redact_body(body, "application/json").output.decode()
    tokens = TOKEN.findall(out)
    assert [t.split("_")[1] for t in tokens] == ["EMAIL", "PHONE"]
    assert "jane@example.com" not in out and "555" not in out
    assert plan.redact_body(body, "application/json").output.decode() == out  # same value, subject: same token
    assert plan.redact_body(out.encode(), "application/json").output.decode() == out  # a token is left as it is
    other = plan.redact_body(body.replace(b'"c1"', b'"c2"'), "application/json").output.decode()
    assert TOKEN.findall(other)[0] != tokens[0]  # another subject: another token


def test_a_look_alike_token_is_tokenized_not_skipped(tmp_path: Path, key_env: str) -> None:
    plan = load_policy_data({**vault_policy({"path": str(tmp_path / "v.db")}), "rules": [
        {"fields": [{"path": "$.email", "entity": "EMAIL", "action": {"type": "tokenize", "vault": "main"}}],
         "scan": True}]})
    real = plan.redact_body(b'{"email": "jane@example.com"}', "application/json").output.decode()
    token = TOKEN.search(real)[0]  # type: ignore[index]
    forged = token[:-8] + ("a" * 8 if not token.endswith("a" * 8) else "b" * 8)  # its tag changed
    # A field holding our token is left as it is; one holding a look-alike is tokenized.
    assert plan.redact_body(f'{{"email": "{token}"}}'.encode(), "application/json").output.decode() == (
        f'{{"email": "{token}"}}')
    again = plan.redact_body(f'{{"email": "{forged}"}}'.encode(), "application/json").output.decode()
    assert forged not in again and TOKEN.search(again) is not None
    # In free text: our token alone is skipped; data glued to a token, real or forged, is not.
    assert plan.redact_text(f"see {token}").text == f"see {token}"
    for text in (f"{forged}.bob@example.org", f"{token}.bob@example.org", f"{token}bob@example.org"):
        assert "bob@example.org" not in plan.redact_text(text).text, text


def test_resolving_puts_values_back(tmp_path: Path, key_env: str) -> None:
    plan = load_policy_data(vault_policy({"path": str(tmp_path / "v.db")}))
    body = b'{"customer": {"id": "c1", "email": "jane@example.com"}}'
    out = plan.redact_body(body, "application/json").output.decode()
    restored = Resolver(plan).restore(out, EVERYTHING)
    assert restored.text == body.decode()  # only the value changed and came back: the bytes are the body's
    assert dict(restored.outcomes) == {"ok": 1}
