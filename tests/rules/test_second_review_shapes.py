"""Shapes the second re-review of issue #15 found crossing, each next to veil-shaped text or a
separator a URL or a glued name brings; every value here is found when it stands alone."""

from __future__ import annotations

import pytest

from tests.rules.test_lookalike_tokens import (
    REAL_HASH,
    assert_never_passes,
    redact,
)

ASSIGNED = "Xk9vQ2mZ7pL4wR"
CARD = "4111111111111111"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # A secret's name glued after a token's lower-case payload or a digit (the 'monkey' rule kept them out)
        (f"tok_A_k1_bpassword={ASSIGNED}", ASSIGNED),
        (f"tok_A_k1_b6API_KEY={ASSIGNED}", ASSIGNED),
        (f"dbpassword={ASSIGNED}", ASSIGNED),
        (f"mytoken: {ASSIGNED}", ASSIGNED),
        # 16 to 19 digits after '+' (a URL's encoded space): more than any phone number holds
        (f"GET /search?q=card+{CARD} HTTP/1.1", CARD),
        (f"tok_A_k1_b+{CARD}", CARD),
        (f"{REAL_HASH}+{CARD}", CARD),
        (f"see +{CARD} now", CARD),
        ("hash_A_0123456789abcdef+4111 1111 1111 1111", "4111 1111 1111 1111"),
        ("q=card+4111-1111-1111-1111", "4111-1111-1111-1111"),
        # A hash named like a secret before an IPv6 address: no secret value opens with ':'
        ("hash_API_KEY_e9dc5a7c6908f6d1_fe80::1ff:fe23:4567:890a", "fe80"),
        # A finding gives way to a higher-priority one that starts inside it and runs past its end:
        # a phone read across a hash's digits and a bot token's head, an e-mail whose domain is a JWT's
        ("hash_API_KEY_c61cba190cb73504 96458526:AAhxPThYb48YSKLdfzxCW8_u14KJH8OcEYn", "AAhxPThYb48YSKLdfzxCW8"),
        ("ref 04 96458526:AAhxPThYb48YSKLdfzxCW8_u14KJH8OcEYn", "AAhxPThYb48YSKLdfzxCW8"),
        ("tok_A_k1_b@eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJl", "c2lnbmF0dXJl"),
        ("tok_A_k1_b@hvs.QrdeIgKoO2AJlwd7O8E7Vzws", "O8E7Vzws"),
        # ... or starts before its value and covers it: SECRET read a bot token's id as part of a name
        ("hash_SECRET_20c8f409a51305e4-96458526:AAhxPThYb48YSKLdfzxCW8_u14KJH8OcEYn", "96458526"),
        ("vtok_API_KEY_k1_96458526:AAhxPThYb48YSKLdfzxCW8_u14KJH8OcEYn", "96458526"),
    ],
)
def test_a_value_in_these_shapes_never_passes(text: str, value: str) -> None:
    assert_never_passes(text, value)


@pytest.mark.parametrize(
    "text",
    [
        f"monkey={ASSIGNED}",  # no secret word
        f"hockey_score={ASSIGNED}",
        "+4111111111111111111111",  # too long for a card
        "+4111 1111 1111 111",  # 15 digits after '+': may be a phone number
        "password: :abc",
    ],
)
def test_their_near_misses_stay(text: str) -> None:
    assert redact(text) == text


def test_a_phone_after_plus_is_still_a_phone() -> None:
    assert redact("call +4915112345678").startswith("call hash_PHONE_")
