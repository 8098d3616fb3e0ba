"""The market context the engine hands the gate: bar statistics (cached per instance and
symbol), the order book where the venue has one, and the spreads this instance has seen.

The gate stays pure: everything here is fetched or remembered before it decides.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.bounded_cache import put_bounded
from smart_routing.market.context import MarketContext, MarketStats, stats_from_bars
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.market.sessions import Session
from smart_routing.market.spread import OrderBook
from smart_routing.ports import Clock, MarketDataProvider

DEFAULT_BAR_COUNT = 60  # one hour of one-minute bars
DEFAULT_STATS_TTL_S = 300.0  # sigma and ADV move slowly: one fetch per symbol per 5 minutes
SPREAD_WEIGHT = Decimal("0.2")  # weight of the newest spread in the running mean
_PREFETCH_WORKERS = 4


class MarketContextCache:
    """Per instance, thread-safe: stats per symbol for `stats_ttl_s`, and per symbol and
    session an exponentially weighted mean of the spreads of the usable quotes seen."""

    def __init__(
        self,
        market_data: MarketDataProvider,
        clock: Clock,
        *,
        max_quote_age_s: float,
        bar_count: int = DEFAULT_BAR_COUNT,
        stats_ttl_s: float = DEFAULT_STATS_TTL_S,
    ) -> None:
        self.market_data, self.clock = market_data, clock
        self.max_quote_age_s, self.bar_count, self.stats_ttl_s = (
            max_quote_age_s,
            bar_count,
            stats_ttl_s,
        )
        self._stats: dict[tuple[str, AssetClass], tuple[float, MarketStats | None, str | None]]
        self._stats = {}
        self._spreads: dict[tuple[str, Session], tuple[Decimal, int]] = {}
        self._last_quotes: dict[str, Quote] = {}
        self._lock = threading.Lock()

    def prefetch(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        """Fetch the bars of every symbol whose stats are stale, a few symbols at a time."""
        stale = [i for i in dict.fromkeys(instruments) if self._fresh(*i) is None]
        if not stale:
            return
        with ThreadPoolExecutor(max_workers=min(_PREFETCH_WORKERS, len(stale))) as pool:
            list(pool.map(lambda i: self._fetch_stats(*i), stale))

    def context(
        self, symbol: str, asset_class: AssetClass, quote: Quote | None, session: Session
    ) -> MarketContext:
        """The context for one decision; then the quote's spread joins what was seen."""
        cached = self._fresh(symbol, asset_class) or self._fetch_stats(symbol, asset_class)
        _, stats, error = cached
        typical = self._spreads.get((symbol, session))
        last_quote = self._last_quotes.get(symbol)
        if quote is not None:
            self._observe(symbol, session, quote)
        return MarketContext(
            stats=stats,
            book=self._book(symbol, asset_class),
            typical_spread_pct=None if typical is None else typical[0],
            typical_source=(
                "none observed"
                if typical is None
                else f"running mean of {typical[1]} spreads seen in {session}"
            ),
            stats_error=error,
            last_quote=last_quote,
        )

    def _fresh(
        self, symbol: str, asset_class: AssetClass
    ) -> tuple[float, MarketStats | None, str | None] | None:
        entry = self._stats.get((symbol, asset_class))
        now = self.clock.now().timestamp()
        return entry if entry is not None and now - entry[0] <= self.stats_ttl_s else None

    def _fetch_stats(
        self, symbol: str, asset_class: AssetClass
    ) -> tuple[float, MarketStats | None, str | None]:
        stats, error = None, None
        try:
            bars = self.market_data.get_bars(symbol, asset_class, self.bar_count)
            stats = stats_from_bars(bars, asset_class) if bars else None
            error = None if bars else "no bars"
        except Exception as exc:  # no bars: the gate falls back to the spread rule, and says so
            error = f"bars unavailable ({type(exc).__name__}: {exc})"
        entry = (self.clock.now().timestamp(), stats, error)
        with self._lock:
            put_bounded(self._stats, (symbol, asset_class), entry)
        return entry

    def _book(self, symbol: str, asset_class: AssetClass) -> OrderBook | None:
        try:
            return self.market_data.get_order_book(symbol, asset_class)
        except Exception:  # no depth: the touch size or the impact model prices the size
            return None

    def _observe(self, symbol: str, session: Session, quote: Quote) -> None:
        if quote_problem(quote, self.clock.now(), self.max_quote_age_s) is not None:
            return
        spread = (quote.ask - quote.bid) * 2 / (quote.ask + quote.bid)
        key = (symbol, session)
        with self._lock:
            put_bounded(self._last_quotes, symbol, quote)
            seen = self._spreads.get(key)
            if seen is None:
                put_bounded(self._spreads, key, (spread, 1))
            else:
                mean, count = seen
                put_bounded(self._spreads, key, (mean + SPREAD_WEIGHT * (spread - mean), count + 1))
