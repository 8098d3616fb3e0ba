"""Each fill's cost against the quote its decision saw."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import FixedClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.orders import AccountOwner, OrderIntent, OrderSide
from smart_routing.domain.slippage import (
    decision_to_fill_ms,
    effective_spread_pct,
    realized_slippage_pct,
)
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.fill_rules import OrderFills, trade_for_fill
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.fees import FeeSchedule
from smart_routing.gate.router import SmartRouter
from smart_routing.portfolio.lots import LotState, apply_trade

AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
OWNER = AccountOwner(tenant_id="t1", uid="u1")


def test_slippage_is_a_cost_when_buying_above_or_selling_below_the_mid():
    mid = Decimal("100.00")
    assert realized_slippage_pct("buy", Decimal("100.05"), mid) == Decimal("0.0005")
    assert realized_slippage_pct("sell", Decimal("99.95"), mid) == Decimal("0.0005")
    assert realized_slippage_pct("sell", Decimal("100.05"), mid) == Decimal("-0.0005")
    assert decision_to_fill_ms(AT, AT + timedelta(milliseconds=1250)) == 1250


def test_a_fill_carries_its_arrival_quote_slippage_and_latency_into_ledger_and_history():
    clock = FixedClock(AT)
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.04)
    instruments = BuiltinInstruments()
    ledger = InMemoryLedgerStore()
    engine = ExecutionEngine(
        broker=PaperBroker(market, instruments, clock, default_owner=OWNER),
        market_data=market, instruments=instruments, ledger=ledger, router=SmartRouter(),
        clock=clock, tenant_id="t1", uid="u1",
    )  # fmt: skip
    result = engine.execute_intent(OrderIntent(symbol="AAPL", side=OrderSide.BUY, qty=10))
    assert result.status is ExecutionStatus.FILLED
    trade = result.trade
    assert trade.arrival_mid == Decimal("100.02")
    assert trade.arrival_spread_pct == result.routing.spread_pct
    # Bought at the ask, 0.02 above the mid: half the spread, as a fraction of the mid.
    assert trade.realized_slippage_pct == (Decimal("0.02") / Decimal("100.02")).quantize(
        Decimal("1e-10")
    )
    assert trade.decision_to_fill_ms == 0  # the paper venue fills at the decision's instant
    record = apply_trade(LotState(), trade).record
    assert record.realized_slippage_pct == trade.realized_slippage_pct
    assert record.arrival_mid == Decimal("100.02")


def paper_engine(market, clock):
    instruments = BuiltinInstruments()
    broker = PaperBroker(market, instruments, clock, default_owner=OWNER)
    engine = ExecutionEngine(
        broker=broker, market_data=market, instruments=instruments, ledger=InMemoryLedgerStore(),
        router=SmartRouter(), clock=clock, tenant_id="t1", uid="u1",
    )  # fmt: skip
    return engine, broker, instruments


def test_a_fill_at_the_touch_pays_the_quoted_spread_as_its_effective_spread():
    clock = FixedClock(AT)
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.04)
    engine, _, _ = paper_engine(market, clock)
    result = engine.execute_intent(OrderIntent(symbol="AAPL", side=OrderSide.BUY, qty=10))
    trade = result.trade
    # 2 x (100.04 - 100.02) / 100.02: the whole quoted spread.
    assert trade.effective_spread_pct == (Decimal("0.04") / Decimal("100.02")).quantize(
        Decimal("1e-10")
    )
    assert trade.effective_spread_pct == result.routing.spread_pct.quantize(Decimal("1e-10"))
    assert apply_trade(LotState(), trade).record.effective_spread_pct == trade.effective_spread_pct
    assert effective_spread_pct("sell", Decimal("99.99"), Decimal("100")) == Decimal("0.0002")


def test_a_later_fill_is_measured_against_the_quote_it_filled_at():
    clock = FixedClock(AT)
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.02, size=30)
    engine, broker, instruments = paper_engine(market, clock)
    first = engine.execute_intent(OrderIntent(symbol="AAPL", side=OrderSide.BUY, qty=70))
    assert first.trade.qty == 30
    market.set_quote("AAPL", 100.04, 100.08, size=30)  # the market moved up: mid 100.06
    order = first.order
    fill = broker.work_order(OWNER, order)
    assert fill.mid == Decimal("100.06")
    state = OrderFills(OWNER, order, frozenset(), order.filled_qty, order.filled_qty)
    spec = instruments.get_instrument("AAPL", order.asset_class)
    later = trade_for_fill(fill, fill.qty, state, spec, FeeSchedule())
    assert later.price == Decimal("100.08")
    assert later.effective_spread_pct == (Decimal("0.04") / Decimal("100.06")).quantize(
        Decimal("1e-10")
    )
    # Against the decision's mid (100.01) it slipped the move as well.
    assert later.realized_slippage_pct == (Decimal("0.07") / Decimal("100.01")).quantize(
        Decimal("1e-10")
    )
