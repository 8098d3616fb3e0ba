"""A five-minute tick of 400 strategy configs (200 tenants x 2), fanned out on the emulators:
run_scheduled_strategies over HTTP enqueues one runscheduledstrategy task per config on the
tasks emulator, which runs them against the functions emulator; the configs are dry runs
priced on the loopback Alpaca fake through alpaca-py (decided, recorded, never sent).

fanout_tick_return_s      from the tick's request to its answer: the configs listed, the
                          tick's quotes fetched and stored, 400 tasks enqueued
fanout_all_ran_s          from the tick's request until every config's task has recorded its
                          run
fanout_configs_per_s      400 over that
fanout_quote_requests     quote requests the tick's 400 runs made to the venue (one per venue
                          source and asset class: the tick's own)
fanout_dispatch_limit     the queue's max_concurrent_dispatches on the emulator (each task
                          running at once is a Python worker process there, on this machine's
                          cores; deployed, instances x 20 threads serve them)
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from smart_routing.market.sessions import Session
from tools.emulator_client import run_scheduled
from tools.emulators import ROOT, client_environment, functions_overrides, running_emulators
from tools.fakes.alpaca import FakeAlpaca
from tools.scheduled_fanout import disable, quote_requests_for, seed_configs, wait_for_tasks

TENANTS = 200
SYMBOLS = ("IBM", "ORCL")
TICK = datetime(2026, 3, 2, 15, 5, tzinfo=UTC)
DISPATCH_LIMIT = 4
KEYS = {"ALPACA_API_KEY": "AKBENCH000000001", "ALPACA_SECRET_KEY": "bench-secret-0001"}


def bench_fanout() -> dict[str, float]:
    alpaca = FakeAlpaca().start()
    env = {"ALPACA_TRADING_URL": alpaca.url, "ALPACA_DATA_URL": alpaca.url,
           "EXEC_VENUE_TIMEOUT_S": "2", "EXEC_MAX_QUOTE_AGE_S": "600",
           "RUNSCHEDULEDSTRATEGY_MAX_CONCURRENT_DISPATCHES": str(DISPATCH_LIMIT),
           "RUNSCHEDULEDSTRATEGY_MAX_DISPATCHES_PER_SECOND": "500",
           **{f"EXEC_SESSION_MULTIPLIER_{s.value.upper()}": "1" for s in Session}}  # fmt: skip
    try:
        with (
            client_environment(),
            functions_overrides(env, KEYS),
            running_emulators(ROOT / "emulator-data", ROOT / ".cache" / "emulators-bench.log"),
        ):
            return _timed_tick(alpaca)
    finally:
        alpaca.server.stop()


def _timed_tick(alpaca: FakeAlpaca) -> dict[str, float]:
    from smart_routing_firebase.platform.app import firestore_client

    db = firestore_client()
    # A scheduled function's worker runs its body at the current time when it starts: started
    # before the configs exist, that run is not the measured tick's.
    assert run_scheduled("run_scheduled_strategies", TICK - timedelta(minutes=5)).ok
    paths = seed_configs(db, f"bench-{uuid.uuid4().hex[:6]}", TENANTS, SYMBOLS)
    try:
        started = time.perf_counter()
        response = run_scheduled("run_scheduled_strategies", TICK)
        returned = time.perf_counter() - started
        assert response.ok, response.text
        wait_for_tasks(db, TICK, paths, timeout_s=900)
        all_ran = time.perf_counter() - started
    finally:
        disable(db, paths)
    return {
        "fanout_tick_return_s": returned,
        "fanout_all_ran_s": all_ran,
        "fanout_configs_per_s": len(paths) / all_ran,
        "fanout_quote_requests": quote_requests_for(alpaca, SYMBOLS),
        "fanout_dispatch_limit": DISPATCH_LIMIT,
    }


if __name__ == "__main__":
    for name, value in bench_fanout().items():
        print(f"BENCH {name}={value:.2f}")
