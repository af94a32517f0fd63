"""How an entity name is written inside an action's output (``hash_EMAIL_...``, ``tok_EMAIL_...``).

Entity names come from detectors and field-name classes and are usually already
``UPPER_SNAKE``. Outputs that must be found again by a regex (hashes, tokens)
need a closed alphabet, so every entity goes through :func:`entity_tag` first.
"""

from __future__ import annotations

import re

ENTITY_TAG_PATTERN = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*"
"""An entity tag: upper-case ASCII words joined by single underscores."""

_NOT_TAG_CHARS = re.compile(r"[^A-Z0-9]+")


def entity_tag(entity: str) -> str:
    """Normalise ``entity`` to :data:`ENTITY_TAG_PATTERN`.

    Upper-cases, turns every run of other characters into one ``_`` and trims
    underscores; a tag that would start with a digit gets an ``X`` in front, and
    an entity with no usable character becomes ``UNKNOWN``. Already-valid tags
    come back unchanged, so ``entity_tag`` is idempotent.

    >>> entity_tag("credit-card")
    'CREDIT_CARD'
    """
    tag = _NOT_TAG_CHARS.sub("_", entity.upper()).strip("_")
    if not tag:
        return "UNKNOWN"
    if tag[0].isdigit():
        return "X" + tag
    return tag
