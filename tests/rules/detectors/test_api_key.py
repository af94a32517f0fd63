"""API_KEY: vendor-prefixed tokens; placeholders and prose are not keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Detect = Callable[..., list[str]]

GHP = "ghp_R7fK2mQ9xLp4Wv8sT1nB6yC3dE5gH0jA2kZu"
PAT = "github_pat_11ABCDEFG0123456789abc_" + "aZ9bY8cX7dW6eV5fU4gT3hS2iR1jQ0kPlOmNnMoLpKqJrIsHtGuFvEwDxCyBzA12345"
SLACK = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
OPENAI = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
ANTHROPIC = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-dCbA_zyxwvut"
NPM = "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GITHUB_TOKEN={GHP}", [GHP]),  # GitHub classic
        (f"token {PAT}", [PAT]),  # GitHub fine-grained
        (f"slack: {SLACK}", [SLACK]),  # Slack bot
        (f"stripe {STRIPE}", [STRIPE]),  # Stripe secret
        (f"key={GOOGLE}&x", [GOOGLE]),  # Google API key with '-'
        (f'{{"openai":"{OPENAI}"}}', [OPENAI]),  # OpenAI project key
        (f"ANTHROPIC_API_KEY={ANTHROPIC}", [ANTHROPIC]),  # Anthropic
        (f"//registry.npmjs.org/:_authToken={NPM}", [NPM]),  # npm
        ("xapp-1-A0123456789-1234567890123-abcdef0123456789", ["xapp-1-A0123456789-1234567890123-abcdef0123456789"]),  # Slack app
        ("glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn", ["glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn"]),  # GitLab
    ],
)
def test_api_key_found_with_exact_span(detect: Detect, text: str, expected: list[str]) -> None:
    assert detect("API_KEY", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ghp_R7fK2mQ9xLp4",  # GitHub token too short
        "ghp_" + "x" * 36,  # placeholder: one repeated char
        "use sk-learn-compatible-estimators-here",  # prose after sk-: no digits or upper case
        "task-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",  # 'sk-' inside a word
        "AIzaSyD-9tSrke72",  # Google key too short
        "xoxb-123",  # Slack token too short
        "npm_install",  # npm word
        "sk_live_",  # prefix only
    ],
)
def test_api_key_near_misses_are_not_found(detect: Detect, text: str) -> None:
    assert detect("API_KEY", text) == []
