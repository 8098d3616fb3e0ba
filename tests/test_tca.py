"""Each fill's cost against the quote its decision saw."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.clock import FixedClock
from smart_routing.engine import ExecutionEngine, ExecutionStatus
from smart_routing.gate import SmartRouter
from smart_routing.orders import AccountOwner, OrderIntent, OrderSide
from smart_routing.portfolio import LotState, apply_trade
from smart_routing.tca import decision_to_fill_ms, realized_slippage_pct

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
