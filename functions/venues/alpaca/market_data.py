"""Alpaca's market data: latest quotes, minute bars and crypto order books.

alpaca-py loads pandas, so this module is imported only where a configured venue needs it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alpaca.data.enums import DataFeed
from alpaca.data.historical import (
    CryptoHistoricalDataClient,
    OptionHistoricalDataClient,
    StockHistoricalDataClient,
)
from alpaca.data.models.bars import BarSet
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestOrderbookRequest,
    CryptoLatestQuoteRequest,
    OptionLatestQuoteRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
)
from alpaca.data.timeframe import TimeFrame

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import to_decimal
from smart_routing.market.quotes import Bar, Quote
from smart_routing.market.spread import BookLevel, OrderBook
from venues.alpaca.client import model, prepare, rate_limited
from venues.settings import AlpacaApi, AlpacaSettings

# What one unit of a quote's bid and ask size holds. Stock quotes count round lots of 100
# shares (Alpaca's market-data reference: "ask size in round lots"); crypto quotes count
# coins, option quotes contracts (OPRA's unit), each given as is.
ROUND_LOT = Decimal(100)
SIZE_UNIT = {AssetClass.EQUITY: ROUND_LOT, AssetClass.CRYPTO: Decimal(1),
             AssetClass.OPTIONS: Decimal(1)}  # fmt: skip


class AlpacaQuoteSource:
    """Latest quotes for many symbols of one asset class in one request."""

    name = "alpaca"

    def __init__(self, settings: AlpacaSettings, timeout_s: float) -> None:
        # A Broker API partner reads market data with its broker keys as HTTP Basic auth, from
        # data.sandbox.alpaca.markets with sandbox keys (Alpaca's "Authentication" guide).
        key, secret, url = settings.api_key, settings.secret_key, settings.data_url
        basic = settings.api is AlpacaApi.BROKER
        sandbox = basic and not settings.live
        self.stocks = StockHistoricalDataClient(
            key, secret, use_basic_auth=basic, sandbox=sandbox, url_override=url
        )
        self.crypto = CryptoHistoricalDataClient(
            key, secret, use_basic_auth=basic, sandbox=sandbox, url_override=url
        )
        self.options = OptionHistoricalDataClient(
            key, secret, use_basic_auth=basic, sandbox=sandbox, url_override=url
        )
        for client in (self.stocks, self.crypto, self.options):
            prepare(client, timeout_s)
        self.feed = DataFeed(settings.feed.value)

    def latest_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        fetch = {
            AssetClass.EQUITY: lambda: self.stocks.get_stock_latest_quote(
                StockLatestQuoteRequest(symbol_or_symbols=symbols, feed=self.feed)
            ),
            AssetClass.CRYPTO: lambda: self.crypto.get_crypto_latest_quote(
                CryptoLatestQuoteRequest(symbol_or_symbols=symbols)
            ),
            AssetClass.OPTIONS: lambda: self.options.get_option_latest_quote(
                OptionLatestQuoteRequest(symbol_or_symbols=symbols)
            ),
        }[asset_class]
        source = f"alpaca:{self.feed.value}" if asset_class is AssetClass.EQUITY else "alpaca"
        raw = rate_limited(fetch)
        unit = SIZE_UNIT[asset_class]
        return {symbol: _quote(symbol, raw.get(symbol), source, unit) for symbol in symbols}

    def bars(self, asset_class: AssetClass, symbol: str, limit: int) -> list[Bar]:
        start = datetime.now(UTC) - timedelta(minutes=limit * 3)
        barset = model(rate_limited(lambda: self._minute_bars(asset_class, symbol, start)))
        rows = barset.data.get(symbol, [])[-limit:]
        return [
            Bar(start=b.timestamp, open=b.open, high=b.high, low=b.low, close=b.close,
                volume=b.volume)
            for b in rows
        ]  # fmt: skip

    def _minute_bars(
        self, asset_class: AssetClass, symbol: str, start: datetime
    ) -> BarSet | dict[str, Any]:
        if asset_class is AssetClass.CRYPTO:
            return self.crypto.get_crypto_bars(
                CryptoBarsRequest(symbol_or_symbols=symbol, timeframe=TimeFrame.Minute, start=start)
            )
        return self.stocks.get_stock_bars(
            StockBarsRequest(
                symbol_or_symbols=symbol, timeframe=TimeFrame.Minute, start=start, feed=self.feed
            )
        )

    def order_book(self, asset_class: AssetClass, symbol: str) -> OrderBook | None:
        """The crypto order book, for size-aware cost estimates; Alpaca has none for the rest."""
        if asset_class is not AssetClass.CRYPTO:
            return None
        request = CryptoLatestOrderbookRequest(symbol_or_symbols=[symbol])
        book = rate_limited(lambda: self.crypto.get_crypto_latest_orderbook(request)).get(symbol)
        if book is None:
            return None
        return OrderBook(
            bids=[BookLevel(price=q.price, size=q.size) for q in book.bids],
            asks=[BookLevel(price=q.price, size=q.size) for q in book.asks],
        )


def _quote(symbol: str, raw: Any, source: str, unit: Decimal) -> Quote | None:
    """alpaca-py parses prices to floats: each becomes the Decimal of its shortest repr. The
    sizes, in the venue's units, become the instrument's (shares, coins, contracts)."""
    if raw is None:
        return None
    return Quote(
        symbol=symbol,
        bid=to_decimal(raw.bid_price, "bid"),
        ask=to_decimal(raw.ask_price, "ask"),
        as_of=raw.timestamp,
        source=source,
        bid_size=_size(raw.bid_size, unit, "bid size"),
        ask_size=_size(raw.ask_size, unit, "ask size"),
    )


def _size(reported: float | None, unit: Decimal, what: str) -> Decimal | None:
    return None if reported is None else to_decimal(reported, what) * unit
