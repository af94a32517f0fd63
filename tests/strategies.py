"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Keys and words that no built-in field-name class or detector reacts to.
NEUTRAL_KEYS = ["alpha", "beta", "items", "count", "note", "status", "kind", "label", "data", "meta", "tags", "size"]
NEUTRAL_WORDS = ["ok", "the", "blue", "order", "shipped", "café", "naïve", "über", "東京", "🙂", "done", "lorem", "ipsum"]

# Values every default-policy detector must catch, whatever surrounds them.
PII_VALUES = [
    "jane.roe@example.com",
    "j.smith+news@mail.example.co.uk",
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "536-22-1234",  # 078-05-1120 (Woolworth's wallet card) was voided by the SSA: no SSN
    "+44 20 7946 0958",
    "GB82 WEST 1234 5698 7654 32",
    "192.168.10.23",
    "2001:db8::8a2e:370:7334",
    "AKIAIOSFODNN7EXAMPLE",
    "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",  # CRC32 tail valid: a fake without one is no key
]

neutral_text = st.lists(st.sampled_from(NEUTRAL_WORDS), min_size=0, max_size=6).map(" ".join)
small_numbers = st.integers(min_value=-9999, max_value=9999) | st.floats(
    min_value=-9999, max_value=9999, allow_nan=False, allow_infinity=False
)
scalars = neutral_text | small_numbers | st.booleans() | st.none()


def documents(leaves: st.SearchStrategy[Any] = scalars) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NEUTRAL_KEYS), children, max_size=4),
        max_leaves=25,
    )


@st.composite
def pii_text(draw: st.DrawFn) -> tuple[str, str]:
    """(text containing one PII value, that value)."""
    value = draw(st.sampled_from(PII_VALUES))
    before = draw(neutral_text)
    after = draw(neutral_text)
    text = " ".join(part for part in (before, value, after) if part)
    return text, value
