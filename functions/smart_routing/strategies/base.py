"""The strategy contract, and the cost check every strategy runs before it signals."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from smart_routing.assets import AssetClass, detect_asset_class, parse_symbol
from smart_routing.market_data import Bar, Quote
from smart_routing.orders import AccountSnapshot
from smart_routing.routing import SmartRouter, SmartRoutingDecision
from smart_routing.signals import SignalType, TradingSignal

# market_data keys: symbol (required); asset_class; the live quote as `quote` (a Quote) or as
# bid, ask, as_of, source; quote_error (why there is none); bars (list of Bar, oldest first)
# for strategies that declare bars_needed.
MarketData = Mapping[str, Any]


class BaseStrategy(ABC):
    strategy_id: ClassVar[str]
    bars_needed: ClassVar[int] = 0
    needs_account: ClassVar[bool] = False

    def __init__(
        self, config: Mapping[str, Any] | None = None, router: SmartRouter | None = None
    ) -> None:
        self.config = dict(config or {})
        router = router or SmartRouter()
        max_slippage = self.config.get("max_slippage_pct")
        if max_slippage is not None:
            router = SmartRouter(router.policy.with_uniform_threshold(max_slippage), router.clock)
        self.router = router

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

    def cost_decision(self, market_data: MarketData) -> SmartRoutingDecision:
        symbol, asset_class = self._instrument(market_data)
        quote = quote_from(market_data, self.router)
        if quote is None:
            problem = market_data.get("quote_error") or "no quote"
            return self.router.unavailable(symbol, asset_class, problem)
        return self.router.decide(symbol, asset_class, quote)

    def estimate_slippage(self, market_data: MarketData) -> float | None:
        return self.cost_decision(market_data).estimated_slippage

    def should_downgrade_signal(self, market_data: MarketData) -> bool:
        return self.cost_decision(market_data).downgraded

    def checked_signal(
        self,
        signal_type: SignalType,
        market_data: MarketData,
        confidence: float,
        reasoning: str,
    ) -> TradingSignal:
        """A BUY or SELL after the cost check: WAIT when crossing the spread costs too much."""
        symbol, asset_class = self._instrument(market_data)
        decision = self.cost_decision(market_data)
        if decision.downgraded:
            signal_type, reasoning = SignalType.WAIT, f"High transaction costs: {decision.reason}"
        return TradingSignal(
            signal_type=signal_type,
            symbol=symbol,
            asset_class=asset_class,
            confidence=confidence,
            reasoning=reasoning,
            estimated_slippage=decision.estimated_slippage,
            routing=decision,
        )

    def hold(self, market_data: MarketData, reasoning: str) -> TradingSignal:
        symbol, asset_class = self._instrument(market_data)
        return TradingSignal(
            signal_type=SignalType.HOLD, symbol=symbol, asset_class=asset_class, reasoning=reasoning
        )

    @staticmethod
    def _instrument(market_data: MarketData) -> tuple[str, AssetClass]:
        instrument = parse_symbol(market_data["symbol"], market_data.get("asset_class"))
        return instrument.symbol, instrument.asset_class


def quote_from(market_data: MarketData, router: SmartRouter) -> Quote | None:
    """The quote carried in market_data, or None when it has no bid and ask."""
    quote = market_data.get("quote")
    if isinstance(quote, Quote):
        return quote
    bid, ask = market_data.get("bid"), market_data.get("ask")
    if bid is None or ask is None:
        return None
    as_of: datetime = market_data.get("as_of") or router.clock.now()
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
