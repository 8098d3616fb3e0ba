"""The scheduled run's two halves in-process, on the Firestore emulator: the tick's fan-out
(its enqueue recorded here; test_scheduled_functions.py and tests/emulator_venues run it
through the tasks emulator) and the task that runs one config, with a market this test sets
(the signals of the demo's crypto configs depend on it)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import client_order_id_for
from smart_routing.execution.pipeline import StrategyRunner
from smart_routing.execution.result import ExecutionStatus
from smart_routing.runtime import configured_engine
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    TASK_FUNCTION,
    fan_out,
    scheduled_idempotency_key,
    strategy_task_id,
    task_payload,
)
from smart_routing_firebase.handlers.run_scheduled_strategy import (
    TaskUnfinished,
    parse_task,
    run_config_task,
)
from smart_routing_firebase.platform.task_queue import MalformedTask
from smart_routing_firebase.stores.ledger import FirestoreLedgerStore
from venues.quote_sources import SimulatedQuoteSource, VenueMarketData

DEMO_TENANT, DEMO_USER = "demo-tenant", "demo-user"
DEMO_CONFIGS = [f"tenants/{DEMO_TENANT}/strategies/{name}"
                for name in ("crypto_momentum", "aapl_dca", "eurusd_paused")]  # fmt: skip
UPTREND = [100.0] * 19 + [110.0]
FLAT = [100.0] * 20
MAX_QUOTE_AGE_S = 5.0


class CountingQuotes(SimulatedQuoteSource):
    """The simulated market as a venue would serve it, counting the quote requests."""

    name = "counting"

    def __init__(self, market: SimulatedMarket) -> None:
        super().__init__(market)
        self.requests: list[tuple[AssetClass, tuple[str, ...]]] = []

    def latest_quotes(self, asset_class, symbols):
        self.requests.append((asset_class, tuple(symbols)))
        return super().latest_quotes(asset_class, symbols)


@pytest.fixture
def market() -> SimulatedMarket:
    market = SimulatedMarket(SystemClock())
    market.set_quote("BTC/USD", 49_950, 50_050)  # the seed's example: WAIT
    market.set_closes("BTC/USD", UPTREND)
    market.set_closes("ETH/USD", UPTREND)  # BUY
    market.set_closes("SOL/USD", FLAT)  # HOLD
    return market


@pytest.fixture
def quotes(market) -> CountingQuotes:
    return CountingQuotes(market)


@pytest.fixture
def market_data(quotes) -> VenueMarketData:
    # No cache: every quote the engine asks for outside the tick's is a request.
    return VenueMarketData(dict.fromkeys(AssetClass, quotes), SystemClock(), ttl_s=0.0)


def runner_on(db, market, market_data) -> StrategyRunner:
    clock = SystemClock()
    instruments = BuiltinInstruments()
    engine = configured_engine(
        EngineConfig(smart_routing_enabled=True),
        PaperBroker(market, instruments, clock),
        market_data, instruments, FirestoreLedgerStore(db), clock,
    )  # fmt: skip
    return StrategyRunner(engine)


@pytest.fixture
def runner(db, market, market_data) -> StrategyRunner:
    return runner_on(db, market, market_data)


def run_tasks(db, runner, market_data, tick, paths) -> Counter[str]:
    tally: Counter[str] = Counter()
    for path in paths:
        tally.update(run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S))
    return tally


def expected_trade_id(config_id, symbol, tick):
    key = scheduled_idempotency_key(config_id, symbol, tick)
    return client_order_id_for(DEMO_TENANT, DEMO_USER, key)


def log_records(capsys) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]


def test_the_tick_enqueues_one_task_per_enabled_config_and_shares_one_quote_fetch(
    db, runner, market_data, quotes, capsys
):
    broken_tenant = "tenant-with-broken-configs"
    db.document(f"tenants/{broken_tenant}/strategies/negative").set(
        {"enabled": True, "uid": "u", "symbols": ["AAPL"], "qty": -1}
    )
    db.document(f"tenants/{broken_tenant}/strategies/manual").set(
        {"enabled": True, "uid": "u", "symbols": ["NOT A SYMBOL"], "qty": 1, "side": "buy"}
    )
    tick = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    enqueued: list[tuple[str, dict[str, str], str]] = []

    def enqueue(function, payload, task_id, delay_s):
        enqueued.append((function, payload, task_id))
        return "enqueued"

    ledger = db.collection(f"tenants/{DEMO_TENANT}/ledger_trades")
    before = {doc.id for doc in ledger.stream()}
    try:
        tally = fan_out(db, [market_data], tick, enqueue)
    finally:
        for name in ("negative", "manual"):
            db.document(f"tenants/{broken_tenant}/strategies/{name}").delete()

    paths = {payload["config"] for _, payload, _ in enqueued}
    assert set(DEMO_CONFIGS[:2]) | {f"tenants/{broken_tenant}/strategies/manual"} <= paths
    assert f"tenants/{broken_tenant}/strategies/negative" not in paths  # broken: logged
    assert tally["broken_configs"] >= 1 and tally["enqueued"] == len(enqueued)
    for function, payload, task_id in enqueued:
        assert function == TASK_FUNCTION and payload == task_payload(tick, payload["config"])
        assert task_id == strategy_task_id(tick, payload["config"])
        assert parse_task(payload) == (tick, payload["config"])
    # One request per asset class for every symbol of the tick: the demo's coins and AAPL.
    per_class = Counter(asset_class for asset_class, _ in quotes.requests)
    assert {AssetClass.CRYPTO, AssetClass.EQUITY} <= per_class.keys()
    assert set(per_class.values()) == {1}
    assert {"BTC/USD", "ETH/USD", "SOL/USD", "AAPL"} <= {s for _, ss in quotes.requests for s in ss}
    fetched = len(quotes.requests)

    tally = run_tasks(db, runner, market_data, tick, DEMO_CONFIGS)
    assert len(quotes.requests) == fetched  # the tasks priced on the tick's quotes
    assert {doc.id for doc in ledger.stream()} - before == {
        expected_trade_id("aapl_dca", "AAPL", tick),
        expected_trade_id("crypto_momentum", "ETH/USD", tick),
    }
    assert tally["status_filled"] == 2 and tally["status_downgraded"] == 1
    assert tally["status_hold"] == 1 and tally["skipped"] == 1  # eurusd_paused is disabled
    logs = log_records(capsys)
    assert any(r["event"] == "exec.scheduled_run_summary" for r in logs)
    skipped = [r for r in logs if r["event"] == "exec.scheduled_task_skipped"]
    assert [(r["config"], r["reason"]) for r in skipped] == [
        (DEMO_CONFIGS[2], "the config is disabled")
    ]

    assert fan_out(db, [market_data], tick, enqueue)["already_fanned_out"] == 1
    assert len(enqueued) == len(paths) and len(quotes.requests) == fetched

    again = run_tasks(db, runner, market_data, tick, DEMO_CONFIGS)  # tasks delivered again
    assert again["already_ran"] == 4 and not [n for n in again if n.startswith("status_")]


def test_a_task_whose_config_is_gone_or_broken_does_nothing_and_says_why(
    db, runner, market_data, capsys
):
    tick = datetime(2026, 1, 5, 15, 5, tzinfo=UTC)
    gone = "tenants/tenant-gone/strategies/deleted"
    broken = "tenants/tenant-broken/strategies/manual"
    db.document(broken).set(
        {"enabled": True, "uid": "u", "symbols": ["NOT A SYMBOL"], "qty": 1, "side": "buy"}
    )
    try:
        assert run_config_task(db, runner, [market_data], tick, gone, MAX_QUOTE_AGE_S) == {
            "skipped": 1
        }
        assert run_config_task(db, runner, [market_data], tick, broken, MAX_QUOTE_AGE_S) == {
            "broken_symbols": 1
        }
    finally:
        db.document(broken).delete()
    logs = log_records(capsys)
    assert [r["reason"] for r in logs if r["event"] == "exec.scheduled_task_skipped"] == [
        "the config no longer exists"
    ]
    failed = [r for r in logs if r["event"] == "exec.scheduled_strategy_failed"]
    assert [(r["config"], r["symbol"]) for r in failed] == [(broken, "NOT A SYMBOL")]
    with pytest.raises(MalformedTask, match="tick and config"):
        parse_task({"tick": tick.isoformat()})
    with pytest.raises(MalformedTask, match="not a tenants"):
        parse_task({"tick": tick.isoformat(), "config": "elsewhere/strategies/x/y"})


class FailsOnce(StrategyRunner):
    """The engine's runner, whose run of `symbol` raises the first time (a Firestore or venue
    error mid-task)."""

    def __init__(self, engine, symbol: str) -> None:
        super().__init__(engine)
        self.symbol, self.failed = symbol, False

    def run(self, request):
        if request.symbol == self.symbol and not self.failed:
            self.failed = True
            raise RuntimeError("deadline exceeded")
        return super().run(request)


class VenueDownOnce(StrategyRunner):
    """The engine's runner, whose run of `symbol` finds the venue unavailable the first time
    (the engine's answer to a refused connection: status error, nothing placed)."""

    def __init__(self, engine, symbol: str) -> None:
        super().__init__(engine)
        self.symbol, self.down = symbol, True

    def run(self, request):
        if request.symbol != self.symbol or not self.down:
            return super().run(request)
        self.down = False
        looked = super().run(request.model_copy(update={"dry_run": True}))  # places nothing
        return looked.model_copy(
            update={"status": ExecutionStatus.ERROR,
                    "message": "venue unavailable: connection refused"}
        )  # fmt: skip


def first_delivery_with_msft_down(
    db, market, market_data, tenant_id: str, config_id: str, tick: datetime
) -> tuple[str, StrategyRunner]:
    """A config buying AAPL and MSFT, its task's first delivery run with the venue down for
    MSFT (that run ends in error, so the task raises): the config's path and the runner."""
    path = f"tenants/{tenant_id}/strategies/{config_id}"
    db.document(path).set({"enabled": True, "uid": f"{config_id}-user", "strategy_id": "manual",
                           "side": "buy", "symbols": ["AAPL", "MSFT"], "qty": 1})  # fmt: skip
    runner = VenueDownOnce(runner_on(db, market, market_data).engine, "MSFT")
    with pytest.raises(TaskUnfinished, match="1 in error"):
        run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S)
    return path, runner


def test_a_run_the_venue_could_not_take_is_tried_again_by_the_next_delivery(
    db, market, market_data, tenant_id
):
    tick = datetime(2026, 1, 5, 15, 25, tzinfo=UTC)
    path, runner = first_delivery_with_msft_down(db, market, market_data, tenant_id, "down", tick)
    ledger = db.collection(f"tenants/{tenant_id}/ledger_trades")
    assert [doc.get("symbol") for doc in ledger.stream()] == ["AAPL"]

    again = run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S)
    assert again == {"already_ran": 1, "status_filled": 1}
    assert sorted(doc.get("symbol") for doc in ledger.stream()) == ["AAPL", "MSFT"]


def test_a_config_edited_between_deliveries_of_its_task_finds_what_already_ran(
    db, market, market_data, tenant_id
):
    # A run's claim is the run's identity (config, symbol, tick), not its settings: the
    # delivery after an edit runs what did not finish, as the config is now.
    tick = datetime(2026, 1, 5, 15, 35, tzinfo=UTC)
    path, runner = first_delivery_with_msft_down(db, market, market_data, tenant_id, "edited", tick)

    db.document(path).update({"qty": 2})
    again = run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S)

    assert again == {"already_ran": 1, "status_filled": 1}
    ledger = db.collection(f"tenants/{tenant_id}/ledger_trades")
    assert sorted((d.get("symbol"), d.get("qty")) for d in ledger.stream()) == [
        ("AAPL", 1),
        ("MSFT", 2),
    ]


def test_a_task_that_raises_is_delivered_again_and_runs_only_what_did_not_finish(
    db, market, market_data, tenant_id
):
    # The deliveries in-process; tests/emulator_venues/test_scheduled_redelivery.py has the
    # tasks emulator deliver a raising task again, with the function's retryConfig.
    tick = datetime(2026, 1, 5, 15, 10, tzinfo=UTC)
    path = f"tenants/{tenant_id}/strategies/three"
    db.document(path).set({"enabled": True, "uid": "task-user", "strategy_id": "manual",
                           "side": "buy", "symbols": ["AAPL", "MSFT", "F"], "qty": 1})  # fmt: skip
    runner = FailsOnce(runner_on(db, market, market_data).engine, "MSFT")

    with pytest.raises(TaskUnfinished, match="1 runs failed"):
        run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S)
    ledger = db.collection(f"tenants/{tenant_id}/ledger_trades")
    assert {doc.get("symbol") for doc in ledger.stream()} == {"AAPL", "F"}

    again = run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S)
    assert again == {"already_ran": 2, "status_filled": 1}
    assert sorted(doc.get("symbol") for doc in ledger.stream()) == ["AAPL", "F", "MSFT"]

    # A task out of time stops starting runs and is delivered again for the rest.
    later = datetime(2026, 1, 5, 15, 15, tzinfo=UTC)
    ticks = iter([0.0, 0.0, 100.0, 100.0])
    with pytest.raises(TaskUnfinished, match="2 not started in time"):
        run_config_task(db, runner, [market_data], later, path, MAX_QUOTE_AGE_S,
                        budget_s=10, clock=lambda: next(ticks))  # fmt: skip
    rest = run_config_task(db, runner, [market_data], later, path, MAX_QUOTE_AGE_S)
    assert rest == {"already_ran": 1, "status_filled": 2}
    assert len(list(ledger.stream())) == 6


def test_a_task_after_the_quotes_aged_fetches_them_again_once_for_those_after_it(
    db, runner, market_data, quotes, tenant_id
):
    tick = datetime(2026, 1, 5, 15, 20, tzinfo=UTC)
    paths = [f"tenants/{tenant_id}/strategies/dry-{n}" for n in range(3)]
    for path in paths:
        db.document(path).set({"enabled": True, "uid": "q-user", "strategy_id": "manual",
                               "side": "buy", "symbols": ["AAPL"], "qty": 1,
                               "dry_run": True})  # fmt: skip
    try:
        fan_out(db, [market_data], tick, lambda *task: "enqueued")
        fetched = len(quotes.requests)
        # Older than the router accepts: the first task fetches, the next ones share it.
        run_config_task(db, runner, [market_data], tick, paths[0], max_quote_age_s=0.0)
        assert len(quotes.requests) == fetched + 1
        for path in paths[1:]:
            run_config_task(db, runner, [market_data], tick, path, MAX_QUOTE_AGE_S)
        assert len(quotes.requests) == fetched + 1
    finally:
        for path in paths:
            db.document(path).delete()
