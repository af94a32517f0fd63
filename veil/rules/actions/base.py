"""What an action is: a pure function from one sensitive value to its replacement.

Actions are configured once, when the policy is compiled, and are frozen
afterwards; ``apply`` is called on the hot path and must not do I/O.
"""

from __future__ import annotations

from typing import ClassVar, Protocol


class Action(Protocol):
    """Rewrites one sensitive value.

    ``value`` is the whole field value or the matched span of free text;
    ``entity`` is the detector or field-name class (``EMAIL``, ``CREDIT_CARD``...).
    ``removes`` is True for ``drop``: the adapter removes the field, header or
    parameter instead of writing ``apply``'s result (which is ``""`` for spans).
    ``changes`` is False only for ``keep``. ``value_free``: ``apply`` ignores
    ``value`` (the output depends on the entity only), so callers may reuse it.
    """

    name: ClassVar[str]
    removes: ClassVar[bool]
    changes: ClassVar[bool]
    value_free: ClassVar[bool]

    def apply(self, value: str, entity: str) -> str: ...
