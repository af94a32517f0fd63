"""API_KEY in context: exact spans in configs, JSON and URLs; prose and placeholders are not keys.

Every catalog format has its own generated example and near-misses in
test_secret_formats.py; these are the surroundings tokens are found in.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]

GHP = "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"  # CRC32 tail computed, not a real token
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # Stripe's documented sample shape
GOOGLE = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
OPENAI = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7rT2mN8"
ANTHROPIC = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-dCbA_zyxwvut"
SLACK = "xoxb-2718281828-3141592653-q7Rt2xLm9Vz4Kp8sWn3bYc6H"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GITHUB_TOKEN={GHP}", [GHP]),  # env file
        (f"stripe {STRIPE}", [STRIPE]),  # prose
        (f"key={GOOGLE}&x", [GOOGLE]),  # query string, key with '-'
        (f'{{"openai":"{OPENAI}"}}', [OPENAI]),  # JSON
        (f"ANTHROPIC_API_KEY={ANTHROPIC}", [ANTHROPIC]),  # Anthropic
        (f"slack: {SLACK}.", [SLACK]),  # sentence dot excluded
        (f"git clone https://x:{GHP}@github.com/o/r", [GHP]),  # token as URL password
        (f"{GHP},{STRIPE}", [GHP, STRIPE]),  # two, comma-separated
        # Glued to a word or '_' (issue #15: they crossed). A prefix of 4+ characters ending in '_', '-'
        # or '.' starts a token wherever it stands; a character outside the format's alphabet ends it.
        (f"tok_A_k1_{GHP}", [GHP]),
        (f"{GHP}_k1", [GHP]),
        (f"tok_A_k1_{STRIPE}tok_A_k1_b", [f"{STRIPE}tok"]),  # letters are its alphabet: a longer key, whole
        (f"tok_A_k1_{STRIPE}_k1", [STRIPE]),
        (f"hash_API_KEY_0123456789abcdef{OPENAI}", [OPENAI]),
        (f"x_{SLACK}_k1", [SLACK]),
        (f"tok_A_k1_{SLACK}-x", [SLACK]),
        (f"abc{ANTHROPIC}", [ANTHROPIC]),
    ],
)
def test_api_key_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("API_KEY", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        GHP[:-1] + "M",  # GitHub: checksum does not match
        GHP[:-2],  # GitHub: too short
        GHP + "Q",  # GitHub: part of a longer word
        "ghp_" + "x" * 36,  # placeholder: one repeated char
        "use sk-learn-compatible-estimators-here",  # prose after sk-
        "AIzaSyD-9tSrke72",  # Google key too short
        "sk_live_4eC39HqLyjWD",  # Stripe: too short
        "sk_live_" + "X" * 24,  # placeholder
        "ops_eyJ" + "A" * 120,  # 1Password shape, one repeated char
        "AGE-SECRET-KEY-1" + "Q" * 58,  # age: placeholder and bad bech32
        f"tok_A_k1_{GHP}Q",  # glued before and a longer run after: one candidate, too long
        f"x_{SLACK}{'Q' * 11}",  # Slack: a last part over 34 characters
        f"x{GOOGLE}",  # a short bare prefix (AIza) glued to a word
        "monkey-" + "0123456789abcdef" * 2,  # Mailgun's 'key-' ends words: a word boundary first
        "client_secret_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7rT2mN8Pq1",  # Notion's 'secret_' likewise
    ],
)
def test_api_key_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("API_KEY", text) == []
