"""Bodies as iterators of chunks, sync or async: read a bounded prefix, put it back in front.

An adapter that pulls a body (WSGI iterables, Django's streaming content, httpx streams)
reads only as far as a decision needs (a sniffed head, just past the body limit) and hands
on what it read followed by the rest, in the body's own flavour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator


def take(chunks: Iterator[bytes], stop_at: int) -> tuple[list[bytes], bool]:
    """(the chunks read, whether it stopped at ``stop_at`` bytes rather than at the end); the rest
    stays in ``chunks``, so memory stays bounded."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= stop_at:
            return parts, True
    return parts, False


async def atake(chunks: AsyncIterator[bytes], stop_at: int) -> tuple[list[bytes], bool]:
    """:func:`take` of an async iterator."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= stop_at:
            return parts, True
    return parts, False


def chain_held(held: Iterable[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    """What was read, then the rest."""
    yield from held
    yield from rest


async def achain_held(held: Iterable[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """:func:`chain_held` of an async iterator."""
    for part in held:
        yield part
    async for chunk in rest:
        yield chunk


async def aonce(body: bytes) -> AsyncIterator[bytes]:
    """A whole body as an async iterator of one chunk."""
    yield body
