"""One case table through every adapter: ASGI, WSGI, Django, the proxy and the httpx transport (issue 15).

The table (``tests/cross_adapter/table.py``) holds, per row, what is sent, which side it exercises, and the
bytes that must cross, written out by hand; nothing here computes an expectation with veil. Every adapter
runs as it does in production, over real sockets on 127.0.0.1 (``tests/cross_adapter/harness.py``): uvicorn
with ASGIMiddleware, gunicorn with WSGIMiddleware, gunicorn with Django's VeilMiddleware, ``veil proxy`` in
front of a bare uvicorn upstream, and RedactingTransport in this process against that same upstream. The
servers start once for the module.

A row an adapter fails today by letting data through is a strict xfail naming its issue item: it turns
into a failure (XPASS) the day the fix lands, so the mark is removed and the row guards the fix.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cross_adapter.harness import Outcome, Target, start_adapters
from tests.cross_adapter.model import ADAPTERS, Case, Crossed, Expected, Raised, Refused
from tests.cross_adapter.table import CASES

# What the table's inputs carry; an expectation that kept one would be a table that blesses a leak.
SEEDED = (b"jane@example.com", b"jane\\u0040example.com", b"4111 1111 1111 1111", b"123-45-6789",
          b"415 555 0100", b"hunter2", b"s3cr3t", b"s3ss10n", b"abc.def.ghi", b"k-123")


def _runs() -> list[object]:
    runs: list[object] = []
    for case in CASES:
        for adapter in case.adapters:
            marks = []
            if adapter in case.defects:
                marks.append(pytest.mark.xfail(strict=True, reason=case.defects[adapter]))
            runs.append(pytest.param(case, adapter, id=f"{case.id}[{adapter}]", marks=marks))
    return runs


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    with start_adapters(tmp_path_factory.mktemp("cross-adapter")) as targets:
        yield targets


@pytest.mark.parametrize(("case", "adapter"), _runs())
def test_each_adapter_lets_across_exactly_what_the_table_says(
    case: Case, adapter: str, adapters: dict[str, Target]
) -> None:
    if adapter not in adapters:
        pytest.skip(f"{adapter}: its extra is not installed")
    outcome = adapters[adapter].send(case)
    expected = case.expected_for(adapter)
    if case.side == "request":
        _check_request(expected, outcome)
    else:
        _check_response(expected, outcome)


def _check_request(expected: Expected, outcome: Outcome) -> None:
    """What reached the app / upstream / vendor, or the refusal the client got instead."""
    if isinstance(expected, Crossed):
        assert outcome.raised == "" and outcome.status == 200, (outcome.status, outcome.raised, outcome.body)
        received = outcome.received
        assert received is not None, "the request never reached the app"
        assert received.body == expected.body
        if expected.query is not None:
            assert received.query == expected.query
        if expected.path is not None:
            assert received.path == expected.path
        _check_headers(expected.headers, received.headers)
        return
    assert outcome.received is None, "a refused request reached the app"
    _check_refusal(expected, outcome)


def _check_response(expected: Expected, outcome: Outcome) -> None:
    """What reached the client."""
    if not isinstance(expected, Crossed):
        _check_refusal(expected, outcome)
        return
    assert outcome.raised == ""
    assert (outcome.status, outcome.body) == (expected.status, expected.body)
    _check_headers(expected.headers, list(outcome.headers))
    _check_framing(outcome)


def _check_refusal(expected: Refused | Raised, outcome: Outcome) -> None:
    if isinstance(expected, Raised):
        assert outcome.raised == expected.reason
        return
    assert (outcome.status, outcome.body) == (expected.status, expected.body)
    _check_framing(outcome)


def _check_headers(expected: tuple[tuple[str, str], ...], seen: list[tuple[str, str]]) -> None:
    """Every header the row names has exactly the listed values, in order (two Set-Cookie stay two)."""
    for name in dict(expected):
        want = [value for key, value in expected if key == name]
        assert [value for key, value in seen if key.lower() == name] == want, name


def _check_framing(outcome: Outcome) -> None:
    """A Content-Length, when sent for a body the client did not decode, counts the bytes that came."""
    headers = {key.lower(): value for key, value in outcome.headers}
    if "content-length" in headers and "content-encoding" not in headers:
        assert int(headers["content-length"]) == len(outcome.body)


# -- the table itself --------------------------------------------------------------------------------


def test_every_row_is_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case.id.endswith(f"-{case.side}"), case.id
        assert set(case.adapters) <= set(ADAPTERS), case.id
        assert set(case.per_adapter) <= set(case.adapters) and set(case.defects) <= set(case.adapters), case.id


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_no_expectation_carries_a_seeded_value(case: Case) -> None:
    for expected in (case.expected, *case.per_adapter.values()):
        if isinstance(expected, Crossed):
            crossed = b" ".join([expected.body, *(v.encode() for _, v in expected.headers),
                                 (expected.query or "").encode(), (expected.path or "").encode()])
        elif isinstance(expected, Refused):
            crossed = expected.body
        else:
            continue
        for value in SEEDED:
            assert value not in crossed, (case.id, value)
