"""Market data across venues: one request per asset class for a batch of symbols, a short
quote cache, and per-class sources (a venue, or the simulated market when it has no keys)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol

from smart_routing.adapters.simulated_market import SimulatedMarket
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.bounded_cache import put_bounded
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


# A quote fetched once for many runs (a scheduled tick's): (source name, asset class, symbol).
SharedQuoteKey = tuple[str, AssetClass, str]
_shared = threading.local()


@contextmanager
def shared_quotes(quotes: Mapping[SharedQuoteKey, Quote | None]) -> Iterator[None]:
    """Within the block, this thread's `get_quote` answers with these quotes (None: the venue
    had none) instead of asking their source; anything else is fetched as usual. Threads, not
    instances: one instance serves several tasks at once, each with its own tick."""
    previous = getattr(_shared, "quotes", None)
    _shared.quotes = quotes
    try:
        yield
    finally:
        _shared.quotes = previous


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
        shared: Mapping[SharedQuoteKey, Quote | None] = getattr(_shared, "quotes", None) or {}
        key = (self.source_name(asset_class), asset_class, symbol)
        if key in shared:
            return shared[key]
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

    def fetch_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        """The symbols' quotes from the class's source, asked now in one request (and cached
        as any fetch is)."""
        return self._fetch(asset_class, symbols)

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
                put_bounded(self._cache, (asset_class, symbol), (fetched_at, quotes.get(symbol)))
        return {symbol: quotes.get(symbol) for symbol in symbols}


def shared_quote_sources(
    providers: Iterable[VenueMarketData], instruments: Iterable[tuple[str, AssetClass]]
) -> dict[SharedQuoteKey, VenueMarketData]:
    """Each quote worth sharing between runs, with a provider that fetches it: one per venue
    source and symbol. The simulated market is asked in-process at no cost: never shared."""
    found: dict[SharedQuoteKey, VenueMarketData] = {}
    wanted = list(dict.fromkeys(instruments))
    for provider in providers:
        for symbol, asset_class in wanted:
            if asset_class not in provider.sources:
                continue
            name = provider.source_name(asset_class)
            if name != SimulatedQuoteSource.name:
                found.setdefault((name, asset_class, symbol), provider)
    return found


def fetch_shared(
    sources: Mapping[SharedQuoteKey, VenueMarketData],
) -> dict[SharedQuoteKey, Quote | None]:
    """The quotes of `sources`, one request per source and asset class, those in parallel. A
    source that fails is left out (each run then asks for itself, and says why it has none)."""
    batches: dict[tuple[str, AssetClass], list[str]] = defaultdict(list)
    providers: dict[tuple[str, AssetClass], VenueMarketData] = {}
    for (name, asset_class, symbol), provider in sources.items():
        batches[(name, asset_class)].append(symbol)
        providers[(name, asset_class)] = provider
    if not batches:
        return {}
    fetched: dict[SharedQuoteKey, Quote | None] = {}
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        futures = {
            batch: pool.submit(providers[batch].fetch_quotes, batch[1], symbols)
            for batch, symbols in batches.items()
        }
        for (name, asset_class), future in futures.items():
            try:
                quotes = future.result()
            except Exception:  # each run asks again and its decision says why
                continue
            fetched.update({(name, asset_class, s): q for s, q in quotes.items()})
    return fetched
