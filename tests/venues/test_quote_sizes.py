"""Quote sizes in the venue's units, read as the instrument's: Alpaca's stock sizes count round
lots of 100 shares, its crypto sizes coins and its option sizes contracts; OANDA's liquidity is
in units. Each on the fakes answering in those units, through the real clients."""

from __future__ import annotations

from decimal import Decimal

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.orders import OrderIntent
from smart_routing.execution.result import ExecutionStatus
from tools.fakes.oanda import ACCOUNT_ID
from venues.oanda.market_data import OandaQuoteSource

OPTION = "AAPL271217C00190000"


def test_an_alpaca_stock_size_counts_round_lots_of_100_shares(fake_alpaca, alpaca_source):
    fake_alpaca.set_quote("MSFT", 400.00, 400.05, bid_size=3, ask_size=2)
    quote = alpaca_source.latest_quotes(AssetClass.EQUITY, ["MSFT"])["MSFT"]
    assert (quote.bid_size, quote.ask_size) == (Decimal(300), Decimal(200))


def test_an_alpaca_crypto_size_is_in_coins(fake_alpaca, alpaca_source):
    fake_alpaca.set_quote("BTC/USD", 110000, 110001, bid_size=0.25, ask_size=1.5)
    quote = alpaca_source.latest_quotes(AssetClass.CRYPTO, ["BTC/USD"])["BTC/USD"]
    assert (quote.bid_size, quote.ask_size) == (Decimal("0.25"), Decimal("1.5"))


def test_an_alpaca_option_size_is_in_contracts(fake_alpaca, alpaca_source):
    fake_alpaca.set_quote(OPTION, 5.0, 5.1, bid_size=12, ask_size=7)
    quote = alpaca_source.latest_quotes(AssetClass.OPTIONS, [OPTION])[OPTION]
    assert (quote.bid_size, quote.ask_size) == (Decimal(12), Decimal(7))


def test_an_oanda_size_is_its_liquidity_in_units(fake_oanda, oanda_client):
    fake_oanda.set_price("EUR_USD", 1.10000, 1.10010, liquidity=2_500_000)
    source = OandaQuoteSource(oanda_client, ACCOUNT_ID)
    quote = source.latest_quotes(AssetClass.FOREX, ["EUR/USD"])["EUR/USD"]
    assert (quote.bid_size, quote.ask_size) == (Decimal(2_500_000), Decimal(2_500_000))


def test_a_10_share_msft_buy_at_a_one_cent_spread_executes(fake_alpaca, make_engine):
    """Two round lots at the ask are 200 shares: 10 shares cross at the quoted spread. Read
    as 2 shares they were priced beyond the touch and held as WAIT."""
    fake_alpaca.set_quote("MSFT", 400.00, 400.05, bid_size=1, ask_size=2)
    intent = OrderIntent(symbol="MSFT", side="buy", qty=10, idempotency_key="msft-10")
    result = make_engine().execute_intent(intent)
    assert result.status is ExecutionStatus.FILLED, result.message
    model = result.routing.cost_model
    assert model.depth == "touch size" and model.touch_size == Decimal(200)
    assert model.effective_spread_pct == model.spread_pct and model.impact_pct == 0
    assert len(fake_alpaca.orders) == 1


def test_a_crypto_buy_beyond_the_coins_at_the_touch_is_priced_beyond_it(fake_alpaca, make_engine):
    """The decision shows the touch in coins, and a size it does not hold walks the book."""
    fake_alpaca.set_quote("BTC/USD", 100000, 100001, bid_size=0.2, ask_size=0.3)
    intent = OrderIntent(symbol="BTC/USD", side="buy", qty=0.1, idempotency_key="btc-1")
    decision = make_engine().decide(intent)
    assert decision.cost_model.touch_size == Decimal("0.3")


def test_an_oanda_decision_shows_its_liquidity_as_the_touch(fake_oanda, make_oanda_engine):
    fake_oanda.set_price("EUR_USD", 1.10000, 1.10001, liquidity=1_000_000)
    intent = OrderIntent(symbol="EUR/USD", side="buy", qty=10_000, idempotency_key="fx-size")
    result = make_oanda_engine().execute_intent(intent)
    assert result.status is ExecutionStatus.FILLED, result.message
    assert result.routing.cost_model.touch_size == Decimal(1_000_000)
    assert result.routing.cost_model.depth == "touch size"
