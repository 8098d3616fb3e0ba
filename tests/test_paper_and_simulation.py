import pytest

from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.adapters.simulated_market import TYPICAL_SPREAD, SimulatedMarket
from smart_routing.assets import AssetClass
from smart_routing.costs import spread_pct
from smart_routing.errors import OrderRejected, VenueUnavailable
from smart_routing.orders import OrderRequest, OrderSide, OrderStatus, OrderType


def request(symbol="AAPL", side="buy", qty=10.0, asset_class=AssetClass.EQUITY, key="c1", **kw):
    return OrderRequest(
        client_order_id=key, symbol=symbol, asset_class=asset_class, side=side, qty=qty, **kw
    )


@pytest.mark.parametrize(
    ("symbol", "asset_class"),
    [("AAPL", AssetClass.EQUITY), ("XYZ", AssetClass.EQUITY), ("EUR/USD", AssetClass.FOREX),
     ("BTC/USD", AssetClass.CRYPTO), ("AAPL250117C00190000", AssetClass.OPTIONS)],
)  # fmt: skip
def test_every_asset_class_has_a_deterministic_quote_at_its_typical_spread(
    clock, symbol, asset_class
):
    first = SimulatedMarket(clock).get_quote(symbol, asset_class)
    again = SimulatedMarket(clock).get_quote(symbol, asset_class)
    assert first == again
    assert 0 < first.bid <= first.ask
    assert first.as_of == clock.now()
    assert spread_pct(first.bid, first.ask) == pytest.approx(TYPICAL_SPREAD[asset_class], rel=0.5)


def test_bars_are_deterministic_and_end_at_the_quote(clock):
    market = SimulatedMarket(clock)
    bars = market.get_bars("ETH/USD", AssetClass.CRYPTO, 20)
    assert len(bars) == 20
    assert bars == SimulatedMarket(clock).get_bars("ETH/USD", AssetClass.CRYPTO, 20)
    assert [b.start for b in bars] == sorted(b.start for b in bars)
    assert bars[-1].close == pytest.approx(market.get_quote("ETH/USD", AssetClass.CRYPTO).mid)


def test_quotes_and_bars_can_be_set_per_symbol(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 10, 11)
    market.set_closes("MSFT", [1, 2, 3])
    quote = market.get_quote("AAPL", AssetClass.EQUITY)
    assert (quote.bid, quote.ask) == (10, 11)
    assert [b.close for b in market.get_bars("MSFT", AssetClass.EQUITY, 10)] == [1, 2, 3]
    market.remove_quote("AAPL")
    assert market.get_quote("AAPL", AssetClass.EQUITY) is None


def test_buys_fill_at_the_ask_and_sells_at_the_bid(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = PaperBroker(market, clock, starting_cash=10_000)
    bought = broker.submit_order(request(qty=10, key="b"))
    sold = broker.submit_order(request(side="sell", qty=4, key="s"))
    assert (bought.status, bought.filled_avg_price, bought.filled_qty) == ("filled", 101, 10)
    assert (sold.status, sold.filled_avg_price) == ("filled", 100)
    account = broker.get_account()
    assert account.cash == pytest.approx(10_000 - 1_010 + 400)
    assert account.positions["AAPL"].qty == 6
    assert account.positions["AAPL"].avg_price == 101


def test_resubmitting_a_client_order_id_returns_the_same_order(clock):
    broker = PaperBroker(SimulatedMarket(clock), clock)
    first = broker.submit_order(request(key="same"))
    second = broker.submit_order(request(key="same"))
    assert first == second
    assert broker.get_account().position_qty("AAPL") == 10
    assert broker.get_order_by_client_id("same") == first
    assert broker.get_order_by_client_id("other") is None


def test_a_limit_order_fills_only_when_marketable(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = PaperBroker(market, clock)
    resting = broker.submit_order(request(order_type=OrderType.LIMIT, limit_price=100.5, key="r"))
    crossing = broker.submit_order(request(order_type=OrderType.LIMIT, limit_price=102, key="x"))
    assert resting.status is OrderStatus.ACCEPTED and resting.filled_qty == 0
    assert crossing.status is OrderStatus.FILLED and crossing.filled_avg_price == 101


def test_the_paper_broker_refuses_what_the_account_cannot_pay_or_deliver(clock):
    market = SimulatedMarket(clock)
    market.set_quote("AAPL", 100, 101)
    broker = PaperBroker(market, clock, starting_cash=500)
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        broker.submit_order(request(qty=10))
    with pytest.raises(OrderRejected, match="insufficient position"):
        broker.submit_order(request(side=OrderSide.SELL, qty=1))
    assert broker.get_account().cash == 500


def test_forex_may_go_short(clock):
    broker = PaperBroker(SimulatedMarket(clock), clock)
    order = broker.submit_order(request("EUR/USD", "sell", 10_000, AssetClass.FOREX))
    assert order.status is OrderStatus.FILLED
    assert broker.get_account().positions["EUR/USD"].qty == -10_000


def test_no_usable_quote_means_the_order_was_not_placed(clock):
    market = SimulatedMarket(clock)
    market.remove_quote("AAPL")
    broker = PaperBroker(market, clock)
    with pytest.raises(VenueUnavailable):
        broker.submit_order(request())
    market.set_quote("AAPL", 101, 100)
    with pytest.raises(VenueUnavailable, match="crossed"):
        broker.submit_order(request())
    assert broker.get_order_by_client_id("c1") is None
