from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.clock import FixedClock
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.config.engine_config import EngineConfig, load_config
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import (
    FillAlreadyRecorded,
    OrderOutcomeUnknown,
    OrderRejected,
    VenueUnavailable,
)
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    client_order_id_for,
)
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.decision import CostCheck, GateAction
from smart_routing.gate.policy import FailMode, RoutingPolicy
from smart_routing.gate.router import SmartRouter
from smart_routing.runtime import configured_engine

INSTRUMENTS = BuiltinInstruments()


class CountingBroker:
    """Wraps the paper broker and counts what reaches it; can be told to fail."""

    name = "counting"

    def __init__(self, inner, fail_with=None, then_lookup=None):
        self.inner, self.fail_with, self.then_lookup = inner, fail_with, then_lookup
        self.submitted, self.lookups = [], 0

    def venue_for(self, asset_class):
        return self.name

    def submit_order(self, request):
        self.submitted.append(request)
        if self.fail_with is not None:
            if self.then_lookup == "placed":
                self.inner.submit_order(request)  # it reached the venue before the failure
            raise self.fail_with
        return self.inner.submit_order(request)

    def get_order_by_client_id(self, client_order_id):
        self.lookups += 1
        if self.then_lookup == "lookup-fails":
            raise ConnectionError("still down")
        return self.inner.get_order_by_client_id(client_order_id)

    def get_account(self, asset_class=None, owner=None):
        return self.inner.get_account(asset_class, owner)


@pytest.fixture
def market(clock):
    return SimulatedMarket(clock)


LOCAL_OWNER = AccountOwner(tenant_id="local-tenant", uid="local-user")


def paper(market, clock, **kwargs):
    """The paper venue; orders and reads naming no owner are the engine's default user's."""
    return PaperBroker(market, INSTRUMENTS, clock, default_owner=LOCAL_OWNER, **kwargs)


def engine_with(market, clock, broker=None, *, ledger=None, router=None, **kwargs):
    """An engine on the simulated market; the gate's cost check is on unless a router says."""
    return ExecutionEngine(
        broker=broker or CountingBroker(paper(market, clock)),
        market_data=market,
        instruments=INSTRUMENTS,
        ledger=ledger if ledger is not None else InMemoryLedgerStore(),
        router=router or SmartRouter(),
        clock=clock,
        **kwargs,
    )


def buy(symbol="AAPL", qty=10, **kwargs):
    return OrderIntent(symbol=symbol, side=OrderSide.BUY, qty=qty, **kwargs)


def test_smart_routing_is_off_unless_configured(market, clock):
    market.set_quote("BTC/USD", 49_950, 50_050)
    config = load_config({})
    assert config.smart_routing_enabled is False
    broker = paper(market, clock)
    engine = configured_engine(config, broker, market, INSTRUMENTS, InMemoryLedgerStore(), clock)
    assert engine.router.enabled is False
    result = engine.execute_intent(buy("BTC/USD", Decimal("0.5")))
    assert result.status is ExecutionStatus.FILLED
    assert result.routing.cost_check is CostCheck.BYPASSED
    assert result.routing.spread_pct == Decimal("0.002")  # measured, not acted on


def test_a_downgraded_intent_never_reaches_the_broker(market, clock):
    market.set_quote("BTC/USD", 49_950, 50_050)
    engine = engine_with(market, clock)
    result = engine.execute_intent(buy("BTC/USD", Decimal("0.5")))
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.routing.action is GateAction.WAIT
    assert result.routing.cost_check is CostCheck.EXCEEDED
    assert result.routing.reason == "Spread 0.20% exceeds threshold 0.10% (default)"
    assert engine.broker.submitted == []
    assert result.order is None and result.trade is None


def test_dry_run_places_no_order_but_still_routes(market, clock):
    engine = engine_with(market, clock, dry_run=True)
    result = engine.execute_intent(buy())
    assert result.status is ExecutionStatus.DRY_RUN
    assert result.routing.should_execute
    assert engine.broker.submitted == []
    live = engine_with(market, clock)
    assert live.execute_intent(buy(), dry_run=True).status is ExecutionStatus.DRY_RUN
    assert live.broker.submitted == []


def test_a_fill_is_written_to_the_ledger_with_every_field(market, clock):
    ledger = InMemoryLedgerStore()
    engine = engine_with(market, clock, ledger=ledger, tenant_id="t1", uid="u1")
    result = engine.execute_intent(
        buy("ETH/USD", 2, strategy_id="crypto_momentum", idempotency_key="k-1")
    )
    assert result.status is ExecutionStatus.FILLED
    trade = result.trade
    assert trade == ledger.get("t1", trade.trade_id)
    assert trade.trade_id == trade.client_order_id == client_order_id_for("t1", "u1", "k-1")
    assert (trade.tenant_id, trade.uid) == ("t1", "u1")
    assert (trade.symbol, trade.asset_class, trade.side) == ("ETH/USD", AssetClass.CRYPTO, "buy")
    # The simulated ETH/USD quote is 2999.25 / 3000.75: a buy fills at the ask.
    assert trade.qty == 2 and trade.price == Decimal("3000.75")
    assert trade.notional == Decimal("6001.50") and trade.currency == "USD"
    # 25 bps taker fee on 6001.50 is 15.00375, rounded up to the cent.
    assert trade.fees == Decimal("15.01")
    assert trade.estimated_slippage == result.routing.estimated_slippage == Decimal("0.00025")
    assert trade.strategy_id == "crypto_momentum"
    assert trade.timestamp == clock.now() and trade.timestamp.utcoffset().total_seconds() == 0
    assert trade.trading_date == date(2025, 12, 30)
    assert trade.broker == "paper" and trade.broker_order_id == result.order.broker_order_id


def test_options_notional_uses_the_contract_multiplier(market, clock):
    market.set_quote("AAPL261218C00190000", 4.95, 5.05)
    result = engine_with(market, clock).execute_intent(buy("AAPL261218C00190000", 2))
    assert result.status is ExecutionStatus.FILLED
    assert result.trade.price == Decimal("5.05")
    assert result.trade.notional == Decimal("1010.00")


def test_the_same_intent_twice_makes_one_order_and_one_trade(market, clock):
    ledger = InMemoryLedgerStore()
    inner = paper(market, clock)
    engine = engine_with(market, clock, broker=CountingBroker(inner), ledger=ledger)
    intent = buy(idempotency_key="double-click")
    first = engine.execute_intent(intent)
    second = engine.execute_intent(intent)
    assert first.trade == second.trade
    assert first.order.broker_order_id == second.order.broker_order_id
    assert len(ledger.trades("local-tenant")) == 1
    assert inner.get_account().position_qty("AAPL") == 10


def test_the_same_key_at_once_from_many_threads_makes_one_trade(market, clock):
    ledger = InMemoryLedgerStore()
    inner = paper(market, clock)
    engine = engine_with(market, clock, broker=inner, ledger=ledger)
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: engine.execute_intent(buy(idempotency_key="k")), range(16))
        )
    assert {r.trade.trade_id for r in results} == {results[0].trade.trade_id}
    assert len(ledger.trades("local-tenant")) == 1
    assert inner.get_account().position_qty("AAPL") == 10


def test_different_users_with_the_same_key_get_different_orders():
    assert client_order_id_for("t", "alice", "k") != client_order_id_for("t", "bob", "k")
    assert client_order_id_for("t", "alice", "k") == client_order_id_for("t", "alice", "k")
    assert len(client_order_id_for("t", "alice", "k")) <= 48


def test_an_equity_short_is_rejected_by_the_gate_before_the_venue(market, clock):
    engine = engine_with(market, clock)
    result = engine.execute_intent(OrderIntent(symbol="AAPL", side="sell", qty=5))
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == (
        "insufficient position: selling 5 AAPL, holding 0 (this account may not short equity)"
    )
    assert engine.broker.submitted == []
    assert result.trade is None


@pytest.mark.parametrize(
    ("failure", "lookup", "status", "words"),
    [
        (VenueUnavailable("connection refused"), None, ExecutionStatus.ERROR, "venue unavailable"),
        (OrderRejected("market closed"), None, ExecutionStatus.REJECTED, "market closed"),
        (OrderOutcomeUnknown("read timeout"), None, ExecutionStatus.UNKNOWN, "outcome unknown"),
        (TimeoutError("read timeout"), None, ExecutionStatus.UNKNOWN, "does not show the order"),
        (TimeoutError("read timeout"), "lookup-fails", ExecutionStatus.UNKNOWN, "lookup failed"),
    ],
)
def test_broker_failures_become_statuses_never_exceptions(
    market, clock, failure, lookup, status, words
):
    broker = CountingBroker(paper(market, clock), fail_with=failure, then_lookup=lookup)
    result = engine_with(market, clock, broker=broker).execute_intent(buy())
    assert result.status is status
    assert words in result.message
    assert len(broker.submitted) == 1
    assert result.trade is None


def test_after_a_timeout_an_order_that_reached_the_venue_is_found_and_recorded(market, clock):
    inner = paper(market, clock)
    broker = CountingBroker(inner, fail_with=TimeoutError("read timeout"), then_lookup="placed")
    ledger = InMemoryLedgerStore()
    result = engine_with(market, clock, broker=broker, ledger=ledger).execute_intent(buy())
    assert result.status is ExecutionStatus.FILLED
    assert broker.lookups == 1 and len(broker.submitted) == 1
    assert len(ledger.trades("local-tenant")) == 1


class ScriptedBroker:
    """Answers every order with the given state: a collaborator, not the thing under test."""

    name = "scripted"

    def __init__(self, status, filled_qty, price=Decimal("190.00")):
        self.status, self.filled_qty, self.price = status, filled_qty, price
        self.submitted = []

    def venue_for(self, asset_class):
        return self.name

    def submit_order(self, request):
        self.submitted.append(request)
        return Order(
            broker=self.name,
            broker_order_id="s-1",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            asset_class=request.asset_class,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            status=self.status,
            filled_qty=self.filled_qty,
            filled_avg_price=self.price if self.filled_qty else None,
            submitted_at=FixedClock().now(),
        )

    def get_order_by_client_id(self, client_order_id):
        return None

    def get_account(self, asset_class=None, owner=None):
        return AccountSnapshot(cash=100_000, buying_power=100_000, as_of=FixedClock().now())


@pytest.mark.parametrize(
    ("venue_status", "filled", "status", "ledger_qty"),
    [
        (OrderStatus.FILLED, 10, ExecutionStatus.FILLED, 10),
        (OrderStatus.PARTIALLY_FILLED, 3, ExecutionStatus.PARTIALLY_FILLED, 3),
        (OrderStatus.CANCELED, 4, ExecutionStatus.PARTIALLY_FILLED, 4),
        (OrderStatus.NEW, 0, ExecutionStatus.ACCEPTED, None),
        (OrderStatus.ACCEPTED, 0, ExecutionStatus.ACCEPTED, None),
        (OrderStatus.REJECTED, 0, ExecutionStatus.REJECTED, None),
        (OrderStatus.EXPIRED, 0, ExecutionStatus.REJECTED, None),
    ],
)
def test_venue_states_map_onto_statuses_and_only_filled_quantity_is_recorded(
    market, clock, venue_status, filled, status, ledger_qty
):
    ledger = InMemoryLedgerStore()
    engine = engine_with(market, clock, broker=ScriptedBroker(venue_status, filled), ledger=ledger)
    result = engine.execute_intent(buy())
    assert result.status is status
    trades = ledger.trades("local-tenant")
    assert [t.qty for t in trades] == ([ledger_qty] if ledger_qty else [])
    if ledger_qty:
        assert trades[0].notional == ledger_qty * Decimal("190.00")


def test_an_account_that_cannot_be_read_sends_nothing(market, clock, log_records):
    class NoAccount(ScriptedBroker):
        def get_account(self, asset_class=None, owner=None):
            raise ConnectionError("account endpoint down")

    broker = NoAccount(OrderStatus.FILLED, 10)
    result = engine_with(market, clock, broker=broker).execute_intent(buy())
    assert result.status is ExecutionStatus.REJECTED
    assert result.message == "the account could not be read; nothing sent"
    assert broker.submitted == []
    (unavailable,) = [r for r in log_records() if r["event"] == "exec.account_unavailable"]
    assert "account endpoint down" in unavailable["error"]


def test_a_failed_ledger_write_reports_the_fill_and_a_retry_records_it(market, clock):
    class FlakyLedger(InMemoryLedgerStore):
        failures = 1

        def append(self, trade):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("firestore unavailable")
            return super().append(trade)

    ledger = FlakyLedger()
    engine = engine_with(market, clock, ledger=ledger)
    intent = buy(idempotency_key="retry-me")
    first = engine.execute_intent(intent)
    assert first.status is ExecutionStatus.FILLED and first.trade is None
    assert "ledger write failed" in first.message
    second = engine.execute_intent(intent)
    assert second.trade is not None
    assert len(engine.broker.submitted) == 2
    assert engine.broker.inner.get_account().position_qty("AAPL") == 10  # still one order


def test_fail_closed_without_a_quote_holds_the_order(market, clock):
    market.remove_quote("AAPL")
    router = SmartRouter(RoutingPolicy(fail_mode=FailMode.CLOSED))
    engine = engine_with(market, clock, router=router)
    result = engine.execute_intent(buy())
    assert result.status is ExecutionStatus.DOWNGRADED
    assert result.routing.cost_check is CostCheck.UNAVAILABLE
    assert result.message == "Quote unavailable (no quote); fail-closed: order held"
    assert engine.broker.submitted == []


def test_limit_orders_need_a_price_and_a_resting_one_is_accepted(market, clock):
    with pytest.raises(ValueError, match="limit_price"):
        OrderIntent(symbol="AAPL", side="buy", qty=1, order_type=OrderType.LIMIT)
    engine = engine_with(market, clock)
    resting = buy(order_type=OrderType.LIMIT, limit_price=100)
    result = engine.execute_intent(resting)
    assert result.status is ExecutionStatus.ACCEPTED and result.trade is None
    assert result.order.limit_price == Decimal("100.00")


def test_routing_and_execution_are_logged_with_the_seed_fields(market, clock, log_records):
    market.set_quote("BTC/USD", 49_950, 50_050)
    engine_with(market, clock).execute_intent(buy("BTC/USD", 1))
    records = log_records()
    (routing,) = [r for r in records if r["event"] == "exec.smart_routing"]
    assert routing["severity"] == "INFO"
    seed_fields = {
        "should_execute": False,
        "reason": "Spread 0.20% exceeds threshold 0.10% (default)",
        "spread_pct": 0.002,
        "downgraded": True,
        "symbol": "BTC/USD",
        "asset_class": "CRYPTO",
        "threshold_pct": 0.001,
        "estimated_slippage": 0.001,
    }
    assert {key: routing[key] for key in seed_fields} == seed_fields
    assert routing["action"] == "wait" and routing["cost_check"] == "exceeded"
    assert routing["threshold_source"] == "default" and routing["venue"] == "paper"
    assert "instrument" not in routing and "quote" not in routing
    (execution,) = [r for r in records if r["event"] == "exec.execution"]
    assert execution["status"] == "downgraded" and execution["symbol"] == "BTC/USD"


def test_a_missing_quote_under_fail_open_passes_the_cost_check_with_a_warning(
    market, clock, log_records
):
    market.remove_quote("AAPL")
    broker = ScriptedBroker(OrderStatus.FILLED, 10)
    limit = buy(order_type="limit", limit_price=Decimal("190.00"))
    result = engine_with(market, clock, broker=broker).execute_intent(limit)
    assert result.status is ExecutionStatus.FILLED
    assert result.routing.cost_check is CostCheck.UNAVAILABLE
    # The limit price sizes the order, so its size and buying power were checked.
    assert result.routing.notional == Decimal("1900.00")
    (warning,) = [r for r in log_records() if r["event"] == "exec.smart_routing"]
    assert warning["severity"] == "WARNING" and "fail-open" in warning["reason"]


def test_a_market_order_with_no_price_at_all_is_refused_in_either_fail_mode(market, clock):
    market.remove_quote("AAPL")
    broker = ScriptedBroker(OrderStatus.FILLED, 10)
    opened = engine_with(market, clock, broker=broker).execute_intent(buy())
    assert opened.status is ExecutionStatus.REJECTED
    assert opened.message.startswith(
        "Quote unavailable (no quote): no price was available to check the size and buying power"
    )
    closed_router = SmartRouter(RoutingPolicy(fail_mode=FailMode.CLOSED), enabled=False)
    held = engine_with(market, clock, broker=broker, router=closed_router).execute_intent(buy())
    assert held.status is ExecutionStatus.REJECTED
    assert broker.submitted == []


def test_the_last_quote_the_instance_saw_sizes_an_order_when_the_feed_breaks(market, clock):
    """A million-share buy on a 100 USD account, with the quote feed down: fail-open skips the
    cost check, and the last quote seen still sizes the order, so buying power refuses it."""
    market.set_quote("AAPL", 189.99, 190.01)
    broker = ScriptedBroker(OrderStatus.FILLED, 10)
    broker.get_account = lambda asset_class=None, owner=None: AccountSnapshot(
        cash=100, buying_power=100, as_of=clock.now()
    )
    engine = engine_with(market, clock, broker=broker)
    assert engine.execute_intent(buy(qty=Decimal("0.5"))).status is ExecutionStatus.FILLED
    market.remove_quote("AAPL")
    clock.advance(60)
    huge = engine.execute_intent(buy(qty=1_000_000))
    assert huge.status is ExecutionStatus.REJECTED
    assert huge.routing.cost_check is CostCheck.UNAVAILABLE
    assert huge.routing.price == Decimal("190.01") and "above the equity maximum" in huge.message
    thousand = engine.execute_intent(buy(qty=1000))
    assert thousand.status is ExecutionStatus.REJECTED
    assert "insufficient buying power" in thousand.message
    assert len(broker.submitted) == 1


def test_a_stale_quote_still_sizes_the_order(market, clock):
    market.set_quote("AAPL", 189.99, 190.01)
    stale_clock = type(clock)(clock.now())
    engine = engine_with(market, stale_clock, broker=ScriptedBroker(OrderStatus.FILLED, 10))
    quote = market.get_quote("AAPL", buy().asset_class)
    stale_clock.advance(60)  # past the 5 s limit: no cost judgement, but a price
    # 10,000 shares: within the participation cap (0.05% of the simulated daily volume).
    result = engine.execute_intent(buy(qty=10_000), quote=quote)
    assert result.routing.cost_check is CostCheck.UNAVAILABLE
    assert result.status is ExecutionStatus.REJECTED
    assert "above the equity maximum" in result.message


def test_config_routing_policy_reaches_the_gate(market, clock):
    market.set_quote("BTC/USD", 49_950, 50_050)
    config = load_config(
        {"EXEC_SMART_ROUTING_ENABLED": "true", "EXEC_MAX_SPREAD_PCT_CRYPTO": "0.003"}
    )
    engine = configured_engine(
        config, paper(market, clock), market, INSTRUMENTS, InMemoryLedgerStore(), clock
    )
    result = engine.execute_intent(buy("BTC/USD", Decimal("0.5")))
    assert result.status is ExecutionStatus.FILLED
    assert result.routing.threshold_source == "EXEC_MAX_SPREAD_PCT_CRYPTO"
    assert result.routing.threshold_pct == Decimal("0.003")
    assert EngineConfig().smart_routing_enabled is False


class ReconciledFirstLedger(InMemoryLedgerStore):
    """A ledger whose reconciler has already recorded the order's fills from the venue."""

    def append(self, trade):
        raise FillAlreadyRecorded(f"the reconciler has recorded order {trade.client_order_id}")


def test_a_fill_the_reconciler_recorded_first_is_not_recorded_again(market, clock):
    engine = engine_with(market, clock, ledger=ReconciledFirstLedger())
    result = engine.execute_intent(buy(idempotency_key="raced"))
    assert result.status is ExecutionStatus.FILLED and result.trade is None
    assert result.message.endswith(f"the reconciler has recorded order {result.client_order_id}")
    assert "ledger write failed" not in result.message
