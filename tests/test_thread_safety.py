"""Module-level state under request threads: an instance with concurrency above 1 serves its
requests on threads of one process (functions-framework's gunicorn threads). The whole
callable under many threads at once is tests/emulator/test_one_instance.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from smart_routing import logs
from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountOwner, OrderRequest
from smart_routing.gate.limit_fallback import passive_router
from smart_routing.gate.router import SmartRouter
from smart_routing_firebase.platform.once import once

THREADS = 64


def all_at_once(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """`work(i)` on `threads` threads released together by a barrier; their results in order."""
    start = threading.Barrier(threads)

    def run(i: int) -> Any:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def test_a_singleton_is_built_once_by_the_first_of_many_threads():
    builds: list[object] = []
    building = threading.Event()
    release = threading.Event()

    @once
    def singleton() -> object:
        builds.append(object())
        building.set()
        release.wait()  # every other thread arrives while this build is under way
        return builds[-1]

    waiting = threading.Barrier(THREADS + 1)

    def ask(_: int) -> object:
        waiting.wait()
        return singleton()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(ask, i) for i in range(THREADS)]
        waiting.wait()
        building.wait()
        release.set()
        got = [future.result() for future in futures]
    assert len(builds) == 1
    assert {id(value) for value in got} == {id(builds[0])}
    assert singleton() is builds[0]


def test_a_singleton_whose_build_failed_is_built_again():
    attempts: list[int] = []

    @once
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not yet")
        return "built"

    with pytest.raises(RuntimeError):
        flaky()
    assert flaky() == "built"
    assert flaky() == "built"
    assert len(attempts) == 2


def test_paper_orders_on_many_threads_get_distinct_venue_order_ids(clock):
    broker = PaperBroker(SimulatedMarket(clock), BuiltinInstruments(), clock)

    def buy(i: int) -> str:
        owner = AccountOwner(tenant_id="t", uid=f"user-{i}")
        request = OrderRequest(
            client_order_id=f"order-{i}", symbol="AAPL", asset_class=AssetClass.EQUITY,
            side="buy", qty=1, owner=owner,
        )  # fmt: skip
        return broker.submit_order(request).broker_order_id

    ids = all_at_once(buy)
    assert len(set(ids)) == THREADS


def test_the_passive_router_is_made_once_per_router():
    router = SmartRouter()
    made = all_at_once(lambda _: passive_router(router))
    assert {id(p) for p in made} == {id(made[0])}
    assert made[0] is not router and made[0].enabled is False


def test_log_lines_stay_whole_while_secrets_are_registered(capsys, monkeypatch):
    monkeypatch.setattr(logs, "_secrets", frozenset())  # restored after the test
    secrets = [f"secret-value-{i:04d}" for i in range(THREADS)]

    def log_and_register(i: int) -> None:
        logs.register_secret(secrets[i])
        for n in range(20):
            logs.log_event(logs.LogEvent.EXECUTION, thread=i, n=n, note=secrets[(i + n) % THREADS])

    all_at_once(log_and_register)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == THREADS * 20
    records = [json.loads(line) for line in lines]
    assert {(r["thread"], r["n"]) for r in records} == {
        (i, n) for i in range(THREADS) for n in range(20)
    }
    # Each thread's first line carries the secret it registered just before: redacted.
    assert {r["note"] for r in records if r["n"] == 0} == {logs.REDACTED}
