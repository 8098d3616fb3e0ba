"""Decision records and the daily TCA roll-up, against hand-computed figures (docs/tca.md)."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import FixedClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import AccountOwner
from smart_routing.domain.slippage import markout_pct
from smart_routing.execution.decision_record import (
    DecisionAction,
    DecisionRecord,
    DecisionSource,
    decision_record,
)
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.pipeline import StrategyRunner, StrategyRunRequest
from smart_routing.gate.router import SmartRouter
from smart_routing.market.trading_calendar import trading_date
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.tca.daily import dates_to_roll_up, roll_up

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
D = Decimal


def runner(bid: float, ask: float, symbol: str = "AAPL") -> StrategyRunner:
    clock = FixedClock(AT)
    market = SimulatedMarket(clock)
    market.set_quote(symbol, bid, ask)
    instruments = BuiltinInstruments()
    owner = AccountOwner(tenant_id="t1", uid="u1")
    engine = ExecutionEngine(
        broker=PaperBroker(market, instruments, clock, default_owner=owner),
        market_data=market, instruments=instruments, ledger=InMemoryLedgerStore(),
        router=SmartRouter(), clock=clock, tenant_id="t1", uid="u1",
    )  # fmt: skip
    return StrategyRunner(engine)


def record_of(run: StrategyRunner, **request):
    req = StrategyRunRequest(strategy_id="manual", side="buy", tenant_id="t1", uid="u1", **request)
    result = run.run(req)
    return decision_record(
        result, tenant_id="t1", uid="u1", strategy_id="manual", client_order_id="sr-1",
        venue="paper", decided_at=AT, source=DecisionSource.CALLABLE,
    )  # fmt: skip


def test_a_wait_is_recorded_as_downgraded_with_its_quote_and_spread_cost():
    record = record_of(runner(99.90, 100.10), symbol="AAPL", qty=10)
    assert record.action is DecisionAction.DOWNGRADED and record.status.value == "downgraded"
    assert record.arrival_mid == D("100.00")
    assert record.spread_pct == D("0.002")
    assert record.estimated_spread_cost == D("1.00")  # 10 x 0.20 / 2
    assert (record.decision_id, record.client_order_id) == ("sr-1", "sr-1")
    assert (record.symbol, record.asset_class, record.venue, record.side.value) == (
        "AAPL", AssetClass.EQUITY, "paper", "buy",
    )  # fmt: skip
    assert record.trading_date == DAY


def test_an_executed_order_is_recorded_and_a_dry_run_is_not():
    run = runner(100.00, 100.04)
    record = record_of(run, symbol="AAPL", qty=10)
    assert record.action is DecisionAction.EXECUTE and record.status.value == "filled"
    assert record.estimated_spread_cost == D("0.20")
    assert record_of(run, symbol="AAPL", qty=10, dry_run=True) is None


def test_a_gate_rejection_is_recorded_as_rejected():
    # 10 million shares is half the simulated daily volume: above the participation cap.
    record = record_of(runner(100.00, 100.04), symbol="AAPL", qty=10_000_000)
    assert record.action is DecisionAction.REJECTED and "EXEC_MAX_ADV_FRACTION" in record.reason


def decision(
    n, action, *, uid="u1", strategy="manual", symbol="AAPL", side="buy", qty="10", cost=None,
    minutes=0, asset_class=AssetClass.EQUITY, venue="paper", status=None,
):  # fmt: skip
    at = AT + timedelta(minutes=minutes)
    return DecisionRecord(
        decision_id=f"c{n}", client_order_id=f"c{n}", tenant_id="t1", uid=uid,
        source=DecisionSource.CALLABLE, symbol=symbol, asset_class=asset_class, venue=venue,
        strategy_id=strategy, side=side, qty=D(qty), action=action,
        status=status or {"execute": "filled", "downgraded": "downgraded",
                          "rejected": "rejected"}[action],
        reason="r", currency="USD", estimated_spread_cost=None if cost is None else D(cost),
        decided_at=at, trading_date=trading_date(asset_class, at),
    )  # fmt: skip


def trade(n, *, side, qty, price, mid, estimated, uid="u1", strategy="manual", fees="0"):
    qty, price, mid = D(qty), D(price), D(mid)
    sign = 1 if side == "buy" else -1
    return LedgerTrade(
        trade_id=f"c{n}", tenant_id="t1", uid=uid, symbol="AAPL", asset_class=AssetClass.EQUITY,
        side=side, qty=qty, price=price, notional=qty * price, fees=D(fees), currency="USD",
        estimated_slippage=D(estimated), strategy_id=strategy, timestamp=AT + timedelta(minutes=n),
        trading_date=DAY, broker="paper", broker_order_id=f"b{n}", client_order_id=f"c{n}",
        arrival_mid=mid, arrival_spread_pct=None,
        realized_slippage_pct=(sign * (price - mid) / mid).quantize(D("1e-10")),
    )  # fmt: skip


EXECUTE, DOWNGRADED, REJECTED = "execute", "downgraded", "rejected"
DECISIONS = [
    # u1 holds an AAPL buy back twice, then buys it: one held order, filled.
    decision(1, DOWNGRADED, cost="1.00", minutes=0),
    decision(2, DOWNGRADED, cost="0.80", minutes=5),
    decision(3, EXECUTE, cost="0.20", minutes=10),
    # u1's BTC buy is held and never sent: a held order that did not fill.
    decision(
        4,
        DOWNGRADED,
        symbol="BTC/USD",
        qty="0.5",
        cost="25.00",
        minutes=60,
        asset_class=AssetClass.CRYPTO,
    ),
    # u2's momentum sell fills; their buy is refused by the gate.
    decision(5, EXECUTE, uid="u2", strategy="momentum", side="sell", qty="5", minutes=20),
    decision(6, REJECTED, uid="u2", minutes=30),
    # u1's EUR/USD order is accepted and never fills.
    decision(
        7,
        EXECUTE,
        symbol="EUR/USD",
        qty="1000",
        minutes=40,
        asset_class=AssetClass.FOREX,
        status="accepted",
        venue="oanda",
    ),
]
TRADES = [
    trade(3, side="buy", qty="10", price="100.03", mid="100.02", estimated="0.0001"),
    trade(
        5,
        side="sell",
        qty="5",
        price="99.98",
        mid="100.00",
        estimated="0.0001",
        uid="u2",
        strategy="momentum",
        fees="0.01",
    ),
]


def test_the_roll_up_matches_the_hand_computed_figures():
    document = roll_up(DAY, DECISIONS, TRADES, filled_orders=set())
    total = document["total"]
    assert document["date"] == "2026-03-02"
    assert (total["decisions"], total["executed"], total["downgraded"], total["rejected"]) == (
        7, 3, 3, 1,
    )  # fmt: skip
    assert total["downgrade_rate"] == 0.428571  # 3 of 7
    assert (total["orders"], total["filled_orders"], total["fill_rate"]) == (3, 2, 0.666667)
    assert total["trades"] == 2
    assert total["volume"] == {"USD": 1500.20}  # 1000.30 + 499.90
    assert total["fees"] == {"USD": 0.01}
    # Estimated 1 bps each; realized 0.01 / 100.02 = 0.9998 bps and 0.02 / 100 = 2 bps.
    assert total["estimated_slippage_bps"] == {"n": 2, "mean": 1.0, "median": 1.0}
    assert total["realized_slippage_bps"] == {"n": 2, "mean": 1.4999, "median": 1.4999}
    # The held AAPL buy: 1.00 at its first decision's quote, minus the 0.01 x 10 it paid.
    assert (total["held_orders"], total["held_orders_filled"]) == (2, 1)
    assert total["cost_saved"] == {"USD": 0.90}
    assert total["spread_cost_not_paid_unfilled"] == {"USD": 25.00}


def test_the_breakdowns_by_asset_class_venue_and_strategy():
    document = roll_up(DAY, DECISIONS, TRADES, filled_orders=set())
    by_class = document["by_asset_class"]
    assert sorted(by_class) == ["CRYPTO", "EQUITY", "FOREX"]
    equity = by_class["EQUITY"]
    assert (equity["decisions"], equity["downgrade_rate"], equity["fill_rate"]) == (5, 0.4, 1.0)
    assert equity["cost_saved"] == {"USD": 0.90} and equity["volume"] == {"USD": 1500.20}
    assert (by_class["CRYPTO"]["downgrade_rate"], by_class["CRYPTO"]["fill_rate"]) == (1.0, None)
    assert by_class["CRYPTO"]["spread_cost_not_paid_unfilled"] == {"USD": 25.00}
    assert (by_class["FOREX"]["orders"], by_class["FOREX"]["fill_rate"]) == (1, 0.0)
    assert sorted(document["by_venue"]) == ["oanda", "paper"]
    assert document["by_venue"]["paper"]["decisions"] == 6
    momentum = document["by_strategy_id"]["momentum"]
    assert (momentum["decisions"], momentum["trades"], momentum["volume"]) == (
        1, 1, {"USD": 499.90},
    )  # fmt: skip
    assert momentum["realized_slippage_bps"] == {"n": 1, "mean": 2.0, "median": 2.0}
    assert document["by_strategy_id"]["manual"]["decisions"] == 6


def test_a_fill_the_order_book_knows_of_counts_and_the_order_of_inputs_does_not():
    document = roll_up(DAY, DECISIONS, TRADES, filled_orders={"c7"})  # the FOREX order filled later
    assert document["by_asset_class"]["FOREX"]["fill_rate"] == 1.0
    shuffled = random.Random(7).sample(DECISIONS, len(DECISIONS))
    assert roll_up(DAY, shuffled, TRADES[::-1], {"c7"}) == document


def test_records_of_other_dates_are_left_out():
    other = decision(8, DOWNGRADED, cost="1.00", minutes=24 * 60)
    assert roll_up(DAY, [*DECISIONS, other], TRADES, set()) == roll_up(
        DAY, DECISIONS, TRADES, set()
    )


def test_the_dates_to_roll_up_are_each_class_trading_date_now_and_an_hour_ago():
    # 00:30 New York (05:30 UTC) on the 3rd: an hour ago equities were still on the 2nd;
    # FX rolled to the 3rd at 17:00 NY; crypto is on UTC's 3rd.
    at = datetime(2026, 3, 3, 5, 30, tzinfo=UTC)
    assert dates_to_roll_up(at) == [date(2026, 3, 2), date(2026, 3, 3)]
    # 22:30 NY on the 3rd (03:30 UTC on the 4th): FX is on the 4th, crypto too, NY on the 3rd.
    assert dates_to_roll_up(datetime(2026, 3, 4, 3, 30, tzinfo=UTC)) == [
        date(2026, 3, 3), date(2026, 3, 4),
    ]  # fmt: skip


def test_a_markout_is_positive_when_the_market_moves_the_trades_way():
    assert markout_pct("buy", D("100"), D("100.05")) == D("0.0005")
    assert markout_pct("sell", D("100"), D("100.05")) == D("-0.0005")
    assert markout_pct("sell", D("100"), D("99.90")) == D("0.001")


def test_a_limit_fallback_is_a_held_order_executed_at_once():
    # The cost check failed (would pay 1.00) and a limit at the mid (100.02) filled there.
    fallback = decision(9, EXECUTE, cost="1.00").model_copy(update={"fallback": "limit"})
    at_mid = trade(9, side="buy", qty="10", price="100.02", mid="100.02", estimated="0.0001")
    total = roll_up(DAY, [fallback], [at_mid], set())["total"]
    assert (total["limit_fallbacks"], total["downgraded"], total["orders"]) == (1, 0, 1)
    assert (total["held_orders"], total["held_orders_filled"]) == (1, 1)
    assert total["cost_saved"] == {"USD": 1.00}
    # After a downgrade it ends that held order, as any execution does: 0.80 - 0 saved.
    held = decision(8, DOWNGRADED, cost="0.80", minutes=-5)
    total = roll_up(DAY, [held, fallback], [at_mid], set())["total"]
    assert (total["held_orders"], total["cost_saved"]) == (1, {"USD": 0.80})
