"""API_KEY: vendor tokens from the catalog in :mod:`secret_formats` (100+ formats).

The engine scans for every format's fragment in one alternation; each
candidate is then dispatched by prefix (longest first, then the formats with
no literal prefix) to the formats that could have produced it, and counts
when one of them accepts it whole: its exact shape (length, alphabet, parts),
its checksum when it has one (GitHub's and npm's CRC32 tails, age's bech32),
and a body that is not a placeholder (``ghp_xxxx...``, ``sk_live_1234567890...``,
too few distinct characters, or words such as ``example``/``your``).
"""

from __future__ import annotations

import re

from veil.rules.detectors.base import DetectorSpec
from veil.rules.detectors.secret_formats import FORMATS, SecretFormat, scan_lead, scan_pattern, scan_trigger

_BY_PREFIX: tuple[tuple[SecretFormat, re.Pattern[str]], ...] = tuple(
    (f, re.compile(f.shape)) for f in sorted(FORMATS, key=lambda f: -len(f.prefix))
)
_PLACEHOLDER_WORDS = ("xxxx", "example", "your", "placeholder", "redacted", "dummy", "sample", "changeme")
_RUNS = ("0123456789", "1234567890", "abcdefghij", "ABCDEFGHIJ", "0000000000", "1111111111")


_MARKS = re.compile("|".join([f"(?i:{w})" for w in _PLACEHOLDER_WORDS] + list(_RUNS)))


def is_placeholder(body: str) -> bool:
    """Too few distinct characters, or a placeholder word or a run nobody's generator writes with
    little random text around it. Enough random text (mixed case and digits) with a word glued to
    it is a key: ``sk-proj-<48 random characters>_xxxx`` must not pass as a placeholder."""
    alnum = [c for c in body if c.isalnum()]
    if len(set(alnum)) < min(10, max(3, len(alnum) // 3)):
        return True
    rest = _MARKS.sub("", body)
    if rest == body:
        return False
    rest_alnum = "".join(c for c in rest if c.isalnum())
    return not (len(rest_alnum) >= 20 and len(set(rest_alnum)) >= 12 and _mixes_classes(rest_alnum))


def _mixes_classes(body: str) -> bool:
    return any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)


def _accepts(fmt: SecretFormat, shape: re.Pattern[str], candidate: str) -> bool:
    if shape.fullmatch(candidate) is None:
        return False
    body = candidate[len(fmt.prefix) :]
    if is_placeholder(body) or (fmt.mixed_classes and not _mixes_classes(body)):
        return False
    return fmt.checksum is None or fmt.checksum(candidate)


def _by_first_character() -> dict[str, tuple[tuple[SecretFormat, re.Pattern[str]], ...]]:
    """Formats to try per first character of a candidate (longest prefix first), the
    prefix-less ones last under every character: trying all 156 per candidate cost ~150 us."""
    unprefixed = tuple(entry for entry in _BY_PREFIX if not entry[0].prefix)
    firsts = {fmt.prefix[0] for fmt, _ in _BY_PREFIX if fmt.prefix}
    return {
        first: tuple(entry for entry in _BY_PREFIX if entry[0].prefix.startswith(first)) + unprefixed
        for first in firsts
    } | {"": unprefixed}


_CANDIDATES = _by_first_character()


def matching_format(candidate: str) -> SecretFormat | None:
    """The catalog format that accepts ``candidate`` whole, or None."""
    if not candidate.isascii() or not candidate:
        return None
    for fmt, shape in _CANDIDATES.get(candidate[0], _CANDIDATES[""]):
        if candidate.startswith(fmt.prefix) and _accepts(fmt, shape, candidate):
            return fmt
    return None


_SEPARATOR = re.compile(r"[_\-.]")


def is_api_key(candidate: str) -> bool:
    """Some catalog format accepts ``candidate``, or the part of it before a '_', '-' or '.': shape,
    checksum, not a placeholder.

    A key of fixed length whose alphabet takes a separator runs on into what is glued after it
    (``github_pat_<82>_tok_A_k1_b``, ``AIza<35>-hash_...``): the scan cannot tell where it ends, so
    the key before a separator counts, and the finding keeps the rest with it."""
    if matching_format(candidate) is not None:
        return True
    cuts = [m.start() for m in _SEPARATOR.finditer(candidate)]
    return any(matching_format(candidate[:cut]) is not None for cut in reversed(cuts))


API_KEY = DetectorSpec(
    name="API_KEY",
    family="api_key",
    pattern=scan_pattern(),
    lead=scan_lead(),
    trigger=scan_trigger(),
    validator=is_api_key,
    context=("api key", "apikey", "token", "secret", "key"),
    description="Vendor API key or token in one of 100+ published formats (GitHub, GitLab, Slack, Stripe, OpenAI, ...).",
    examples=(
        "GITHUB_TOKEN=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",
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    ),
)

DETECTORS: tuple[DetectorSpec, ...] = (API_KEY,)
