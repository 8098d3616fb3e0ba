"""The strategy contract. A strategy says what it wants (BUY, SELL, HOLD); whether that becomes
an order is the gate's decision (smart_routing.gate.router), shown beside the signal, never folded
into it. `estimate_slippage` and `should_downgrade_signal` remain for strategies that want to
look at cost themselves (the seed's API)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from smart_routing.domain.assets import AssetClass, detect_asset_class, parse_symbol
from smart_routing.domain.money import to_decimal
from smart_routing.domain.orders import AccountSnapshot
from smart_routing.domain.signals import SignalType, TradingSignal
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.market.quotes import Bar, Quote, quote_problem
from smart_routing.market.spread import estimate_slippage, exceeds_threshold, spread_pct

# market_data keys: symbol (required); asset_class; the live quote as `quote` (a Quote) or as
# bid, ask, as_of, source; quote_error (why there is none); bars (list of Bar, oldest first)
# for strategies that declare bars_needed.
MarketData = Mapping[str, Any]


class BaseStrategy(ABC):
    strategy_id: ClassVar[str]
    bars_needed: ClassVar[int] = 0
    needs_account: ClassVar[bool] = False

    def __init__(
        self, config: Mapping[str, Any] | None = None, policy: RoutingPolicy | None = None
    ) -> None:
        self.config = dict(config or {})
        self.policy = policy or RoutingPolicy()
        max_slippage = self.config.get("max_slippage_pct")
        self.max_spread_pct: Decimal | None = None
        if max_slippage is not None:
            self.max_spread_pct = to_decimal(max_slippage, "max_slippage_pct")
            if not 0 <= self.max_spread_pct <= 1:
                raise ValueError(f"max_slippage_pct must be between 0 and 1, got {max_slippage}")

    @abstractmethod
    def evaluate(
        self,
        market_data: MarketData,
        account_snapshot: AccountSnapshot | None,
        regime: str | None = None,
    ) -> TradingSignal: ...

    @staticmethod
    def detect_asset_class(symbol: str) -> AssetClass:
        return detect_asset_class(symbol)

    def estimate_slippage(self, market_data: MarketData) -> Decimal | None:
        """The half-spread as a fraction of the mid, or None without a usable quote."""
        quote = self._usable_quote(market_data)
        return None if quote is None else estimate_slippage(quote.bid, quote.ask)

    def should_downgrade_signal(self, market_data: MarketData) -> bool:
        """Whether the spread is above this strategy's threshold (the strictest of the class's
        and its own max_slippage_pct). The gate makes the real decision."""
        quote = self._usable_quote(market_data)
        if quote is None:
            return False
        _, asset_class = self._instrument(market_data)
        threshold = self.policy.threshold_for(asset_class, self.max_spread_pct)
        return exceeds_threshold(spread_pct(quote.bid, quote.ask), threshold.value)

    def signal(
        self,
        signal_type: SignalType,
        market_data: MarketData,
        confidence: float,
        reasoning: str,
    ) -> TradingSignal:
        """A BUY or SELL as the strategy means it, with the cost it expects to pay."""
        symbol, asset_class = self._instrument(market_data)
        return TradingSignal(
            signal_type=signal_type,
            symbol=symbol,
            asset_class=asset_class,
            confidence=confidence,
            reasoning=reasoning,
            estimated_slippage=self.estimate_slippage(market_data),
        )

    def _usable_quote(self, market_data: MarketData) -> Quote | None:
        quote = quote_from(market_data)
        if quote is None:
            return None
        # Prices only: how old the quote is, the gate judges on the engine's clock.
        problem = quote_problem(quote, quote.as_of, self.policy.max_quote_age_s)
        return None if problem else quote

    def hold(self, market_data: MarketData, reasoning: str) -> TradingSignal:
        symbol, asset_class = self._instrument(market_data)
        return TradingSignal(
            signal_type=SignalType.HOLD, symbol=symbol, asset_class=asset_class, reasoning=reasoning
        )

    @staticmethod
    def _instrument(market_data: MarketData) -> tuple[str, AssetClass]:
        instrument = parse_symbol(market_data["symbol"], market_data.get("asset_class"))
        return instrument.symbol, instrument.asset_class


def quote_from(market_data: MarketData) -> Quote | None:
    """The quote carried in market_data, or None when it has no bid and ask."""
    quote = market_data.get("quote")
    if isinstance(quote, Quote):
        return quote
    bid, ask = market_data.get("bid"), market_data.get("ask")
    if bid is None or ask is None:
        return None
    as_of: datetime = market_data.get("as_of") or datetime.now(UTC)
    return Quote(
        symbol=market_data["symbol"],
        bid=bid,
        ask=ask,
        as_of=as_of,
        source=market_data.get("source", "market_data"),
    )


def closes(market_data: MarketData) -> list[float]:
    bars: list[Bar] = market_data.get("bars") or []
    return [bar.close for bar in bars]
