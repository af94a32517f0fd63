"""The actions a policy can name, one module each.

``ACTION_TYPES`` maps the policy name (``action: mask``) to the class the
compiler instantiates once with the rule's options. Every class satisfies
:class:`veil.rules.actions.base.Action` and has a ``name`` equal to its key.
"""

from __future__ import annotations

from veil.rules.actions.base import Action
from veil.rules.actions.drop import Drop
from veil.rules.actions.generalize import Generalize
from veil.rules.actions.hmac_hash import HASH_OUTPUT_PATTERN, Hash
from veil.rules.actions.keep import Keep
from veil.rules.actions.keys import Keyring, generate_key_text, parse_key
from veil.rules.actions.mask import Mask
from veil.rules.actions.redact import Redact
from veil.rules.actions.tokenize import (
    TOKEN_PATTERN,
    Tokenize,
    detokenize_text,
    detokenize_value,
)

ACTION_TYPES: dict[str, type[Action]] = {
    cls.name: cls for cls in (Redact, Mask, Hash, Tokenize, Generalize, Drop, Keep)
}

__all__ = [
    "ACTION_TYPES",
    "HASH_OUTPUT_PATTERN",
    "TOKEN_PATTERN",
    "Action",
    "Drop",
    "Generalize",
    "Hash",
    "Keep",
    "Keyring",
    "Mask",
    "Redact",
    "Tokenize",
    "detokenize_text",
    "detokenize_value",
    "generate_key_text",
    "parse_key",
]
