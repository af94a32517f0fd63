"""Property (issue #15, for vault tokens): token-shaped text around an injected value never lets
through a value the detectors find when plain letters stand where the token-shaped text is."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.rules.plan import Plan
from veil.settings import load_policy_data
from tests.vault.conftest import KEY_TEXT


@pytest.fixture(scope="module")
def plan_and_token(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, str]:
    where = tmp_path_factory.mktemp("vault") / "v.db"
    plan = load_policy_data({
        "version": 1, "keys": {"tokens": {"env": "K"}}, "vaults": {"main": {"path": str(where)}},
        "rules": [{"fields": [{"path": "$.email", "entity": "EMAIL",
                               "action": {"type": "tokenize", "vault": "main"}}], "scan": True}],
    }, environ={"K": KEY_TEXT})
    out = plan.redact_body(b'{"email": "seed@example.com"}', "application/json").output.decode()
    return plan, out.split('"')[3]


VALUES = ["alice@example.com", "bob.smith@mail.example.org"]


@settings(max_examples=80, deadline=None)
@given(
    before=st.sampled_from(["", " ", "x", "_", ".", "=", "vtok_EMAIL_k1_", "vtok_A_k1_"]),
    shape=st.sampled_from(["real", "forged", "cut", "none"]),
    after=st.sampled_from(["", " ", ".", "_", "a"]),
    value=st.sampled_from(VALUES),
    glue=st.booleans(),
)
def test_token_shaped_text_never_hides_a_value(plan_and_token: tuple[Plan, str], before: str, shape: str,
                                               after: str, value: str, glue: bool) -> None:
    plan, token = plan_and_token
    shaped = {"real": token, "forged": token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
              "cut": token[:-5], "none": ""}[shape]
    text = f"{before}{shaped}{after}{value}" if glue else f"{before}{shaped}{after} {value}"
    # The same text with plain letters where the token-shaped part is: what the detectors alone
    # make of it (they leave some glued values, '.abcalice@example.com', whatever veil's tokens do).
    control = f"{before}{'x' * len(shaped)}{after}{value}" if glue else f"{before}{'x' * len(shaped)}{after} {value}"
    if value in plan.redact_text(control).text:
        return
    assert value not in plan.redact_text(text).text
