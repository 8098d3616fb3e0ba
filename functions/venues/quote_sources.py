"""Market data across venues: one request per asset class for a batch of symbols, a short
quote cache, and per-class sources (a venue, or the simulated market when it has no keys)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.market.quotes import Bar, Quote
from smart_routing.market.spread import OrderBook
from smart_routing.ports import Clock


class QuoteSource(Protocol):
    name: str

    def latest_quotes(
        self, asset_class: AssetClass, symbols: list[str]
    ) -> dict[str, Quote | None]: ...

    def bars(self, asset_class: AssetClass, symbol: str, limit: int) -> list[Bar]: ...

    def order_book(self, asset_class: AssetClass, symbol: str) -> OrderBook | None:
        """Depth where the venue publishes it for the class; None elsewhere."""
        ...


class SimulatedQuoteSource:
    name = "simulated"

    def __init__(self, market: SimulatedMarket) -> None:
        self.market = market

    def latest_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        return {symbol: self.market.get_quote(symbol, asset_class) for symbol in symbols}

    def bars(self, asset_class: AssetClass, symbol: str, limit: int) -> list[Bar]:
        return self.market.get_bars(symbol, asset_class, limit)

    def order_book(self, asset_class: AssetClass, symbol: str) -> OrderBook | None:
        return self.market.get_order_book(symbol, asset_class)


class VenueMarketData:
    """The MarketDataProvider the engine sees when venues are configured.

    Quotes are cached for `ttl_s` by the time they were fetched (the quote keeps the venue's
    own timestamp for the router's age check), so a scheduled run over many strategies on
    one symbol fetches it once.
    """

    def __init__(self, sources: dict[AssetClass, QuoteSource], clock: Clock, ttl_s: float) -> None:
        self.sources = sources
        self.clock = clock
        self.ttl_s = ttl_s
        self._cache: dict[tuple[AssetClass, str], tuple[float, Quote | None]] = {}
        self._lock = threading.Lock()

    def source_name(self, asset_class: AssetClass) -> str:
        return self.sources[asset_class].name

    def get_quote(self, symbol: str, asset_class: AssetClass) -> Quote | None:
        cached = self._fresh(asset_class, symbol)
        if cached is not None:
            return cached[1]
        return self._fetch(asset_class, [symbol])[symbol]

    def prefetch(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        """Fetch every stale quote: one request per asset class, the classes in parallel.
        A failing class is left uncached: its get_quote will fail and the fail mode decides."""
        wanted: dict[AssetClass, list[str]] = defaultdict(list)
        for symbol, asset_class in instruments:
            if self._fresh(asset_class, symbol) is None and symbol not in wanted[asset_class]:
                wanted[asset_class].append(symbol)
        if not wanted:
            return
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            for future in [pool.submit(self._fetch, c, s) for c, s in wanted.items()]:
                try:
                    future.result()
                except Exception:  # reported when the quote is asked for
                    continue

    def get_bars(self, symbol: str, asset_class: AssetClass, limit: int) -> list[Bar]:
        return self.sources[asset_class].bars(asset_class, symbol, limit)

    def get_order_book(self, symbol: str, asset_class: AssetClass) -> OrderBook | None:
        return self.sources[asset_class].order_book(asset_class, symbol)

    def _fresh(self, asset_class: AssetClass, symbol: str) -> tuple[float, Quote | None] | None:
        entry = self._cache.get((asset_class, symbol))
        now = self.clock.now().timestamp()
        return entry if entry is not None and now - entry[0] <= self.ttl_s else None

    def _fetch(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        quotes = self.sources[asset_class].latest_quotes(asset_class, symbols)
        fetched_at = self.clock.now().timestamp()
        with self._lock:
            for symbol in symbols:
                self._cache[(asset_class, symbol)] = (fetched_at, quotes.get(symbol))
        return {symbol: quotes.get(symbol) for symbol in symbols}
