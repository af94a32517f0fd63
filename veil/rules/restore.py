"""Put tokenized values back into the reply to the same exchange.

An egress proxy tokenizes a prompt on its way to a vendor (``tokenize`` with
``restore: true``); the vendor answers about ``tok_EMAIL_k1_...`` and the app
should read the real address again. :meth:`Plan.restorer` gives the
:class:`Restorer` for a request's route: only the keys and scopes of the rules
that applied to that request, so a reply cannot open tokens made elsewhere.

Restoring is the one place veil writes sensitive values *into* traffic: use it
only where the reply goes back to the party that sent the values. And only the
values it sent: a :class:`TokenLedger` records the tokens veil made in what one
exchange sent, and the reply's restorer opens those alone. Anyone can put a
token they saw elsewhere (a log, another user's reply) into a request or have a
vendor echo it; without the ledger the reply would hand back its value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from veil.rules.actions.keys import Keyring
from veil.rules.actions.tokenize import detokenize_text, find_tokens, open_token_at
from veil.errors import RedactionError
from veil.rules import charsets
from veil.rules.media import body_kind_of, media_type


@dataclass(frozen=True, slots=True)
class Restorer:
    """Keyrings with the scopes each may open; built by :meth:`Plan.restorer`."""

    rings: tuple[tuple[Keyring, tuple[str, ...]], ...]
    only: Collection[str] | None = None
    """The tokens that may be opened (an exchange's ledger); None: every token the keys open."""

    def restore_text(self, text: str, *, json_escape: bool = False) -> tuple[str, int]:
        """Every token these keys open, replaced by its value; ``(text, count)``."""
        count = 0
        for ring, scopes in self.rings:
            text, found = detokenize_text(text, ring, scopes, json_escape=json_escape, only=self.only)
            count += found
        return text, count

    def open_at(self, text: str, pos: int = 0) -> tuple[int, str] | None:
        """``(end, value)`` for a token these keys open starting exactly at ``text[pos]``."""
        for ring, scopes in self.rings:
            opened = open_token_at(text, pos, ring, scopes, self.only)
            if opened is not None:
                return opened
        return None

    def tokens_in(self, text: str) -> list[str]:
        """Every token these keys open in ``text`` (``only`` aside), as written."""
        return [token for ring, scopes in self.rings for token in find_tokens(text, ring, scopes)]

    def ledger(self, minted: dict[str, bool] | None = None) -> TokenLedger:
        """A record of the tokens one exchange sends (``minted``: those recorded so far, kept
        where the exchange's state lives), for :meth:`TokenLedger.restorer`."""
        return TokenLedger(replace(self, only=None), {} if minted is None else minted)

    def restore_body(self, body: bytes, content_type: str, *, kind: str | None = None) -> tuple[bytes, int]:
        """A whole body with its tokens restored: JSON-escaped inside JSON and NDJSON,
        as they are in text; other kinds (forms, binary) come back unchanged.

        ``kind`` (json, ndjson, text...) overrides the one ``content_type`` gives,
        for a body whose kind was sniffed."""
        declared = body_kind_of(content_type)
        kind = kind or declared
        if kind not in ("json", "ndjson", "text"):
            return body, 0
        charset = media_type(content_type)[1] if kind == declared == "text" else "utf-8"
        if charset not in ("utf-8", "us-ascii"):
            # Text in its declared charset: the value goes in as that charset writes it, or the body is
            # refused (bad_encoding) when it has no form there, never UTF-8 among other bytes.
            mark, text = charsets.decode(body, charset)
            if "tok_" not in text:
                return body, 0
            out, count = self.restore_text(text, json_escape=False)
            if not count:
                return body, 0
            try:
                return charsets.encode(mark, out, charset), count
            except RedactionError:
                raise RedactionError("bad_encoding", f"a restored value has no form in {charsets.known(charset)}") from None
        if b"tok_" not in body:
            return body, 0
        text = body.decode("utf-8", "surrogateescape")
        out, count = self.restore_text(text, json_escape=kind != "text")
        return (out.encode("utf-8", "surrogateescape"), count) if count else (body, 0)


@dataclass(slots=True)
class TokenLedger:
    """The tokens veil made in what one exchange sent: the only ones its reply may restore.

    Adapters :meth:`record` each part of a request (its head, its body, a WebSocket
    message) as it was received and as it leaves. A token counts as made when it
    leaves more often than it came in: one the client wrote itself proves nothing
    about its value, while a value the client sent raw may have its token opened
    (the client had the value). Counted on a plain view, so an escaped token
    (``\\u0074ok_...``, ``%74ok_...``) is not mistaken for a new one when the engine
    rewrites its string unescaped.
    """

    opener: Restorer
    minted: dict[str, bool] = field(default_factory=dict)
    """The tokens made, as keys (a dict, not a set: it may live in state that must serialize,
    such as a mitmproxy flow's metadata)."""

    def record(self, received: str | bytes, sent: str | bytes) -> None:
        """Note the tokens ``sent`` holds beyond those ``received`` held."""
        if received == sent:
            return
        made = Counter(self.opener.tokens_in(_plain_view(sent)))
        if not made:
            return
        made.subtract(self.opener.tokens_in(_plain_view(received)))
        self.minted.update((token, True) for token, n in made.items() if n > 0)

    def restorer(self) -> Restorer:
        """The reply's restorer: it opens the tokens recorded, including those recorded later."""
        return replace(self.opener, only=self.minted)


_ESCAPED_ASCII = re.compile(r"\\u00([2-7][0-9a-fA-F])|%([2-7][0-9a-fA-F])")


def _plain_view(data: str | bytes) -> str:
    """``data`` as text with JSON ``\\u00XX`` and URL ``%XX`` escapes of ASCII undone
    (a token is ASCII: no other escape can spell one)."""
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    if "\\u00" not in text and "%" not in text:
        return text
    return _ESCAPED_ASCII.sub(lambda m: chr(int(m[1] or m[2], 16)), text)
