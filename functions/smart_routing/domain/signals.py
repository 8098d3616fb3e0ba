"""What a strategy says: buy, sell, hold, or wait because trading now costs too much."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import Amount
from smart_routing.domain.orders import OrderSide


class SignalType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"
    WAIT = "WAIT"  # the strategy itself holds a BUY or SELL back for cost (the gate may too)

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
    estimated_slippage: Amount | None = None

    def summary(self) -> dict[str, object]:
        return self.model_dump(mode="json")
