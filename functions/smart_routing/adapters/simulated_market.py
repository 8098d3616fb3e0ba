"""A deterministic market for all four asset classes: the default when no venue is configured.

Every symbol gets a price (known symbols a realistic one, others one derived from the symbol),
a spread typical of its asset class, and a reproducible history of one-minute bars that ends at
that price. Tests and demos can set any quote or bar series.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from datetime import timedelta

from smart_routing.adapters.clock import SystemClock
from smart_routing.config.engine_config import EngineConfig
from smart_routing.domain.assets import AssetClass
from smart_routing.market.quotes import Bar, Quote
from smart_routing.market.spread import OrderBook
from smart_routing.ports import Clock

SOURCE = "simulated"

KNOWN_PRICES = {
    "AAPL": 190.0,
    "MSFT": 420.0,
    "SPY": 555.0,
    "TSLA": 250.0,
    "EUR/USD": 1.10,
    "GBP/USD": 1.27,
    "USD/JPY": 150.0,
    "BTC/USD": 50_000.0,
    "ETH/USD": 3_000.0,
    "SOL/USD": 150.0,
}

# Typical full spreads as a fraction of price, well inside the default thresholds.
TYPICAL_SPREAD = {
    AssetClass.EQUITY: 0.0002,
    AssetClass.FOREX: 0.00005,
    AssetClass.CRYPTO: 0.0005,
    AssetClass.OPTIONS: 0.02,
}

# What the touch shows on each side of a computed quote: an order larger than this fills this
# much at once on the paper venue and works the rest. Crypto shows a notional's worth.
TOUCH_SIZE = {
    AssetClass.EQUITY: 1_000.0,
    AssetClass.FOREX: 1_000_000.0,
    AssetClass.OPTIONS: 50.0,
}
CRYPTO_TOUCH_NOTIONAL = 250_000.0

# What a one-minute bar trades: a liquid large cap's volume (about 20 million shares a day), a
# busy option series; crypto a notional's worth. Forex bars count ticks, not units.
MINUTE_VOLUME = {
    AssetClass.EQUITY: 50_000.0,
    AssetClass.OPTIONS: 200.0,
    AssetClass.FOREX: 1_000.0,
}
CRYPTO_MINUTE_NOTIONAL = 2_000_000.0

_PRICE_RANGE = {
    AssetClass.EQUITY: (20.0, 500.0),
    AssetClass.FOREX: (0.5, 2.0),
    AssetClass.CRYPTO: (0.5, 5_000.0),
    AssetClass.OPTIONS: (0.5, 25.0),
}
_BAR_COUNT = 60


class SimulatedMarket:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._quotes: dict[str, tuple[float, float, float | None] | None] = {}
        self._closes: dict[str, list[float]] = {}

    def set_quote(self, symbol: str, bid: float, ask: float, size: float | None = None) -> None:
        """A fixed quote; `size` (both sides) is what the touch shows, None for no limit."""
        self._quotes[symbol] = (bid, ask, size)

    def remove_quote(self, symbol: str) -> None:
        """From now on the symbol has no quote, as with a halted instrument."""
        self._quotes[symbol] = None

    def set_closes(self, symbol: str, closes: list[float]) -> None:
        self._closes[symbol] = list(closes)

    def get_quote(self, symbol: str, asset_class: AssetClass) -> Quote | None:
        if symbol in self._quotes:
            touch = self._quotes[symbol]
            if touch is None:
                return None
            bid, ask, size = touch
        else:
            mid = self._last_close(symbol, asset_class)
            half = mid * TYPICAL_SPREAD[asset_class] / 2
            digits = _price_digits(asset_class, mid)
            bid, ask = round(mid - half, digits), round(mid + half, digits)
            size = _touch_size(asset_class, mid)
        return Quote(
            symbol=symbol, bid=bid, ask=ask, as_of=self.clock.now(), source=SOURCE,
            bid_size=size, ask_size=size,
        )  # fmt: skip

    def prefetch(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        return None  # every quote is computed on demand

    def get_order_book(self, symbol: str, asset_class: AssetClass) -> OrderBook | None:
        return None  # the simulation has no depth

    def get_bars(self, symbol: str, asset_class: AssetClass, limit: int) -> list[Bar]:
        closes = self._closes.get(symbol) or _random_walk(symbol, _base_price(symbol, asset_class))
        closes = closes[-limit:]
        volume = _minute_volume(asset_class, closes[-1])
        end = self.clock.now().replace(second=0, microsecond=0)
        bars = []
        previous = closes[0]
        for age, close in zip(range(len(closes) - 1, -1, -1), closes, strict=True):
            bars.append(
                Bar(
                    start=end - timedelta(minutes=age),
                    open=previous,
                    high=max(previous, close),
                    low=min(previous, close),
                    close=close,
                    volume=volume,
                )
            )
            previous = close
        return bars

    def _last_close(self, symbol: str, asset_class: AssetClass) -> float:
        closes = self._closes.get(symbol)
        return closes[-1] if closes else _base_price(symbol, asset_class)


def simulated_market(config: EngineConfig, clock: Clock) -> SimulatedMarket:
    """The simulated market with the configured fixed quotes and halted symbols."""
    market = SimulatedMarket(clock)
    for symbol, (bid, ask, size) in config.simulated_quotes.items():
        market.set_quote(symbol, bid, ask, size)
    for symbol in config.simulated_halted:
        market.remove_quote(symbol)
    return market


def _seed(symbol: str) -> int:
    return int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")


def _base_price(symbol: str, asset_class: AssetClass) -> float:
    if symbol in KNOWN_PRICES:
        return KNOWN_PRICES[symbol]
    low, high = _PRICE_RANGE[asset_class]
    return round(random.Random(_seed(symbol)).uniform(low, high), 2)


def _touch_size(asset_class: AssetClass, mid: float) -> float:
    if asset_class is AssetClass.CRYPTO:
        return round(CRYPTO_TOUCH_NOTIONAL / mid, 4)
    return TOUCH_SIZE[asset_class]


def _minute_volume(asset_class: AssetClass, price: float) -> float:
    if asset_class is AssetClass.CRYPTO:
        return round(CRYPTO_MINUTE_NOTIONAL / price, 4)
    return MINUTE_VOLUME[asset_class]


def _random_walk(symbol: str, last: float) -> list[float]:
    """A reproducible walk with a per-symbol drift, ending exactly at `last`."""
    rng = random.Random(_seed(symbol) + 1)
    drift = rng.uniform(-0.001, 0.001)
    steps = [drift + rng.gauss(0, 0.0005) for _ in range(_BAR_COUNT - 1)]
    closes = [last]
    for step in reversed(steps):
        closes.append(closes[-1] / (1 + step))
    return list(reversed(closes))


def _price_digits(asset_class: AssetClass, price: float) -> int:
    """Decimals of a tick that fits the price level: cents for equities, pips for FX (three
    decimals for JPY-sized prices)."""
    if asset_class is AssetClass.FOREX:
        return 3 if price >= 10 else 5
    if asset_class is AssetClass.OPTIONS:
        return 2
    return 2 if price >= 10 else 5
