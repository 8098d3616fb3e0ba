"""Trend following on recent bars: buy above the moving average, sell below it."""

from __future__ import annotations

from collections.abc import Mapping
from statistics import fmean
from typing import Any

from smart_routing.domain.orders import AccountSnapshot
from smart_routing.domain.signals import SignalType, TradingSignal
from smart_routing.gate.policy import RoutingPolicy
from smart_routing.strategies.base import BaseStrategy, MarketData, closes


class MomentumStrategy(BaseStrategy):
    """BUY when the last close is `band` above the mean of the last `lookback` closes, SELL
    (only what is held) when it is `band` below, HOLD otherwise."""

    strategy_id = "crypto_momentum"
    bars_needed = 20
    needs_account = True

    def __init__(
        self, config: Mapping[str, Any] | None = None, policy: RoutingPolicy | None = None
    ) -> None:
        super().__init__(config, policy)
        self.lookback = int(self.config.get("lookback", self.bars_needed))
        self.band = float(self.config.get("band", 0.01))
        if self.lookback < 2:
            raise ValueError(f"lookback must be at least 2, got {self.lookback}")
        if not 0 < self.band < 1:
            raise ValueError(f"band must be between 0 and 1, got {self.band}")

    def evaluate(
        self,
        market_data: MarketData,
        account_snapshot: AccountSnapshot | None,
        regime: str | None = None,
    ) -> TradingSignal:
        recent = closes(market_data)[-self.lookback :]
        if len(recent) < self.lookback:
            return self.hold(market_data, f"Need {self.lookback} bars, have {len(recent)}")
        average, last = fmean(recent), recent[-1]
        move = last / average - 1
        confidence = min(1.0, abs(move) / (4 * self.band))
        trend = f"last close {last:g} is {move:+.2%} from its {self.lookback}-bar mean"
        if move > self.band:
            return self.signal(SignalType.BUY, market_data, confidence, f"Uptrend: {trend}")
        if move < -self.band:
            held = account_snapshot.position_qty(market_data["symbol"]) if account_snapshot else 0
            if held <= 0:
                return self.hold(market_data, f"Downtrend but nothing held: {trend}")
            return self.signal(SignalType.SELL, market_data, confidence, f"Downtrend: {trend}")
        return self.hold(market_data, f"No trend: {trend}")
