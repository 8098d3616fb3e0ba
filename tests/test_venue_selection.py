"""Lowest-cost venue: two paper venues, each on its own simulated market, quotes and fees."""

from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.memory_ledger import InMemoryLedgerStore
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.domain.orders import AccountOwner, OrderIntent, OrderSide, client_order_id_for
from smart_routing.execution.engine import ExecutionEngine
from smart_routing.execution.result import ExecutionStatus
from smart_routing.gate.decision import GateAction
from smart_routing.gate.fees import FeeSchedule
from smart_routing.gate.router import SmartRouter
from smart_routing.ports import VenuePorts

OWNER = AccountOwner(tenant_id="local-tenant", uid="local-user")
BTC = "BTC/USD"
CLIENT_ORDER_ID = client_order_id_for("local-tenant", "local-user", "k1")


class Unlisting(BuiltinInstruments):
    """A venue's instrument list without some symbols."""

    def __init__(self, *missing: str) -> None:
        super().__init__()
        self.missing = set(missing)

    def get_instrument(self, symbol, asset_class):
        if symbol in self.missing:
            raise InstrumentUnavailable(f"{symbol} is not listed here")
        return super().get_instrument(symbol, asset_class)


def venue(name, clock, bid, ask, *, fee_bps=25, cash=100_000, instruments=None):
    market = SimulatedMarket(clock)
    market.set_quote(BTC, bid, ask)
    fees = FeeSchedule(crypto_taker_bps=Decimal(fee_bps))
    instruments = instruments or BuiltinInstruments()
    broker = PaperBroker(
        market, instruments, clock, default_owner=OWNER, fees=fees, starting_cash=Decimal(cash)
    )
    return VenuePorts(name, broker, market, instruments, fees)


def engine_on(clock, *ports, ledger=None):
    """The first venue is the class's default one, as the wiring builds it."""
    first = ports[0]
    return ExecutionEngine(
        broker=first.broker,
        market_data=first.market_data,
        instruments=first.instruments,
        ledger=ledger if ledger is not None else InMemoryLedgerStore(),
        router=SmartRouter(fees=first.fees),
        clock=clock,
        venues={AssetClass.CRYPTO: ports},
    )


def buy(qty="0.1"):
    return OrderIntent(symbol=BTC, side=OrderSide.BUY, qty=Decimal(qty), idempotency_key="k1")


def orders_at(ports):
    """The order this test's intent placed at the venue, or None."""
    return ports.broker.get_order_by_client_id(CLIENT_ORDER_ID)


def by_venue(routing):
    return {c.venue: c for c in routing.candidates}


def test_the_cheaper_venue_gets_the_order_and_the_decision_lists_both(clock, log_records):
    wide = venue("wide", clock, 49_980, 50_020)  # 0.08% spread
    tight = venue("tight", clock, 49_995, 50_005)  # 0.02% spread
    ledger = InMemoryLedgerStore()
    result = engine_on(clock, wide, tight, ledger=ledger).execute_intent(buy())
    assert result.status is ExecutionStatus.FILLED
    assert result.order.filled_avg_price == Decimal(50_005)  # the tight venue's ask
    assert orders_at(tight) is not None and orders_at(wide) is None
    candidates = by_venue(result.routing)
    assert [c.venue for c in result.routing.candidates] == ["wide", "tight"]
    assert candidates["tight"].chosen and not candidates["wide"].chosen
    assert (candidates["tight"].bid, candidates["tight"].ask) == (49_995, 50_005)
    assert (candidates["wide"].bid, candidates["wide"].ask) == (49_980, 50_020)
    assert candidates["wide"].action == candidates["tight"].action == GateAction.EXECUTE
    assert candidates["tight"].crossing_cost_pct < candidates["wide"].crossing_cost_pct
    assert round(candidates["tight"].fees_pct, 5) == Decimal("0.00250")  # 25 bps, cents up
    assert round(candidates["wide"].fees_pct, 5) == Decimal("0.00250")
    assert result.routing.cost_model.crossing_cost_pct == candidates["tight"].crossing_cost_pct
    assert [t.trade_id for t in ledger.trades("local-tenant")] == [result.trade.trade_id]
    dumped = result.routing.model_dump(mode="json")["candidates"]
    assert [c["venue"] for c in dumped] == ["wide", "tight"]
    assert dumped[1]["chosen"] is True and dumped[1]["effective_spread_pct"] > 0
    decisions = [r for r in log_records() if r["event"] == "exec.smart_routing"]
    assert [d["price"] for d in decisions] == [50_005]  # the chosen venue's, logged once


def test_fees_can_flip_the_choice(clock):
    # Tight quotes but the 25 bps taker fee, against a wider spread with no fee.
    costly = venue("costly", clock, 49_995, 50_005, fee_bps=25)
    free = venue("free", clock, 49_980, 50_020, fee_bps=0)
    result = engine_on(clock, costly, free).execute_intent(buy())
    assert result.status is ExecutionStatus.FILLED
    assert result.order.filled_avg_price == Decimal(50_020)
    candidates = by_venue(result.routing)
    assert candidates["free"].chosen
    assert candidates["free"].fees_pct == 0
    assert candidates["costly"].effective_spread_pct < candidates["free"].effective_spread_pct
    assert candidates["free"].crossing_cost_pct < candidates["costly"].crossing_cost_pct
    assert result.routing.estimated_fees == 0  # the chosen venue's fees


def test_a_venue_that_does_not_list_the_symbol_drops_out_with_the_reason(clock):
    listed = venue("listed", clock, 49_980, 50_020)
    unlisted = venue("unlisted", clock, 49_995, 50_005, instruments=Unlisting(BTC))
    result = engine_on(clock, unlisted, listed).execute_intent(buy())
    assert result.status is ExecutionStatus.FILLED
    candidates = by_venue(result.routing)
    assert candidates["listed"].chosen
    assert candidates["unlisted"].action is None and not candidates["unlisted"].chosen
    assert "BTC/USD is not listed here" in candidates["unlisted"].reason
    assert orders_at(unlisted) is None


def test_when_no_venue_lists_it_nothing_is_sent(clock):
    first = venue("first", clock, 49_980, 50_020, instruments=Unlisting(BTC))
    second = venue("second", clock, 49_995, 50_005, instruments=Unlisting(BTC))
    result = engine_on(clock, first, second).execute_intent(buy())
    assert result.status is ExecutionStatus.ERROR
    assert "no configured venue lists it" in result.message
    assert "first: instrument unavailable" in result.message
    assert orders_at(first) is None and orders_at(second) is None


def test_when_the_cheaper_venue_refuses_for_buying_power_the_other_executes(clock):
    rich = venue("rich", clock, 49_980, 50_020)
    poor = venue("poor", clock, 49_995, 50_005, cash=1_000)  # 0.1 BTC is about 5,000 USD
    result = engine_on(clock, poor, rich).execute_intent(buy())
    assert result.status is ExecutionStatus.FILLED
    candidates = by_venue(result.routing)
    assert candidates["rich"].chosen
    assert candidates["poor"].action == GateAction.REJECT
    assert "buying power" in candidates["poor"].reason
    assert candidates["poor"].crossing_cost_pct < candidates["rich"].crossing_cost_pct
    assert orders_at(poor) is None and orders_at(rich) is not None


def test_when_no_venue_executes_the_first_venues_decision_stands(clock):
    first = venue("first", clock, 49_980, 50_020, cash=1_000)
    second = venue("second", clock, 49_995, 50_005, cash=2_000)
    result = engine_on(clock, first, second).execute_intent(buy())
    assert result.status is ExecutionStatus.REJECTED
    candidates = by_venue(result.routing)
    assert candidates["first"].chosen and not candidates["second"].chosen
    assert result.routing.quote.ask == 50_020  # the first venue's quote
    assert {c.action for c in candidates.values()} == {GateAction.REJECT}


def test_a_tie_goes_to_the_configured_order(clock):
    a = venue("a", clock, 49_995, 50_005)
    b = venue("b", clock, 49_995, 50_005)
    assert by_venue(engine_on(clock, b, a).execute_intent(buy()).routing)["b"].chosen
    c = venue("c", clock, 49_995, 50_005)
    d = venue("d", clock, 49_995, 50_005)
    assert by_venue(engine_on(clock, c, d).execute_intent(buy()).routing)["c"].chosen


def test_with_one_venue_the_decision_has_no_candidates_and_is_as_before(clock):
    only = venue("only", clock, 49_995, 50_005)
    plain = ExecutionEngine(
        broker=only.broker,
        market_data=only.market_data,
        instruments=only.instruments,
        ledger=InMemoryLedgerStore(),
        router=SmartRouter(fees=only.fees),
        clock=clock,
    )
    single = engine_on(clock, only)
    assert single._choices == {}
    decided = single.decide(buy())
    assert decided.candidates is None
    assert decided.model_dump() == plain.decide(buy()).model_dump()


def test_an_instrument_only_another_venue_lists_passes_the_engines_precheck(clock):
    unlisted = venue("unlisted", clock, 49_995, 50_005, instruments=Unlisting(BTC))
    listed = venue("listed", clock, 49_980, 50_020)
    engine = engine_on(clock, unlisted, listed)
    assert engine.precheck(buy()) is None  # the strategy runner asks before fetching quotes
    assert engine.venues_for(AssetClass.CRYPTO) == ("unlisted", "listed")
    assert engine.venues_for(AssetClass.EQUITY) == ("paper",)  # the class's one venue
    with pytest.raises(InstrumentUnavailable):
        engine_on(clock, unlisted).precheck(buy())


def test_a_class_settles_in_firestore_alone_only_when_every_candidate_is_paper(clock):
    from smart_routing.execution.pipeline import StrategyRunner
    from smart_routing_firebase.platform.services import settles_in_firestore

    paper_only = engine_on(clock, venue("paper", clock, 49_995, 50_005))
    assert settles_in_firestore(StrategyRunner(paper_only), AssetClass.CRYPTO)
    mixed = engine_on(
        clock, venue("paper", clock, 49_995, 50_005), venue("alpaca", clock, 49_995, 50_005)
    )
    assert not settles_in_firestore(StrategyRunner(mixed), AssetClass.CRYPTO)
