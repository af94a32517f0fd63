"""The mask action: hide content characters, keep the ends and the separators."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.rules.actions.mask import Mask


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        (Mask(), "4242 4242 4242 4242", "**** **** **** 4242"),  # spaces kept
        (Mask(), "4111-1111-1111-4242", "****-****-****-4242"),  # dashes kept
        (Mask(), "", ""),  # empty
        (Mask(), "7", "*"),  # one char: fully masked
        (Mask(), "1234", "****"),  # exactly keep_last: never reveal a whole value
        (Mask(), "12-34", "**-**"),  # short with separator: fully masked, separator kept
        (Mask(), "12345", "*2345"),  # one more than keep_last
        (Mask(), "+44 20 7946 0958", "+** ** **** 0958"),  # '+' is a separator
        (Mask(), "jané dœ 12345", "**** ** *2345"),  # non-ASCII letters are content
        (Mask(), "😀😀😀😀😀1234", "*****1234"),  # emoji are content, not separators
        (Mask(), "--..--", "--..--"),  # separators only: nothing to hide
        (Mask(), "**** **** **** 4242", "**** **** **** 4242"),  # already masked
        (Mask(), "****", "****"),  # already fully masked
        (Mask(), "a" * 10_000, "*" * 9_996 + "aaaa"),  # very long
        (Mask(keep_last=0), "secret", "******"),  # keep nothing
        (Mask(keep_first=2, keep_last=2), "AB12-3456-CD", "AB**-****-CD"),  # both ends
        (Mask(keep_first=1, keep_last=0), "jane.doe", "j***.***"),  # first only
        (Mask(char="#"), "4111 1111", "#### 1111"),  # other mask char
        (Mask(char="•"), "Straße 12", "••••ße 12"),  # non-ASCII mask char
        (Mask(keep_separators=False), "4111-1111-1111-4242", "***************4242"),
        (Mask(keep_separators=False), "12-34", "*****"),  # short: separators masked too
        (Mask(keep_first=2, keep_last=0, keep_separators=False), "1-2-3456", "1-2*****"),
        # separators between kept characters stay, so a second pass changes nothing
    ],
)
def test_mask_hides_all_but_kept_content_characters(mask: Mask, value: str, expected: str) -> None:
    assert mask.apply(value, "CREDIT_CARD") == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"char": "xx"}, r"^expected one character, got 'xx'$"),  # two chars
        ({"char": ""}, r"^expected one character, got ''$"),  # empty
        ({"char": "X"}, r"^mask character must not be a letter or digit, got 'X'$"),
        ({"char": "7"}, r"^mask character must not be a letter or digit, got '7'$"),
        ({"char": "é"}, r"^mask character must not be a letter or digit, got 'é'$"),
        ({"keep_last": -1}, r"^keep_last must be an integer >= 0, got -1$"),  # negative
        ({"keep_first": True}, r"^keep_first must be an integer >= 0, got True$"),  # bool
    ],
)
def test_mask_rejects_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Mask(**kwargs)  # type: ignore[arg-type]


@given(
    value=st.text(),
    keep_first=st.integers(0, 6),
    keep_last=st.integers(0, 6),
    keep_separators=st.booleans(),
    char=st.sampled_from(["*", "#", "•", "-", " ", "█"]),
)
def test_mask_is_idempotent_and_length_preserving(
    value: str, keep_first: int, keep_last: int, keep_separators: bool, char: str
) -> None:
    mask = Mask(char, keep_first, keep_last, keep_separators)
    once = mask.apply(value, "X")
    assert len(once) == len(value)
    assert mask.apply(once, "X") == once


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8))
def test_mask_never_reveals_a_whole_short_value(value: str) -> None:
    """Up to keep_first + keep_last content characters: every one is masked."""
    assert Mask(keep_first=4, keep_last=4).apply(value, "X") == "*" * len(value)
