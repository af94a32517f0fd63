"""Remember what a slow validator said about a candidate, without keeping the candidate.

``phonenumbers`` takes tens of microseconds to confirm one phone number and
stdnum's IBAN check with its bank registry about as long, while the same
values come back again and again in real traffic (a customer's number in
every order, a company's support line in every reply). A verdict is stored
under a keyed BLAKE2b digest of the candidate, with a key drawn when the
process starts, so the cache holds no personal data and its entries cannot be
matched against a list of guesses from outside the process. The cache is
bounded: when full it starts over, which costs one validation per value.
"""

from __future__ import annotations

import functools
import hashlib
import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

_KEY = os.urandom(32)
MAX_ENTRIES = 8192


class _Cache(dict[Any, Any]):
    """A dict that can be weakly referenced: the registry must not keep old plans' caches alive."""

    __hash__ = object.__hash__  # type: ignore[assignment]  # identity, for the registry


_CACHES: weakref.WeakSet[_Cache] = weakref.WeakSet()
K = TypeVar("K")
V = TypeVar("V")


def forget_verdicts() -> None:
    """Empty every cache: for benchmarks of first-seen values, and for tests."""
    for verdicts in _CACHES:
        verdicts.clear()


_KEYED = hashlib.blake2b(digest_size=16, key=_KEY)


def digest(data: bytes) -> bytes:
    """A keyed 128-bit digest of ``data``: what caches store instead of the data."""
    h = _KEYED.copy()  # a third faster than keying a new hash each time
    h.update(data)
    return h.digest()


def new_cache() -> dict[Any, Any]:
    """A cache that ``forget_verdicts`` empties; keep its keys free of payload text (use ``digest``)."""
    cache = _Cache()
    _CACHES.add(cache)
    return cache


def store(cache: dict[K, V], key: K, value: V) -> None:
    """Put ``key`` in ``cache``, starting over when it is full."""
    if len(cache) >= MAX_ENTRIES:
        cache.clear()  # dict operations are atomic under the GIL: threads may share the cache
    cache[key] = value


def remembered(validator: Callable[[str], bool]) -> Callable[[str], bool]:
    """``validator`` with its verdicts cached by digest; same answers, each computed once."""
    verdicts: dict[bytes, bool] = new_cache()

    @functools.wraps(validator)
    def check(candidate: str) -> bool:
        key = digest(candidate.encode("utf-8", "surrogatepass"))
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = validator(candidate)
            store(verdicts, key, verdict)
        return verdict

    return check
