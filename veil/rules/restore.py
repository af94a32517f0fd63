"""Put tokenized values back into the reply to the same exchange.

An egress proxy tokenizes a prompt on its way to a vendor (``tokenize`` with
``restore: true``); the vendor answers about ``tok_EMAIL_k1_...`` and the app
should read the real address again. :meth:`Plan.restorer` gives the
:class:`Restorer` for a request's route: only the keys and scopes of the rules
that applied to that request, so a reply cannot open tokens made elsewhere.

Restoring is the one place veil writes sensitive values *into* traffic: use it
only where the reply goes back to the party that sent the values.
"""

from __future__ import annotations

from dataclasses import dataclass

from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import detokenize_text, open_token_at
from veil.rules.media import body_kind_of


@dataclass(frozen=True, slots=True)
class Restorer:
    """Keyrings with the scopes each may open; built by :meth:`Plan.restorer`."""

    rings: tuple[tuple[Keyring, tuple[str, ...]], ...]

    def restore_text(self, text: str, *, json_escape: bool = False) -> tuple[str, int]:
        """Every token these keys open, replaced by its value; ``(text, count)``."""
        count = 0
        for ring, scopes in self.rings:
            text, found = detokenize_text(text, ring, scopes, json_escape=json_escape)
            count += found
        return text, count

    def open_at(self, text: str, pos: int = 0) -> tuple[int, str] | None:
        """``(end, value)`` for a token these keys open starting exactly at ``text[pos]``."""
        for ring, scopes in self.rings:
            opened = open_token_at(text, pos, ring, scopes)
            if opened is not None:
                return opened
        return None

    def restore_body(self, body: bytes, content_type: str, *, kind: str | None = None) -> tuple[bytes, int]:
        """A whole body with its tokens restored: JSON-escaped inside JSON and NDJSON,
        as they are in text; other kinds (forms, binary) come back unchanged.

        ``kind`` (json, ndjson, text...) overrides the one ``content_type`` gives,
        for a body whose kind was sniffed."""
        kind = kind or body_kind_of(content_type)
        if kind not in ("json", "ndjson", "text") or b"tok_" not in body:
            return body, 0
        text = body.decode("utf-8", "surrogateescape")
        out, count = self.restore_text(text, json_escape=kind != "text")
        return (out.encode("utf-8", "surrogateescape"), count) if count else (body, 0)
