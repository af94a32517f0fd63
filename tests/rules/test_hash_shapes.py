"""Hash-shaped text never hides a finding (review, issue #15).

A truncated HMAC cannot be checked without its value, so the scanner no longer skips
hash-shaped spans: a finding that starts with one (a policy's detector of hash-like
references) is redacted by its own action, as one that covers it from a key before it
(``password=hash_EMAIL_...``) is. Idempotency holds where the ``hash`` action made the text.
"""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil import compile_policy

HASH_KEY = bytes(range(100, 132))
# Cards are hashed, everything else redacted: a hash-shaped value under a secret's name is
# taken by the secret detector, whose action is not the one that makes hashes.
POLICY = """\
version: 1
keys:
  hash: {env: H}
rules:
  - scan:
      action: redact
      actions:
        CREDIT_CARD: {type: hash, key: hash}
"""
PLAN = compile_policy(POLICY, key_material={"hash": {"k1": HASH_KEY}})
REAL_HASH = PLAN.redact_text("4000 0000 0000 0002").text
FORGED = "hash_EMAIL_0123456789abcdef"


def redact(text: str) -> str:
    return PLAN.redact_text(text).text


def test_the_fixture_is_what_the_plan_makes() -> None:
    assert REAL_HASH.startswith("hash_CREDIT_CARD_") and len(REAL_HASH) == len("hash_CREDIT_CARD_") + 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"password={FORGED}", "password=[REDACTED:SECRET]"),  # the review's case: a forged hash as a secret
        (f"password={REAL_HASH}", "password=[REDACTED:SECRET]"),  # a real hash under another action's finding
        (f"api_key: {FORGED}", "api_key: [REDACTED:SECRET]"),
        (f"Authorization: Bearer {FORGED}", "Authorization: Bearer [REDACTED:BEARER_TOKEN]"),
        ("token=hash_CREDIT_CARD_230a885f95c7ddc0", "token=[REDACTED:SECRET]"),  # the configured shape exactly
        # near misses: a hash no finding covers is left alone
        (REAL_HASH, REAL_HASH),
        (f"see {REAL_HASH}, thanks", f"see {REAL_HASH}, thanks"),
        (f"card {FORGED} ok", f"card {FORGED} ok"),
        ("password", "password"),
    ],
)
def test_a_finding_covering_a_hash_shaped_span_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


CUSTOM = compile_policy("""\
version: 1
keys:
  hash: {env: H}
detectors:
  - {name: LEGACY_REF, pattern: '[a-z]{4}_[A-Z_]+_[0-9a-f]{16}'}
  - {name: ACCOUNT, pattern: 'hash_[A-Z]{3,}'}
rules:
  - scan:
      detectors: [LEGACY_REF, ACCOUNT, CREDIT_CARD]
      action: redact
      actions:
        CREDIT_CARD: {type: hash, key: hash}
""", key_material={"hash": {"k1": HASH_KEY}})
ACCOUNT_ONLY = compile_policy("""\
version: 1
keys:
  hash: {env: H}
detectors:
  - {name: ACCOUNT, pattern: 'hash_[A-Z]{3,}'}
rules:
  - scan:
      detectors: [ACCOUNT, CREDIT_CARD]
      action: redact
      actions:
        CREDIT_CARD: {type: hash, key: hash}
""", key_material={"hash": {"k1": HASH_KEY}})


@pytest.mark.parametrize(
    ("plan", "text", "expected"),
    [
        # a finding that covers the hash-shaped span exactly (was: skipped with the span)
        (CUSTOM, FORGED, "[REDACTED:LEGACY_REF]"),
        (CUSTOM, f"ref {FORGED}.", "ref [REDACTED:LEGACY_REF]."),
        # the plan's own hash, taken whole by a detector of another action: rewritten (rare, safe)
        (CUSTOM, REAL_HASH, "[REDACTED:LEGACY_REF]"),
        # a finding that starts with the span and ends inside it (was: skipped with the span)
        (ACCOUNT_ONLY, FORGED, "[REDACTED:ACCOUNT]_0123456789abcdef"),
        (ACCOUNT_ONLY, REAL_HASH, "[REDACTED:ACCOUNT]_CARD_" + REAL_HASH.rsplit("_", 1)[1]),
        # near misses: shapes those detectors do not take
        (CUSTOM, "hash_email_0123456789abcdef", "hash_email_0123456789abcdef"),
        (ACCOUNT_ONLY, "hash_AB_0123456789abcdef", "hash_AB_0123456789abcdef"),
    ],
)
def test_a_custom_detector_finding_at_a_hash_shaped_span_is_redacted(plan: object, text: str, expected: str) -> None:
    assert plan.redact_text(text).text == expected  # type: ignore[attr-defined]


def test_in_json_too() -> None:
    for plan, text in ((PLAN, f"password={FORGED}"), (CUSTOM, f"ref {FORGED}"), (ACCOUNT_ONLY, FORGED)):
        out = plan.redact_body(orjson.dumps({"note": text}), "application/json").output
        assert FORGED.encode() not in out


def test_a_hash_action_leaves_its_own_output_as_it_is() -> None:
    """Redacting twice equals once where the hash action made the text (no skip needed)."""
    plan = compile_policy(POLICY.replace("action: redact", "action: {type: hash, key: hash}"),
                          key_material={"hash": {"k1": HASH_KEY}})
    once = plan.redact_text("token=s3cr3t-V4lue-9 card 4000 0000 0000 0002").text
    assert "s3cr3t" not in once and plan.redact_text(once).text == once


HEX = "0123456789abcdef"


@st.composite
def hash_shapes(draw: st.DrawFn) -> str:
    """Hash-shaped text: the plan's own hash, or forged ones of any tag and length."""
    if draw(st.booleans()):
        return REAL_HASH
    tag = draw(st.sampled_from(["EMAIL", "CREDIT_CARD", "US_SSN", "SECRET", "A"]))
    return f"hash_{tag}_" + draw(st.text(HEX, min_size=8, max_size=64))


@given(hash_shapes(), st.sampled_from(["password=", "password: ", "api_key=", "secret: ", "Bearer "]),
       st.sampled_from(["", " ", ", ok", "\n"]))
def test_a_hash_shaped_secret_never_passes(shape: str, context: str, after: str) -> None:
    """Hash-shaped text where a secret stands passes only where the same text with a prefix no
    action makes does too (a low-entropy value such as ``hash_A_00000000`` is no secret)."""
    unshaped = "hazh_" + shape.removeprefix("hash_")
    if unshaped not in redact(f"{context}{unshaped}{after}"):
        assert shape not in redact(f"{context}{shape}{after}")
