"""Every action: registered under its policy name, satisfies the protocol, idempotent."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.rules.actions import (
    ACTION_TYPES,
    Drop,
    Generalize,
    Hash,
    Keep,
    Keyring,
    Mask,
    Redact,
    Tokenize,
)
from veil.rules.actions.base import Action

RING = Keyring({"k1": bytes(range(64))}, active="k1")

ALL_ACTIONS: list[Action] = [
    Redact(),
    Redact("<{type}>"),
    Mask(),
    Mask(char="#", keep_first=2, keep_last=2, keep_separators=False),
    Hash(bytes(range(32)), "k1"),
    Hash(bytes(range(32)), "k1", length=64, prefix="h:"),
    Tokenize(RING),
    Tokenize(RING, scope="tenant-a"),
    Generalize(),
    Generalize(date="month", bucket=5, postcode_chars=2),
    Drop(),
    Keep(),
]


def test_action_types_map_policy_names_to_classes() -> None:
    assert ACTION_TYPES == {
        "redact": Redact,
        "mask": Mask,
        "hash": Hash,
        "tokenize": Tokenize,
        "generalize": Generalize,
        "drop": Drop,
        "keep": Keep,
    }
    for policy_name, cls in ACTION_TYPES.items():
        assert cls.name == policy_name


@pytest.mark.parametrize(
    ("cls", "removes", "changes"),
    [
        (Redact, False, True),
        (Mask, False, True),
        (Hash, False, True),
        (Tokenize, False, True),
        (Generalize, False, True),
        (Drop, True, True),  # the adapter removes the field
        (Keep, False, False),  # the engine can skip the write
    ],
)
def test_action_flags(cls: type[Action], removes: bool, changes: bool) -> None:
    assert (cls.removes, cls.changes) == (removes, changes)


@pytest.mark.parametrize(
    "value",
    [
        "",  # empty
        "x",  # one char
        "😀",  # emoji
        "Zoë Ñúñez",  # non-ASCII
        "a" * 100_000,  # very long
    ],
)
def test_drop_returns_empty_and_keep_returns_the_value(value: str) -> None:
    assert Drop().apply(value, "X") == ""
    assert Keep().apply(value, "X") == value


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=repr)
def test_actions_are_frozen_and_slotted(action: Action) -> None:
    """Configured once at compile time, then shared across threads unchanged."""
    assert dataclasses.is_dataclass(action)
    assert not hasattr(action, "__dict__")
    for field in dataclasses.fields(action):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(action, field.name, None)


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=repr)
@settings(deadline=None)
@given(
    value=st.text(),
    entity=st.sampled_from(["EMAIL", "CREDIT_CARD", "IP_ADDRESS", "AGE", "DOB", "custom"]),
)
def test_applying_twice_equals_applying_once(action: Action, value: str, entity: str) -> None:
    once = action.apply(value, entity)
    assert action.apply(once, entity) == once


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=repr)
def test_repr_never_shows_key_bytes(action: Action) -> None:
    text = repr(action)
    for key in (bytes(range(64)), bytes(range(32))):
        assert key.hex()[:16] not in text
        assert repr(key)[:20] not in text
