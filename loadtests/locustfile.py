"""The Locust user: the scenario's request mix at a constant per-user rate, every response validated.

Started by the runner (``python -m loadtests``), one headless Locust process per
configuration and round, with these environment variables:

* ``VEIL_LOADTEST_SCENARIO``: the scenario JSON (default: the built-in scenario);
* ``VEIL_LOADTEST_USER_RATE``: requests per second per user (default 10);
* ``VEIL_LOADTEST_CHECK_LEAKS``: ``1`` for a veil configuration: a response that
  still carries a seeded PII value is a failure in Locust's stats (default 1);
* ``VEIL_LOADTEST_SAMPLES``: where to write every request's exact latency (ms,
  float) and outcome; Locust's own percentiles are rounded, too coarse for a 1 ms budget;
* ``VEIL_LOADTEST_POOL`` and ``VEIL_LOADTEST_ROUND`` (``--fresh``): the pool's
  directory and the round: each request then takes the round's next slot of the
  pool's plan (request and entry, see :mod:`loadtests.pool`) instead of a random
  request with its fixed body, and is leak-checked against that entry's values.

Every configuration also checks that each response is a 200. Debug one user
against a running app: ``python loadtests/locustfile.py http://127.0.0.1:8000``.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # loaded by path (locust -f): make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gevent  # type: ignore[import-untyped]  # (no stubs; only gevent.sleep is used)
from locust import FastHttpUser, events

from loadtests.leaks import LeakChecker
from loadtests.pool import ENV_POOL, ENV_ROUND, RoundPlan, entry_request
from loadtests.scenario import RequestSpec, Scenario, builtin_scenario
from loadtests.stats import FAIL, LEAK, OK

ENV_SCENARIO = "VEIL_LOADTEST_SCENARIO"
ENV_USER_RATE = "VEIL_LOADTEST_USER_RATE"
ENV_CHECK_LEAKS = "VEIL_LOADTEST_CHECK_LEAKS"
ENV_SAMPLES = "VEIL_LOADTEST_SAMPLES"
ENV_USERS = "VEIL_LOADTEST_USERS"
LEAK_PREFIX = "leak: "


def _scenario() -> Scenario:
    path = os.environ.get(ENV_SCENARIO)
    if path:
        return Scenario.from_json(Path(path).read_text(encoding="utf-8"))
    return builtin_scenario(int(os.environ.get("VEIL_LOADTEST_SEED", "20240601")))


SCENARIO = _scenario()
CHECK_LEAKS = os.environ.get(ENV_CHECK_LEAKS, "1") != "0"
USER_RATE = float(os.environ.get(ENV_USER_RATE, "10"))
USERS = int(os.environ.get(ENV_USERS, "1"))
FRESH = (RoundPlan(Path(os.environ[ENV_POOL]), int(os.environ.get(ENV_ROUND, "1")), CHECK_LEAKS)
         if os.environ.get(ENV_POOL) else None)
_user_numbers = itertools.count()
_slots = itertools.count()  # --fresh: this run's requests in the order they start, all users together
_epoch: list[float] = []  # monotonic time the first user started; every user's schedule hangs off it


# -- exact latencies ----------------------------------------------------------------


class _Recorder:
    """Every request's latency and outcome, kept in memory and written once when Locust stops."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.t0 = time.monotonic()
        self.rows: list[str] = []

    def start(self, **_: Any) -> None:
        self.t0 = time.monotonic()

    def record(self, name: str, response_time: float, exception: BaseException | None = None, **_: Any) -> None:
        if self.path is None:
            return
        if exception is None:
            outcome = OK
        elif str(exception).startswith(LEAK_PREFIX):
            outcome = LEAK
        else:  # the reason only (type and status); no tabs or newlines, bounded
            outcome = f"{FAIL}:{type(exception).__name__}: {exception}"[:160]
            outcome = outcome.replace("\t", " ").replace("\n", " ")
        self.rows.append(f"{time.monotonic() - self.t0:.4f}\t{name}\t{response_time:.4f}\t{outcome}\n")

    def flush(self, **_: Any) -> None:
        if self.path is None or not self.rows:
            return
        with open(self.path, "a", encoding="utf-8") as out:
            out.writelines(self.rows)
        self.rows.clear()


_recorder = _Recorder(os.environ.get(ENV_SAMPLES))
# (locust.event.EventHook.add_listener is unannotated)
events.test_start.add_listener(_recorder.start)  # type: ignore[no-untyped-call]
events.request.add_listener(_recorder.record)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_recorder.flush)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_recorder.flush)  # type: ignore[no-untyped-call]


# -- the user ---------------------------------------------------------------------------


def _headers(spec: RequestSpec) -> dict[str, str]:
    return {"content-type": spec.content_type} if spec.content_type else {}


def _send(user: FastHttpUser, spec: RequestSpec, path: str, body: bytes, headers: dict[str, str],
          checker: LeakChecker | None) -> None:
    # geventhttpclient sends bytes as they are; Locust's annotation only says str | dict.
    with user.client.request(spec.method, path, name=spec.name, data=body or None,  # type: ignore[arg-type]
                             headers=headers, catch_response=True) as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}")
            return
        if checker is not None:
            leaked = checker.count(response.content or b"")
            if leaked:  # how many, never which: Locust prints failure messages
                response.failure(f"{LEAK_PREFIX}{leaked} seeded PII value(s) in the response")


def _make_task(spec: RequestSpec) -> Callable[[FastHttpUser], None]:
    checker = LeakChecker(spec.leak_substrings, spec.leak_values) if CHECK_LEAKS else None
    headers = _headers(spec)

    def task(user: FastHttpUser) -> None:
        _send(user, spec, spec.path, spec.body, headers, checker)

    task.__name__ = spec.name
    return task


def _make_fresh_task(plan: RoundPlan) -> Callable[[FastHttpUser], None]:
    headers = [_headers(spec) for spec in SCENARIO.requests]

    def fresh_task(user: FastHttpUser) -> None:
        """``--fresh``: the round's next slot, the same for every configuration (see :mod:`loadtests.pool`)."""
        k, entry = plan.slot(next(_slots))
        spec = SCENARIO.requests[k]
        path, body = entry_request(spec, entry, plan.bodies.get(k))
        _send(user, spec, path, body, headers[k], plan.checker(k, entry))

    return fresh_task


class VeilLoadUser(FastHttpUser):
    """One keep-alive connection, ``USER_RATE`` requests per second on a fixed schedule, tasks drawn by weight.

    Constant throughput, with the users' phases spread evenly over one period, so
    requests arrive every 1 / (USERS * USER_RATE) s. Locust's ``constant_throughput``
    anchors each user's phase to the moment it was spawned: users spawned together
    (or one per period) fire in the same instant every period, and those bursts queue
    in a one-worker server, measuring the burst instead of the per-request cost.
    A user that falls behind does not catch up with a burst: missed slots are skipped.
    """

    # A {task: weight} dict is documented Locust usage; its annotation only says list.
    tasks = ([_make_fresh_task(FRESH)] if FRESH is not None
             else {_make_task(spec): spec.weight for spec in SCENARIO.requests})  # type: ignore[assignment]
    host = "http://127.0.0.1:8000"
    period = 1.0 / USER_RATE
    next_due = 0.0

    def on_start(self) -> None:
        if not _epoch:
            _epoch.append(time.monotonic() + 0.2)  # every user is spawned by then (spawn rate >> users)
        slot = next(_user_numbers) % USERS
        self.next_due = _epoch[0] + slot * self.period / USERS
        gevent.sleep(max(0.0, self.next_due - time.monotonic()))

    def wait_time(self) -> float:
        now = time.monotonic()
        self.next_due += self.period
        if self.next_due < now:
            self.next_due = now
        return self.next_due - now


if __name__ == "__main__":
    from locust import run_single_user

    if len(sys.argv) > 1:
        VeilLoadUser.host = sys.argv[1]
    run_single_user(VeilLoadUser)
