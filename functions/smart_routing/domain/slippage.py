"""Transaction cost analysis of each fill against the quote its decision saw.

realized_slippage_pct = side * (fill price - arrival mid) / arrival mid, with side +1 for a buy
and -1 for a sell: positive is a cost (bought above, or sold below, the mid at the decision).
decision_to_fill_ms is the time from the gate's decision to the fill; effective_spread_pct
compares the fill with the mid of the quote at the fill itself, where the venue gives it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from smart_routing.domain.money import Amount

PCT_PLACES = Decimal("1e-10")  # a fraction, to a millionth of a basis point


class Arrival(BaseModel):
    """What the decision saw: the quote's mid and spread, and when it decided."""

    model_config = ConfigDict(frozen=True)

    mid: Amount
    spread_pct: Amount | None
    decided_at: AwareDatetime


def realized_slippage_pct(side: str, price: Decimal, mid: Decimal) -> Decimal:
    """`side` is an OrderSide ("buy" or "sell"; orders.py imports this module)."""
    sign = 1 if side == "buy" else -1
    return (sign * (price - mid) / mid).quantize(PCT_PLACES)


def effective_spread_pct(side: str, price: Decimal, mid_at_fill: Decimal) -> Decimal:
    """2 * side * (fill price - mid at the fill) / mid at the fill: the spread the fill
    actually paid, on the scale of the quoted spread (a fill at the touch gives the quoted
    spread; price improvement gives less)."""
    sign = 1 if side == "buy" else -1
    return (2 * sign * (price - mid_at_fill) / mid_at_fill).quantize(PCT_PLACES)


def decision_to_fill_ms(decided_at: datetime, filled_at: datetime) -> int:
    return max(0, round((filled_at - decided_at).total_seconds() * 1000))


def markout_pct(side: str, price: Decimal, mid_after: Decimal) -> Decimal:
    """side * (mid after the fill - fill price) / fill price: positive when the market moved
    the trade's way after it (bought below where the mid went), negative when it moved
    against it (the fill was picked off)."""
    sign = 1 if side == "buy" else -1
    return (sign * (mid_after - price) / price).quantize(PCT_PLACES)
