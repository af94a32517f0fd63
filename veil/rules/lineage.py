"""Which policy touched a message: its digest, its revision, when it was compiled.

The digest is ``sha256:`` and the first 16 hex digits of the SHA-256 of the policy
source: the file's text as read (UTF-8), a built-in profile's YAML. Policy data given
as a mapping has no text; its digest is that of its canonical JSON (sorted keys, no
spaces), so the same data always gives the same digest. 16 hex digits (64 bits) tell
policy versions apart; they are not a security boundary. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

DIGEST_PREFIX = "sha256:"
DIGEST_HEX = 16


def policy_digest(source: str | bytes) -> str:
    """``sha256:<16 hex>`` of a policy's source text (``str`` is taken as its UTF-8 bytes).

    >>> policy_digest(b"")
    'sha256:e3b0c44298fc1c14'
    """
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()[:DIGEST_HEX]


def data_digest(data: Mapping[str, Any]) -> str:
    """The digest of policy data that has no text: that of its canonical JSON."""
    return policy_digest(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str))


@dataclass(frozen=True, slots=True)
class Lineage:
    """What names a compiled policy: ``digest``, the policy's own ``revision`` (None when it
    has none), ``source`` (its file or ``builtin:NAME``) and ``compiled_at`` (Unix seconds)."""

    digest: str
    revision: str | None = None
    source: str = ""
    compiled_at: float = 0.0

    @classmethod
    def of(cls, text: str | bytes | None, data: Mapping[str, Any], revision: str | None, source: str) -> Lineage:
        """The lineage of a policy compiled now from ``text`` (or, without text, from ``data``)."""
        digest = policy_digest(text) if text is not None else data_digest(data)
        return cls(digest, revision, source, time.time())

    def as_dict(self) -> dict[str, object]:
        """For ``/policy`` and logs: digest, revision, source and the compile time (UTC, ISO 8601)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.compiled_at))
        return {"digest": self.digest, "revision": self.revision, "source": self.source, "loaded_at": stamp}


__all__ = ["DIGEST_PREFIX", "Lineage", "data_digest", "policy_digest"]
