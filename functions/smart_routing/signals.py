"""What a strategy says: buy, sell, hold, or wait because trading now costs too much."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.assets import AssetClass
from smart_routing.orders import OrderSide
from smart_routing.routing import SmartRoutingDecision


class SignalType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"
    WAIT = "WAIT"  # a BUY or SELL held back because crossing the spread costs too much

    @property
    def order_side(self) -> OrderSide | None:
        return {SignalType.BUY: OrderSide.BUY, SignalType.SELL: OrderSide.SELL}.get(self)


class TradingSignal(BaseModel):
    model_config = ConfigDict(frozen=True)

    signal_type: SignalType
    symbol: str
    asset_class: AssetClass
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    reasoning: str = ""
    estimated_slippage: float | None = None
    # The cost check the strategy ran before it signalled, when it ran one.
    routing: SmartRoutingDecision | None = Field(default=None, exclude=True)

    def summary(self) -> dict[str, object]:
        return self.model_dump(mode="json")
