"""The knobs every adapter takes, as one frozen value made once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from veil.observe import NullObserver, Observer
from veil.rules.plan import Plan

DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024
ON_ERROR_CHOICES = (None, "block", "passthrough")


@dataclass(frozen=True, slots=True)
class Options:
    """Per-adapter knobs.

    ``on_error``: ``block`` or ``passthrough``; None means the policy's own ``on_error``.
    ``requests``/``responses``: False skips that direction entirely.
    ``max_decompressed_bytes``: the most a gzip/deflate/br body may decode to; more is an error.
    ``observer``: told about every body and stream, errors included (e.g. ``veil.observe.prometheus.Metrics``).
    ``policy_header``: responses carry ``veil-policy: sha256:<16 hex>``, the digest of the policy
    in use (:func:`veil.http.headers.with_policy_header`); off by default.
    """

    on_error: str | None = None
    requests: bool = True
    responses: bool = True
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED
    observer: Observer = NullObserver()
    policy_header: bool = False

    def blocks(self, plan: Plan) -> bool:
        """Whether a failure refuses the message (``block``) rather than forwarding it unchanged."""
        return (self.on_error or plan.on_error) != "passthrough"


def parse_options(options: Mapping[str, Any]) -> Options:
    """``**options`` of an adapter as :class:`Options`; an unknown name is a TypeError naming it.

    >>> parse_options({"on_error": "passthrough"}).on_error
    'passthrough'
    """
    known = sorted(f.name for f in fields(Options))
    for name in options:
        if name not in known:
            raise TypeError(f"unknown veil middleware option {name!r} (expected one of {', '.join(known)})")
    parsed = Options(**options)
    if parsed.on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be 'block' or 'passthrough' (got {parsed.on_error!r})")
    return parsed
