"""The kill switch in the core: a halted tenant or user sends nothing, a reducing one sends only
what shrinks a position it holds, the stricter state binds, and a state that cannot be read
halts the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.adapters.trading_states import InMemoryTradingStates
from smart_routing.domain.orders import AccountOwner, OrderIntent
from smart_routing.domain.trading_state import (
    ACTIVE,
    TradingScope,
    TradingState,
    TradingStatus,
    stricter,
)
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.router import SmartRouter

OWNER = AccountOwner(tenant_id="local-tenant", uid="local-user")
HALTED, REDUCING = TradingState.HALTED, TradingState.REDUCING


@pytest.fixture
def venue(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 189.99, 190.01)
    instruments = BuiltinInstruments()
    broker = PaperBroker(market, instruments, clock, default_owner=OWNER)
    states = InMemoryTradingStates()
    engine = ExecutionEngine(
        broker=broker, market_data=market, instruments=instruments,
        ledger=InMemoryLedgerStore(), router=SmartRouter(), clock=clock, trading_states=states,
    )  # fmt: skip
    return engine, broker, states


def order(side: str, qty: int, key: str) -> OrderIntent:
    return OrderIntent(symbol="AAPL", side=side, qty=qty, idempotency_key=key)


def placed(engine: ExecutionEngine) -> int:
    """Orders the paper venue filled: each is a ledger trade."""
    return len(engine.ledger.trades(OWNER.tenant_id))


def test_the_stricter_state_binds_and_the_tenant_wins_a_tie():
    tenant = TradingStatus(REDUCING, TradingScope.TENANT, "risk review")
    user = TradingStatus(HALTED, TradingScope.USER, "chargeback")
    assert stricter(tenant, user) is user and stricter(user, tenant) is user
    assert stricter(tenant, TradingStatus(REDUCING, TradingScope.USER)) is tenant
    assert stricter(ACTIVE, ACTIVE) is ACTIVE
    assert user.describe() == "trading is halted for this user (chargeback)"


@pytest.mark.parametrize("scope", ["tenant", "user"])
def test_halted_sends_nothing_and_says_whose_state_and_why(venue, scope):
    engine, _, states = venue
    if scope == "tenant":
        states.set_tenant(OWNER.tenant_id, HALTED, "market-wide outage")
    else:
        states.set_user(OWNER, HALTED, "account under review")
    result = engine.execute_intent(order("buy", 1, "halted-buy"))
    assert result.status is ExecutionStatus.REJECTED
    assert result.routing.trading_state == "halted"
    assert result.message.startswith(f"trading is halted for this {scope}")
    assert result.message.endswith("no new orders")
    assert placed(engine) == 0


def test_reducing_sends_only_what_shrinks_a_position_held(venue):
    engine, _, states = venue
    assert engine.execute_intent(order("buy", 5, "before")).status is ExecutionStatus.FILLED
    states.set_tenant(OWNER.tenant_id, REDUCING, "risk limit reached")
    more = engine.execute_intent(order("buy", 1, "more"))
    assert more.status is ExecutionStatus.REJECTED and more.routing.trading_state == "reducing"
    assert "only orders that shrink an existing position (holding 5 AAPL)" in more.message
    too_much = engine.execute_intent(order("sell", 6, "too-much"))
    assert too_much.status is ExecutionStatus.REJECTED
    assert too_much.routing.trading_state == "reducing"
    reduce = engine.execute_intent(order("sell", 3, "reduce"))
    assert reduce.status is ExecutionStatus.FILLED and reduce.routing.trading_state is None
    states.set_tenant(OWNER.tenant_id, TradingState.ACTIVE)
    assert engine.execute_intent(order("buy", 1, "after")).status is ExecutionStatus.FILLED
    assert placed(engine) == 3


def test_a_user_reducing_under_a_halted_tenant_is_halted(venue):
    engine, _, states = venue
    states.set_tenant(OWNER.tenant_id, HALTED, "kill switch")
    states.set_user(OWNER, REDUCING)
    result = engine.execute_intent(order("sell", 1, "sell"))
    assert result.routing.trading_state == "halted" and "tenant (kill switch)" in result.message


def test_a_state_that_cannot_be_read_halts_the_order(venue, log_records):
    engine, _, _ = venue

    class Unreadable:
        def status_of(self, owner):
            raise ConnectionError("states store down")

    engine.trading_states = Unreadable()
    result = engine.execute_intent(order("buy", 1, "unreadable"))
    assert result.status is ExecutionStatus.REJECTED and result.routing.trading_state == "halted"
    assert "its state could not be read: ConnectionError: states store down" in result.message
    assert placed(engine) == 0
    (error,) = [r for r in log_records() if r["event"] == "exec.trading_state_unavailable"]
    assert error["severity"] == "ERROR"


def test_without_a_states_port_everyone_trades(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 189.99, 190.01)
    instruments = BuiltinInstruments()
    broker = PaperBroker(
        market, instruments, clock, default_owner=OWNER, starting_cash=Decimal(1000)
    )
    engine = ExecutionEngine(
        broker=broker, market_data=market, instruments=instruments, ledger=InMemoryLedgerStore(),
        router=SmartRouter(), clock=clock,
    )  # fmt: skip
    assert engine.execute_intent(order("buy", 1, "plain")).status is ExecutionStatus.FILLED


def test_a_venue_state_binds_orders_on_that_venue_alone():
    tenant = TradingStatus(REDUCING, TradingScope.TENANT, "review")
    alpaca = TradingStatus(HALTED, TradingScope.VENUE, "breaker", "alpaca")
    status = TradingStatus(venues=(alpaca,))
    assert status.on_venue("alpaca") == alpaca
    assert status.on_venue("oanda") == ACTIVE
    assert alpaca.describe() == "trading is halted on venue alpaca for this tenant (breaker)"
    # The tenant's own state wins a tie, and a stricter one wins outright.
    soft = TradingStatus(REDUCING, TradingScope.VENUE, "breaker", "alpaca")
    assert (
        TradingStatus(REDUCING, TradingScope.TENANT, "review", venues=(soft,)).on_venue("alpaca")
        == tenant
    )


def test_a_reducing_venue_sends_only_what_shrinks_a_position(venue):
    engine, broker, states = venue
    assert engine.execute_intent(order("buy", 2, "b1")).status is ExecutionStatus.FILLED
    states.set_venue(OWNER.tenant_id, broker.name, REDUCING, "circuit breaker: 5 failures")
    refused = engine.execute_intent(order("buy", 1, "b2"))
    assert refused.status is ExecutionStatus.REJECTED
    assert refused.message.startswith(
        "trading is reducing on venue paper for this tenant (circuit breaker: 5 failures): "
        "only orders that shrink an existing position"
    )
    assert engine.execute_intent(order("sell", 1, "s1")).status is ExecutionStatus.FILLED
    states.set_venue("another-tenant", broker.name, HALTED)
    assert engine.execute_intent(order("sell", 1, "s2")).status is ExecutionStatus.FILLED


def test_the_tenants_caps_refuse_before_the_venue_and_count_each_order_once(clock):
    from smart_routing.adapters.order_caps import InMemoryOrderCaps
    from smart_routing.domain.order_limits import TenantLimits

    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 189.99, 190.01)
    instruments = BuiltinInstruments()
    caps = InMemoryOrderCaps()
    caps.limits[OWNER.tenant_id] = TenantLimits.parse(
        {"max_order_notional": 1000, "max_user_daily_notional": 1200}
    )
    engine = ExecutionEngine(
        broker=PaperBroker(market, instruments, clock, default_owner=OWNER), market_data=market,
        instruments=instruments, ledger=InMemoryLedgerStore(), router=SmartRouter(),
        clock=clock, order_caps=caps,
    )  # fmt: skip
    big = engine.execute_intent(order("buy", 6, "big"))
    assert big.status is ExecutionStatus.REJECTED and big.order is None
    assert "above the tenant's maximum of 1,000.00 USD per order" in big.message
    assert engine.execute_intent(order("buy", 5, "a")).status is ExecutionStatus.FILLED
    assert engine.execute_intent(order("buy", 5, "a")).status is ExecutionStatus.FILLED  # again
    day = clock.now().date()
    assert caps.used(OWNER, day, "USD") == Decimal("950.05")
    preview = engine.execute_intent(order("buy", 2, "p"), dry_run=True)
    assert preview.status is ExecutionStatus.REJECTED and "per user per day" in preview.message
    assert engine.execute_intent(order("buy", 1, "p"), dry_run=True).status is (
        ExecutionStatus.DRY_RUN
    )
    assert caps.used(OWNER, day, "USD") == Decimal("950.05")  # a dry run counts nothing
    assert placed(engine) == 1


def test_caps_that_cannot_be_read_send_nothing(venue, clock):
    engine, _, _ = venue

    class Unreadable:
        def admit(self, *args: object) -> str | None:
            raise RuntimeError("deadline exceeded")

    engine.order_caps = Unreadable()
    refused = engine.execute_intent(order("buy", 1, "k"))
    assert refused.status is ExecutionStatus.REJECTED
    assert refused.message == (
        "the tenant's order limits could not be read (deadline exceeded); nothing sent"
    )
    assert placed(engine) == 0
