"""An off switch for format-1 tokens (review, issue #15): tokens made before key derivation open
under the key entry's raw bytes; ``legacy_tokens: false`` on the key entry stops accepting them.
The default keeps them readable (stored tokens of an earlier release)."""

from __future__ import annotations

import pytest

from tests.rules.actions.test_key_derivation import FORMAT1_EMAIL, KEY
from veil import PolicyError, compile_policy
from veil.errors import KeyMaterialError
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import Tokenize, detokenize_text, detokenize_value
from veil.rules.restore import Restorer

LEGACY = Keyring({"k1": KEY}, active="k1")
CURRENT = Keyring({"k1": KEY}, active="k1", legacy_tokens=False)
FORMAT2_EMAIL = Tokenize(LEGACY).apply("jane@example.com", "EMAIL")


def policy(entry: str) -> str:
    return f"version: 1\nkeys:\n  tokens:\n    env: T\n{entry}rules:\n  - scan:\n      action: {{type: tokenize, key: tokens}}\n"


@pytest.mark.parametrize(
    ("ring", "token", "opens"),
    [
        (LEGACY, FORMAT1_EMAIL, True),  # the default: stored format-1 tokens stay readable
        (CURRENT, FORMAT1_EMAIL, False),  # switched off
        (CURRENT, FORMAT2_EMAIL, True),  # near miss: format 2 is not affected
        (LEGACY, FORMAT2_EMAIL, True),
    ],
)
def test_which_tokens_open(ring: Keyring, token: str, opens: bool) -> None:
    text = f"to {token}."
    assert detokenize_text(text, ring) == (("to jane@example.com.", 1) if opens else (text, 0))
    assert Restorer(((ring, ("",)),)).open_at(token) == ((len(token), "jane@example.com") if opens else None)
    # Tokenize keeps only what it opens as its own: a format-1 token it no longer accepts is a value.
    assert (Tokenize(ring).apply(token, "EMAIL") == token) is opens


def test_detokenize_value_says_why_a_format1_token_does_not_open() -> None:
    with pytest.raises(KeyMaterialError, match="format 1.*legacy_tokens: false"):
        detokenize_value(FORMAT1_EMAIL, CURRENT)
    assert detokenize_value(FORMAT1_EMAIL, LEGACY) == "jane@example.com"


def test_a_ring_without_legacy_tokens_keeps_no_cipher_under_the_raw_key() -> None:
    with pytest.raises(KeyMaterialError, match="legacy_tokens"):
        CURRENT.cipher("k1", format1=True)
    assert LEGACY.cipher("k1", format1=True) is not None
    assert (CURRENT.legacy_tokens, LEGACY.legacy_tokens) == (False, True)
    assert repr(CURRENT) == "Keyring(active='k1', key_ids=('k1',), legacy_tokens=False)"
    assert Keyring.from_text({"k1": KEY.hex()}, "k1", legacy_tokens=False).legacy_tokens is False


@pytest.mark.parametrize(
    ("entry", "count"),
    [("", 1), ("    legacy_tokens: true\n", 1), ("    legacy_tokens: false\n", 0)],
)
def test_the_policy_option_on_the_key_entry(entry: str, count: int) -> None:
    plan = compile_policy(policy(entry), key_material={"tokens": {"k1": KEY}})
    assert plan.detokenize(f"{FORMAT1_EMAIL} {FORMAT2_EMAIL}")[1] == count + 1  # format 2 always opens
    assert plan.keyrings()[0].legacy_tokens is (count == 1)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("    legacy_tokens: 3\n", "<policy>:5:5: keys.tokens.legacy_tokens: expected a boolean, got 3 (int)"),
        ("    legacy_tokens: [no]\n", "<policy>:5:5: keys.tokens.legacy_tokens: expected a boolean, got a list"),
        ("    previous:\n      - {env: U, id: k0, legacy_tokens: false}\n",
         "<policy>:6:26: keys.tokens.previous[0].legacy_tokens: unknown field 'legacy_tokens'"),  # the entry's, not an id's
    ],
)
def test_a_wrong_value_is_a_located_policy_error(entry: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        compile_policy(policy(entry), key_material={"tokens": {"k1": KEY}})
    assert str(info.value).startswith(message)
