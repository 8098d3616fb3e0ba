"""What recent bars and the book say about a symbol beyond its quote: the market context the
engine fetches before the gate decides (docs/cost-model.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from smart_routing.domain.assets import AssetClass
from smart_routing.market.quotes import Bar, Quote
from smart_routing.market.spread import OrderBook

# Minutes in one trading day of each class: how one-minute figures scale to daily ones.
TRADING_MINUTES_PER_DAY = {
    AssetClass.EQUITY: 390.0,
    AssetClass.OPTIONS: 390.0,
    AssetClass.FOREX: 1440.0,
    AssetClass.CRYPTO: 1440.0,
}
# Classes whose bar volume is not a traded quantity (OANDA's candle volume counts price ticks).
NO_UNIT_VOLUME = frozenset({AssetClass.FOREX})
MIN_RETURNS = 5  # fewer one-minute returns than this give no sigma


@dataclass(frozen=True, slots=True)
class MarketStats:
    """What recent bars say about a symbol; computed once per symbol and cached."""

    bars: int
    sigma_per_minute: Decimal | None  # stdev of one-minute log returns
    sigma_daily: Decimal | None  # sigma_per_minute * sqrt(trading minutes per day)
    adv: Decimal | None  # average daily volume in the instrument's units; None: no volume


@dataclass(frozen=True, slots=True)
class MarketContext:
    """Everything beyond the quote the gate prices an order with, fetched beforehand."""

    stats: MarketStats | None = None
    book: OrderBook | None = None
    typical_spread_pct: Decimal | None = None  # this symbol's usual spread in this session
    typical_source: str = "none observed"
    stats_error: str | None = None  # why there are no stats, when there are none
    # The last quote this instance found usable for the symbol: a reference price that sizes
    # an order when no usable quote is at hand (never one that judges its cost).
    last_quote: Quote | None = None


def stats_from_bars(bars: Sequence[Bar], asset_class: AssetClass) -> MarketStats:
    """Sigma from the log returns between consecutive bars, each scaled to one minute by its
    gap (a minute without trades has no bar); ADV from the volume over the minutes spanned."""
    per_day = TRADING_MINUTES_PER_DAY[asset_class]
    ordered = sorted(bars, key=lambda b: b.start)
    scaled = []
    for before, after in pairwise(ordered):
        minutes = (after.start - before.start).total_seconds() / 60
        if minutes > 0 and before.close > 0 and after.close > 0:
            scaled.append(math.log(after.close / before.close) / math.sqrt(minutes))
    sigma = _stdev(scaled) if len(scaled) >= MIN_RETURNS else None
    adv = None
    if ordered and asset_class not in NO_UNIT_VOLUME:
        span = (ordered[-1].start - ordered[0].start).total_seconds() / 60 + 1
        volume = sum(b.volume for b in ordered if math.isfinite(b.volume) and b.volume > 0)
        adv = volume / span * per_day if volume > 0 else None
    return MarketStats(
        bars=len(ordered),
        sigma_per_minute=_decimal(sigma),
        sigma_daily=None if sigma is None else _decimal(sigma * math.sqrt(per_day)),
        adv=_decimal(adv),
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _stdev(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
