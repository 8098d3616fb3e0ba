"""The scheduled run over the demo strategy configs, on the Firestore emulator.

The handler runs in-process here, with a market this test sets (the signals of the demo's
crypto configs depend on it); test_scheduled_functions.py runs the deployed function over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.orders import client_order_id_for
from smart_routing.execution.pipeline import StrategyRunner
from smart_routing.runtime import configured_engine
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    run_enabled_strategies,
    scheduled_idempotency_key,
)
from smart_routing_firebase.stores.ledger import FirestoreLedgerStore

DEMO_TENANT, DEMO_USER = "demo-tenant", "demo-user"
UPTREND = [100.0] * 19 + [110.0]
FLAT = [100.0] * 20


@pytest.fixture
def runner(db):
    clock = SystemClock()
    market = SimulatedMarket(clock)
    market.set_quote("BTC/USD", 49_950, 50_050)  # the seed's example: WAIT
    market.set_closes("BTC/USD", UPTREND)
    market.set_closes("ETH/USD", UPTREND)  # BUY
    market.set_closes("SOL/USD", FLAT)  # HOLD
    instruments = BuiltinInstruments()
    engine = configured_engine(
        EngineConfig(smart_routing_enabled=True),
        PaperBroker(market, instruments, clock),
        market, instruments, FirestoreLedgerStore(db), clock,
    )  # fmt: skip
    return StrategyRunner(engine)


def expected_trade_id(config_id, symbol, tick):
    key = scheduled_idempotency_key(config_id, symbol, tick)
    return client_order_id_for(DEMO_TENANT, DEMO_USER, key)


def test_enabled_demo_configs_run_and_a_broken_config_does_not_stop_them(db, runner, capsys):
    broken_tenant = "tenant-with-broken-configs"
    db.document(f"tenants/{broken_tenant}/strategies/negative").set(
        {"enabled": True, "uid": "u", "symbols": ["AAPL"], "qty": -1}
    )
    db.document(f"tenants/{broken_tenant}/strategies/manual").set(
        {"enabled": True, "uid": "u", "symbols": ["NOT A SYMBOL"], "qty": 1, "side": "buy"}
    )
    tick = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    ledger = db.collection(f"tenants/{DEMO_TENANT}/ledger_trades")
    before = {doc.id for doc in ledger.stream()}

    tally = run_enabled_strategies(db, runner, tick)

    added = {doc.id for doc in ledger.stream()} - before
    assert added == {
        expected_trade_id("aapl_dca", "AAPL", tick),
        expected_trade_id("crypto_momentum", "ETH/USD", tick),
    }
    assert tally["broken_configs"] == 1 and tally["failed_runs"] == 1
    assert tally["status_filled"] == 2
    assert tally["status_downgraded"] == 1 and tally["status_hold"] == 1
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    failures = [r for r in logs if r["event"] == "exec.scheduled_strategy_failed"]
    assert {r["config"] for r in failures} == {
        f"tenants/{broken_tenant}/strategies/negative",
        f"tenants/{broken_tenant}/strategies/manual",
    }
    assert logs[-1]["event"] == "exec.scheduled_run_summary"

    again = run_enabled_strategies(db, runner, tick)  # the same tick delivered again
    assert {doc.id for doc in ledger.stream()} - before == added
    ran = sum(count for name, count in tally.items() if name.startswith("status_"))
    assert again["already_ran"] == ran
    assert not [name for name in again if name.startswith("status_")]
