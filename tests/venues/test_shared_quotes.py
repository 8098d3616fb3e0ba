"""A tick's quotes, fetched once for many runs: one request per venue source and asset class,
and each run's thread answered from them without asking the venue again (real alpaca-py
against the Alpaca fake)."""

from __future__ import annotations

import threading
from decimal import Decimal

from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from venues.quote_sources import (
    SimulatedQuoteSource,
    VenueMarketData,
    fetch_shared,
    shared_quote_sources,
    shared_quotes,
)

STOCKS = [("IBM", AssetClass.EQUITY), ("ORCL", AssetClass.EQUITY)]


def test_the_tick_fetches_once_and_a_run_prices_on_it_without_asking(fake_alpaca, alpaca_source):
    fake_alpaca.set_quote("IBM", 250.0, 250.1)
    market_data = VenueMarketData({AssetClass.EQUITY: alpaca_source}, SystemClock(), ttl_s=0.0)
    sources = shared_quote_sources([market_data], [*STOCKS, STOCKS[0]])
    assert list(sources) == [("alpaca", c, s) for s, c in STOCKS]

    quotes = fetch_shared(sources)
    assert fake_alpaca.quote_requests() == 1
    assert quotes[("alpaca", AssetClass.EQUITY, "IBM")].bid == Decimal("250.0")

    with shared_quotes(quotes):
        assert market_data.get_quote("IBM", AssetClass.EQUITY).ask == Decimal("250.1")
        seen_elsewhere = []
        other = threading.Thread(
            target=lambda: seen_elsewhere.append(market_data.get_quote("IBM", AssetClass.EQUITY))
        )
        other.start()
        other.join()
    assert fake_alpaca.quote_requests() == 2  # only the other thread asked: it has no tick
    market_data.get_quote("IBM", AssetClass.EQUITY)  # outside the block: asked again
    assert fake_alpaca.quote_requests() == 3


def test_the_simulated_market_is_not_shared_and_a_failing_source_is_left_out(
    fake_alpaca, alpaca_source
):
    simulated = SimulatedQuoteSource(SimulatedMarket(SystemClock()))
    market_data = VenueMarketData(
        {AssetClass.EQUITY: alpaca_source, AssetClass.CRYPTO: simulated}, SystemClock(), 1.0
    )
    sources = shared_quote_sources([market_data], [STOCKS[0], ("BTC/USD", AssetClass.CRYPTO)])
    assert list(sources) == [("alpaca", AssetClass.EQUITY, "IBM")]
    fake_alpaca.server.stop()  # the venue does not answer: each run asks for itself
    assert fetch_shared(sources) == {}
