"""Entity tags: how entity names are written inside hash and token outputs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.rules.actions._entity import ENTITY_TAG_PATTERN, entity_tag


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ("EMAIL", "EMAIL"),  # already a tag
        ("CREDIT_CARD", "CREDIT_CARD"),  # underscores kept
        ("credit-card", "CREDIT_CARD"),  # lower case and dash
        ("  ip address  ", "IP_ADDRESS"),  # spaces trimmed and joined
        ("__A__B__", "A_B"),  # runs of underscores collapse
        ("2fa code", "X2FA_CODE"),  # leading digit
        ("", "UNKNOWN"),  # empty
        ("😀", "UNKNOWN"),  # nothing usable
        ("straße", "STRASSE"),  # non-ASCII that upper-cases to ASCII
        ("émail", "MAIL"),  # non-ASCII letter dropped
    ],
)
def test_entity_tag_normalises_names(entity: str, expected: str) -> None:
    assert entity_tag(entity) == expected


@given(st.text())
def test_entity_tag_always_matches_the_tag_pattern_and_is_idempotent(entity: str) -> None:
    tag = entity_tag(entity)
    assert re.fullmatch(ENTITY_TAG_PATTERN, tag)
    assert entity_tag(tag) == tag
