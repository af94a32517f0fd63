"""media_type's cache holds no payload text (review of issue #15): it was an ``lru_cache`` keyed by the raw
Content-Type header, which can carry payload (``application/json; note="jane@example.com"``); caches are
keyed by digest. Looked at as the reviewer did: every object reachable from the function."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from tests.referents import referents
from veil import RedactionError, default_plan
from veil.rules import media


def _reachable_text(root: Any, depth: int = 4) -> str:
    """Every str and bytes reachable from ``root`` within ``depth`` references, module globals excepted
    (they hold names and source constants, not what a call was given), joined."""
    seen: set[int] = set()
    found: list[str] = []
    frontier = [root]
    for _ in range(depth):
        following = []
        for obj in frontier:
            if id(obj) in seen or obj is vars(media):
                continue
            seen.add(id(obj))
            if isinstance(obj, str):
                found.append(obj)
            elif isinstance(obj, bytes):
                found.append(obj.decode("latin-1"))
            else:
                following.extend(referents(obj))
        frontier = following
    return "\n".join(found)


@pytest.mark.parametrize(
    "content_type",
    [
        'application/json; note="jane@example.com"',
        "text/plain; charset=jane@example.com",  # a charset no codec has: the sender's text
        "application/123-45-6789",  # a type holding an SSN
        "application/json; charset=utf-8; x=4111111111111111",
    ],
)
def test_no_content_type_text_is_kept_by_the_cache(content_type: str) -> None:
    with contextlib.suppress(RedactionError):  # an unknown charset is refused: the cache is asked all the same
        default_plan().redact_body(b'{"a": 1}', content_type)
    assert media.media_type(content_type)  # answered, remembered or not
    payload = content_type.rsplit("=", 1)[-1].strip('"') if "=" in content_type else content_type.split("/")[1]
    assert payload not in _reachable_text(media.media_type)
    assert payload not in _reachable_text(media._MEDIA_TYPES)
    assert payload not in _reachable_text(media._BY_NAME)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("Application/JSON; charset=UTF-8", ("application/json", "utf-8")),
        ('text/plain; charset="ISO-8859-1"', ("text/plain", "iso-8859-1")),
        ("", ("", "utf-8")),
        ("text/html; charset=windows-1252", ("text/html", "windows-1252")),
    ],
)
def test_a_named_type_is_remembered_by_digest_and_answers_the_same(content_type: str, expected: tuple[str, str]) -> None:
    assert media.media_type(content_type) == expected
    assert media.media_type(content_type) == expected  # from the cache
    assert all(isinstance(key, bytes) and len(key) == 16 for key in media._MEDIA_TYPES)
    # The hot path: a header that is names only is its own key (no payload text in it).
    assert media._BY_NAME.get(content_type) == expected
