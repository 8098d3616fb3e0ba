"""The caller states side and quantity: what a web app's trade button needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smart_routing.domain.orders import AccountSnapshot, OrderSide
from smart_routing.domain.signals import SignalType, TradingSignal
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.strategies.base import BaseStrategy, MarketData


class ManualStrategy(BaseStrategy):
    strategy_id = "manual"

    def __init__(
        self, config: Mapping[str, Any] | None = None, policy: RoutingPolicy | None = None
    ) -> None:
        super().__init__(config, policy)
        side = self.config.get("side")
        try:
            self.side = OrderSide(str(side).lower())
        except ValueError:
            raise ValueError(
                f"the manual strategy needs side 'buy' or 'sell', got {side!r}"
            ) from None

    def evaluate(
        self,
        market_data: MarketData,
        account_snapshot: AccountSnapshot | None,
        regime: str | None = None,
    ) -> TradingSignal:
        signal_type = SignalType.BUY if self.side is OrderSide.BUY else SignalType.SELL
        return self.signal(
            signal_type, market_data, confidence=1.0, reasoning=f"Manual {self.side.value}"
        )
