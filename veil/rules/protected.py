"""Which token- and hash-shaped spans the scanner may leave alone, and how it checks them.

Why anything is left alone: redacting twice must equal redacting once. A second
pass over ``tok_EMAIL_k1_...`` must not tokenize the token again. (A second pass
over ``hash_EMAIL_3f2a...`` is scanned as any text: see *Hashes* below.)

Why not everything that looks like a token (issue #15): before, any span shaped
like a token or hash was skipped, so ``tok_A_k1_alice@example.com`` came back
unchanged. A shape is free to forge. The scanner now skips a span only when the
plan can check, without I/O, that it made the span, and only when the span ends
at a boundary (the end of the text, or a character that is neither a letter, a
digit nor ``_``). Even then, a span is not skipped when a detector finding that
starts in it runs past its end (``<token>.alice@example.com`` is one e-mail
address to the e-mail detector). What each kind of output allows:

* **Vaultless tokens** (``tokenize``): the check is authentication. The token is
  cut to the length its prefix gives and decrypted with the plan's keyrings
  under the scopes of the plan's ``tokenize`` actions. AES-SIV authenticates, so
  a forged or altered token, or one made with another key, scope or type, fails.
  A token that opens really is the plan's own output, so findings that lie
  entirely inside it (its base32 text may hold digit runs) are ciphertext, not
  data, and are ignored.
* **Hashes** (``hash``): none is skipped. A truncated HMAC cannot be checked
  without the value it was made from, so any hex of a configured shape would pass
  as the plan's own, and a shape is free to forge. Skipping one hid every finding
  that starts where the span starts and does not run past it: a policy's own
  detector of hash-like references (``[a-z]{4}_[A-Z_]+_[0-9a-f]{16}``) or of a
  prefix (``hash_[A-Z]{3,}``) found nothing in ``hash_EMAIL_0123456789abcdef``, a
  look-alike any sender can write. Nothing is lost by scanning hashes as any
  text: no built-in detector takes a bare hash (its hex has no shape of data),
  and where one takes it whole under a ``hash`` action (``token=hash_...``), that
  action leaves its own output unchanged
  (:meth:`veil.rules.actions.hmac_hash.Hash.apply`), so redacting twice
  still equals redacting once. The cost: a real hash a detector of another action
  takes (``token=hash_...`` under a ``redact`` secret) is rewritten again; that is
  rare, and safe.
* **Vault tokens** (issue #18): each carries a 40-bit tag keyed by the policy's
  key entry, checked without the vault
  (:func:`veil.rules.actions.vault_token.vault_token_end`). The compiler passes
  that check to :func:`own_outputs` as ``extra``, one per key entry vault tokens
  use; a look-alike whose tag does not check is scanned as any text.

The checks take text and return offsets: the core does no I/O (``veil/rules``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from veil.rules.actions.hmac_hash import Hash
from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import TOKEN_PATTERN, Tokenize
from veil.rules.restore import Restorer


class Protected(NamedTuple):
    """A kind of output the plan makes, found by ``pattern`` and checked by ``own_end``."""

    pattern: str
    """RE2, capture-free and unanchored: where such an output may start."""
    own_end: Callable[[str, int], int]
    """``own_end(text, start)``: the end of the plan's own output starting exactly at
    ``text[start]``, or -1 when the plan cannot check it as its own."""
    authenticated: bool
    """True when ``own_end`` authenticates the whole span (findings inside it are the
    plan's own ciphertext); False for a shape-only check, under which a finding that
    starts inside the span is not hidden, though one that starts with it and ends in it
    is: which is why hashes are no longer protected (see the module docstring)."""


def own_outputs(
    tokenizers: Iterable[Tokenize], hashes: Iterable[Hash], extra: Sequence[Protected] = ()
) -> tuple[Protected, ...]:
    """The protected outputs of a plan with these ``tokenize`` and ``hash`` actions.

    ``hashes`` protect nothing (see the module docstring: a hash cannot be checked);
    they are taken so the compiler hands over every output-making action in one place.
    ``extra``: checks for other kinds of output (the hook for vault tokens, #18).
    """
    scopes: dict[Keyring, list[str]] = {}
    for tokenizer in tokenizers:
        found = scopes.setdefault(tokenizer.keyring, [])
        if tokenizer.scope not in found:
            found.append(tokenizer.scope)
    out: list[Protected] = []
    if scopes:
        opener = Restorer(tuple((ring, tuple(s)) for ring, s in scopes.items()))
        out.append(Protected(TOKEN_PATTERN, _token_end(opener), authenticated=True))
    del hashes  # shape-only: never skipped
    return (*out, *extra)


def _token_end(opener: Restorer) -> Callable[[str, int], int]:
    def token_end(text: str, start: int) -> int:
        opened = opener.open_at(text, start)
        return -1 if opened is None else opened[0]

    return token_end
