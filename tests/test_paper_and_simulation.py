from decimal import Decimal

import pytest

from smart_routing.adapters.builtin_instruments import BuiltinInstruments
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import TYPICAL_SPREAD, SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected, VenueUnavailable
from smart_routing.domain.orders import (
    AccountOwner,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
)
from smart_routing.market.spread import spread_pct

OPTION = "AAPL261218C00190000"  # expires 2026-12-18: after the test clock, within 3 years


def request(symbol="AAPL", side="buy", qty=10, asset_class=AssetClass.EQUITY, key="c1", **kw):
    return OrderRequest(
        client_order_id=key, symbol=symbol, asset_class=asset_class, side=side, qty=qty, **kw
    )


LOCAL_OWNER = AccountOwner(tenant_id="local-tenant", uid="local-user")


def paper(market, clock, **kwargs):
    """The paper venue; orders and reads naming no owner are the engine's default user's."""
    return PaperBroker(market, BuiltinInstruments(), clock, default_owner=LOCAL_OWNER, **kwargs)


@pytest.mark.parametrize(
    ("symbol", "asset_class"),
    [("AAPL", AssetClass.EQUITY), ("XYZ", AssetClass.EQUITY), ("EUR/USD", AssetClass.FOREX),
     ("BTC/USD", AssetClass.CRYPTO), (OPTION, AssetClass.OPTIONS)],
)  # fmt: skip
def test_every_asset_class_has_a_deterministic_quote_at_its_typical_spread(
    clock, symbol, asset_class
):
    first = SimulatedMarket(clock).get_quote(symbol, asset_class)
    again = SimulatedMarket(clock).get_quote(symbol, asset_class)
    assert first == again
    assert 0 < first.bid <= first.ask
    assert first.as_of == clock.now()
    spread = float(spread_pct(first.bid, first.ask))
    assert spread == pytest.approx(TYPICAL_SPREAD[asset_class], rel=0.5)


def test_bars_are_deterministic_and_end_at_the_quote(clock):
    market = SimulatedMarket(clock)
    bars = market.get_bars("ETH/USD", AssetClass.CRYPTO, 20)
    assert len(bars) == 20
    assert bars == SimulatedMarket(clock).get_bars("ETH/USD", AssetClass.CRYPTO, 20)
    assert [b.start for b in bars] == sorted(b.start for b in bars)
    mid = market.get_quote("ETH/USD", AssetClass.CRYPTO).mid
    assert bars[-1].close == pytest.approx(float(mid))


def test_quotes_and_bars_can_be_set_per_symbol(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 10.01, 10.02)
    market.set_closes("MSFT", [1, 2, 3])
    quote = market.get_quote("AAPL", AssetClass.EQUITY)
    assert (quote.bid, quote.ask) == (Decimal("10.01"), Decimal("10.02"))
    assert [b.close for b in market.get_bars("MSFT", AssetClass.EQUITY, 10)] == [1, 2, 3]
    market.remove_quote("AAPL")
    assert market.get_quote("AAPL", AssetClass.EQUITY) is None


def test_buys_fill_at_the_ask_and_sells_at_the_bid(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = paper(market, clock, starting_cash=Decimal(10_000))
    bought = broker.submit_order(request(qty=10, key="b"))
    sold = broker.submit_order(request(side="sell", qty=4, key="s"))
    assert (bought.status, bought.filled_avg_price, bought.filled_qty) == ("filled", 101, 10)
    assert (sold.status, sold.filled_avg_price) == ("filled", 100)
    account = broker.get_account()
    assert account.currency == "USD"
    # 10,000 - 1,010 + 400, less the sale's SEC and TAF fees (0.011784, rounded up to 0.02)
    assert sold.fees == Decimal("0.02") and bought.fees == 0
    assert account.cash == Decimal("9389.98")
    assert account.positions["AAPL"].qty == 6
    assert account.positions["AAPL"].avg_price == 101


def test_resubmitting_a_client_order_id_returns_the_same_order(clock):
    broker = paper(SimulatedMarket(clock), clock)
    first = broker.submit_order(request(key="same"))
    second = broker.submit_order(request(key="same"))
    assert first == second
    assert broker.get_account().position_qty("AAPL") == 10
    assert broker.get_order_by_client_id("same") == first
    assert broker.get_order_by_client_id("other") is None


def test_paper_order_ids_are_unique_across_broker_instances(clock):
    market = SimulatedMarket(clock)
    one, two = paper(market, clock), paper(market, clock)
    first = one.submit_order(request(key="c1"))
    second = two.submit_order(request(key="c1"))
    also = one.submit_order(request(key="c2"))
    ids = {first.broker_order_id, second.broker_order_id, also.broker_order_id}
    assert len(ids) == 3


def test_a_limit_order_fills_only_when_marketable(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = paper(market, clock)
    resting = broker.submit_order(request(order_type=OrderType.LIMIT, limit_price=100.5, key="r"))
    crossing = broker.submit_order(request(order_type=OrderType.LIMIT, limit_price=102, key="x"))
    assert resting.status is OrderStatus.ACCEPTED and resting.filled_qty == 0
    assert crossing.status is OrderStatus.FILLED and crossing.filled_avg_price == 101


def test_the_paper_broker_refuses_what_the_account_cannot_pay_or_deliver(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = paper(market, clock, starting_cash=Decimal(500))
    with pytest.raises(
        OrderRejected,
        match=r"^insufficient buying power: order needs 1,010\.00 USD, "
        r"buying power is 500\.00 USD$",
    ):
        broker.submit_order(request(qty=10))
    with pytest.raises(OrderRejected, match="insufficient position"):
        broker.submit_order(request(side=OrderSide.SELL, qty=1))
    with pytest.raises(OrderRejected, match="insufficient position"):
        broker.submit_order(request("BTC/USD", "sell", Decimal("0.1"), AssetClass.CRYPTO))
    assert broker.get_account().cash == Decimal(500)
    assert broker.get_account().positions == {}


def test_the_paper_broker_checks_the_instrument_grid(clock):
    broker = paper(SimulatedMarket(clock), clock)
    off_grid = r"^paper: qty: 0\.37 is not a multiple of the increment 1 contracts$"
    with pytest.raises(OrderRejected, match=off_grid):
        broker.submit_order(request(OPTION, qty=Decimal("0.37"), asset_class=AssetClass.OPTIONS))
    with pytest.raises(OrderRejected, match="increment 1 units of EUR"):
        broker.submit_order(request("EUR/USD", qty=Decimal("10.5"), asset_class=AssetClass.FOREX))
    assert broker.get_order_by_client_id("c1") is None


def test_forex_may_go_short_on_margin_and_closing_books_the_result(clock):
    broker = paper(SimulatedMarket(clock), clock)
    order = broker.submit_order(request("EUR/USD", "sell", 10_000, AssetClass.FOREX))
    assert order.status is OrderStatus.FILLED
    assert order.filled_avg_price == Decimal("1.09997")  # the simulated bid
    account = broker.get_account()
    assert account.positions["EUR/USD"].qty == -10_000
    # Opening moves no cash; 5% of the 10,999.70 USD notional (549.985, half-even 549.98)
    # is held as margin.
    assert account.cash == Decimal(100_000)
    assert account.buying_power == Decimal("99450.02")
    broker.submit_order(request("EUR/USD", "buy", 10_000, AssetClass.FOREX, key="close"))
    closed = broker.get_account()
    # Bought back at the 1.10003 ask: (1.10003 - 1.09997) x 10,000 lost, 0.60 USD.
    assert closed.positions == {}
    assert closed.cash == closed.buying_power == Decimal("99999.40")


def test_a_yen_priced_position_holds_dollar_margin_at_the_conversion_mid(clock):
    market = SimulatedMarket(clock)
    market.set_quote("USD/JPY", 149.98, 150.02)
    broker = paper(market, clock)
    order = broker.submit_order(request("USD/JPY", "buy", 1000, AssetClass.FOREX))
    assert order.filled_avg_price == Decimal("150.02")
    # 150,020 JPY at 1/150.00 (the USD/JPY mid) is 1,000.13 USD; 5% of it is 50.01 USD.
    assert broker.get_account().buying_power == Decimal("99949.99")
    broker.submit_order(request("USD/JPY", "sell", 1000, AssetClass.FOREX, key="close"))
    # Sold at the 149.98 bid: 40 JPY lost, 0.27 USD at the mid.
    assert broker.get_account().cash == Decimal("99999.73")


def test_no_usable_quote_means_the_order_was_not_placed(clock):
    market = SimulatedMarket(clock)
    market.remove_quote("AAPL")
    broker = paper(market, clock)
    with pytest.raises(VenueUnavailable):
        broker.submit_order(request())
    market.set_quote("AAPL", 101, 100)
    with pytest.raises(VenueUnavailable, match="crossed"):
        broker.submit_order(request())
    assert broker.get_order_by_client_id("c1") is None


def test_each_user_has_an_account_of_their_own(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = PaperBroker(market, BuiltinInstruments(), clock, starting_cash=Decimal(5_000))
    alice = AccountOwner(tenant_id="tenant-a", uid="alice")
    bob = AccountOwner(tenant_id="tenant-b", uid="bob")
    broker.submit_order(request(qty=10, key="a1", owner=alice))
    with pytest.raises(OrderRejected) as refused:
        broker.submit_order(request(side="sell", qty=10, key="b1", owner=bob))
    # Bob is told about his own holding, never Alice's.
    assert refused.value.reason == "insufficient position: selling 10 AAPL, holding 0"
    assert broker.get_account(owner=alice).position_qty("AAPL") == 10
    assert broker.get_account(owner=bob).positions == {}
    assert broker.get_account(owner=bob).cash == Decimal(5_000)


def test_an_order_that_names_no_owner_is_refused_without_a_default(clock):
    broker = PaperBroker(SimulatedMarket(clock), BuiltinInstruments(), clock)
    with pytest.raises(OrderRejected, match="must name the account"):
        broker.submit_order(request())


def test_an_order_larger_than_the_touch_fills_what_it_shows_and_works_the_rest(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.02, size=30)
    broker = paper(market, clock)
    order = broker.submit_order(request(qty=70))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert (order.filled_qty, order.filled_avg_price) == (30, Decimal("100.02"))

    market.set_quote("AAPL", 100.00, 100.04, size=30)
    fill = broker.work_order(LOCAL_OWNER, order)
    assert (fill.qty, fill.price, fill.cum_qty) == (30, Decimal("100.04"), 60)
    assert fill.client_order_id == order.client_order_id and fill.venue == "paper"
    market.set_quote("AAPL", 100.00, 100.06, size=30)
    last = broker.work_order(LOCAL_OWNER, order)
    assert (last.qty, last.price, last.cum_qty) == (10, Decimal("100.06"), 70)
    assert last.fill_id != fill.fill_id

    done = broker.get_order_by_client_id(order.client_order_id)
    assert done.status is OrderStatus.FILLED and done.filled_qty == 70
    paid = Decimal("3000.60") + Decimal("3001.20") + Decimal("1000.60")
    assert done.filled_avg_price == paid / 70
    assert broker.work_order(LOCAL_OWNER, done) is None  # nothing left to work
    held = broker.get_account().positions["AAPL"]
    assert held.qty == 70


def test_a_resting_limit_order_fills_when_the_market_reaches_it(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.10)
    broker = paper(market, clock)
    order = broker.submit_order(
        request(qty=5, order_type=OrderType.LIMIT, limit_price=Decimal("100.05"))
    )
    assert order.status is OrderStatus.ACCEPTED
    assert broker.work_order(LOCAL_OWNER, order) is None  # still not marketable
    market.set_quote("AAPL", 99.98, 100.04)
    fill = broker.work_order(LOCAL_OWNER, order)
    # At its own limit, not the 100.04 touch: it rested while the market came down to it.
    assert (fill.qty, fill.price) == (5, Decimal("100.05"))
    assert broker.accounts.working_orders() == []


def test_a_working_order_the_account_can_no_longer_settle_ends_canceled(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100.00, 100.02, size=30)
    broker = paper(market, clock)
    broker.submit_order(request(qty=30, key="buy"))
    selling = broker.submit_order(request(side="sell", qty=30, key="sell"))
    assert selling.status is OrderStatus.FILLED
    broker.submit_order(request(qty=30, key="buy-again"))
    working_sell = broker.submit_order(request(side="sell", qty=50, key="sell-50"))
    assert working_sell.filled_qty == 30  # the touch showed 30; 20 work
    assert broker.work_order(LOCAL_OWNER, working_sell) is None  # nothing is held to sell
    ended = broker.get_order_by_client_id("sell-50")
    assert ended.status is OrderStatus.CANCELED and ended.filled_qty == 30
    assert "insufficient position" in ended.reject_reason
    assert broker.accounts.working_orders() == []
