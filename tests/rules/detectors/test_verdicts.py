"""The verdict cache of slow validators: same answers, no candidate text kept, bounded."""

from __future__ import annotations

import pytest

from veil.rules.detectors import verdicts
from veil.rules.detectors.iban import is_iban
from veil.rules.detectors.phone import is_phone_number
from veil.rules.detectors.verdicts import forget_verdicts, remembered


def check_cache(check: object) -> dict[object, object]:
    """The cache a ``remembered`` function closes over."""
    closure = getattr(check, "__closure__")
    return next(cell.cell_contents for cell in closure if isinstance(cell.cell_contents, dict))


@pytest.mark.parametrize(
    "validator, candidate",
    [
        (is_phone_number, "+44 20 7946 0958"),  # valid
        (is_phone_number, "+44 20 7946 09"),  # too short: invalid
        (is_iban, "GB82 WEST 1234 5698 7654 32"),  # valid
        (is_iban, "GB82 WEST 1234 5698 7654 33"),  # check digits wrong
    ],
)
def test_a_remembered_validator_gives_the_same_answer_cold_and_warm(validator: object, candidate: str) -> None:
    assert callable(validator)
    cached = remembered(validator)
    expected = validator(candidate)
    assert cached(candidate) is expected  # cold
    assert cached(candidate) is expected  # warm


def test_each_value_is_validated_once_and_kept_only_as_a_digest() -> None:
    seen: list[str] = []

    def slow(candidate: str) -> bool:
        seen.append(candidate)
        return candidate.endswith("7")

    cached = remembered(slow)
    assert [cached("a7"), cached("a7"), cached("b8"), cached("b8")] == [True, True, False, False]
    assert seen == ["a7", "b8"]
    store = check_cache(cached)
    assert all(isinstance(k, bytes) and len(k) == 16 for k in store)
    assert not any(b"a7" in k for k in store)
    forget_verdicts()
    assert store == {}
    cached("a7")
    assert seen == ["a7", "b8", "a7"]


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdicts, "MAX_ENTRIES", 3)
    cached = remembered(lambda candidate: True)
    for i in range(10):
        cached(str(i))
    assert len(check_cache(cached)) <= 3


def test_scanner_decisions_are_remembered_without_payload_text_and_forgotten_on_request() -> None:
    from veil import Route, default_plan

    body = b'{"note": "call +44 20 7946 0958 or mail jane@example.com"}'
    plan = default_plan()
    first = plan.redact_body(body, "application/json", Route("response")).output
    caches = [c for c in verdicts._CACHES if c]
    assert caches, "decisions and verdicts were cached"
    for cache in caches:
        assert not any(b"7946" in repr(k).encode() or b"jane" in repr(k).encode() for k in cache)
    forget_verdicts()
    assert not any(verdicts._CACHES)
    assert plan.redact_body(body, "application/json", Route("response")).output == first
