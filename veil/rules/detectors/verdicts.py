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
from collections.abc import Callable

_KEY = os.urandom(32)
MAX_ENTRIES = 8192
_CACHES: list[dict[bytes, bool]] = []


def forget_verdicts() -> None:
    """Empty every cache: for benchmarks of first-seen values, and for tests."""
    for verdicts in _CACHES:
        verdicts.clear()


def remembered(validator: Callable[[str], bool]) -> Callable[[str], bool]:
    """``validator`` with its verdicts cached by digest; same answers, each computed once."""
    verdicts: dict[bytes, bool] = {}
    _CACHES.append(verdicts)

    @functools.wraps(validator)
    def check(candidate: str) -> bool:
        digest = hashlib.blake2b(candidate.encode("utf-8", "surrogatepass"), digest_size=16, key=_KEY).digest()
        verdict = verdicts.get(digest)
        if verdict is None:
            verdict = validator(candidate)
            if len(verdicts) >= MAX_ENTRIES:
                verdicts.clear()  # dict operations are atomic under the GIL: threads may share it
            verdicts[digest] = verdict
        return verdict

    return check
