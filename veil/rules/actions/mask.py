"""The ``mask`` action: hide most characters of a value, keep its shape.

Use it when a human needs to recognise a value (the last four digits of a
card) but not read it. Caveat: the kept characters and the length are
revealed, so ``mask`` is weaker than ``redact`` or ``hash``; a value with no
more content characters than ``keep_first + keep_last`` is masked completely.

Content and separators: letters, digits, marks, emoji and other pictographs are
*content*; whitespace, punctuation and math/currency symbols are *separators*
(``-``, space, ``.``, ``+``, ``(``...). ``keep_first``/``keep_last`` count
content characters only, and separators stay in place when ``keep_separators``.
The mask character always counts as content, which is what makes masking a
masked value a no-op.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import ClassVar

_SEPARATOR_SYMBOL_CATEGORIES = frozenset({"Sm", "Sc"})


def _is_separator(ch: str) -> bool:
    if ch.isspace():
        return True
    category = unicodedata.category(ch)
    return category[0] == "P" or category in _SEPARATOR_SYMBOL_CATEGORIES


@dataclass(frozen=True, slots=True)
class Mask:
    """Replaces content characters with ``char``, keeping the first and last few.

    ``char`` must be exactly one non-alphanumeric character. With
    ``keep_separators=False`` separators inside the masked part are masked too
    (separators between kept characters stay, so the result is stable).

    >>> Mask().apply("4111-1111-1111-4242", "CREDIT_CARD")
    '****-****-****-4242'
    >>> Mask().apply("1234", "PIN")
    '****'
    """

    char: str = "*"
    keep_first: int = 0
    keep_last: int = 4
    keep_separators: bool = True

    name: ClassVar[str] = "mask"
    removes: ClassVar[bool] = False
    value_free: ClassVar[bool] = False
    changes: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if len(self.char) != 1:
            raise ValueError(f"expected one character, got {self.char!r}")
        if self.char.isalnum():
            raise ValueError(
                f"mask character must not be a letter or digit, got {self.char!r}"
            )
        for field_name in ("keep_first", "keep_last"):
            count = getattr(self, field_name)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(
                    f"{field_name} must be an integer >= 0, got {count!r}"
                )

    def apply(self, value: str, entity: str) -> str:
        char = self.char
        is_content = [ch == char or not _is_separator(ch) for ch in value]
        content_positions = [i for i, content in enumerate(is_content) if content]
        total = len(content_positions)
        if total <= self.keep_first + self.keep_last:
            # Never reveal a whole short value: mask every content character.
            lo, hi = -1, len(value)
        else:
            lo = content_positions[self.keep_first - 1] if self.keep_first else -1
            hi = content_positions[total - self.keep_last] if self.keep_last else len(value)
        out: list[str] = []
        for i, ch in enumerate(value):
            inside = lo < i < hi
            if inside and (is_content[i] or not self.keep_separators):
                out.append(char)
            else:
                out.append(ch)
        return "".join(out)
