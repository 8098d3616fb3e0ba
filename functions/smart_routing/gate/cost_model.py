"""What an order of this size costs to cross now, and what waiting one interval is expected to
cost instead (docs/cost-model.md has the formulas and worked examples).

Estimates, not money, as fractions of the mid price (0.001 is 0.1%). Kept as Decimals so the
gate compares them with its Decimal thresholds without a float conversion on the hot path;
the square-root impact and the bar statistics are computed in floats and converted once.

    spread_cost  the half-spread, or the book walked for the quantity (average price vs mid)
    impact       Y * sigma_daily * sqrt(Q / ADV) when the quantity is beyond the depth shown
                 (the square-root law; Y of order 1), else 0
    fees         the fee model's estimate / notional
    crossing     spread_cost + impact + fees
    effective    2 * (spread_cost + impact): the spread the order pays, compared with the
                 threshold (for a size the touch holds it is the quoted spread)
    drift        sigma_per_minute * sqrt(interval_minutes): one standard deviation of the price
                 move a wait of the scheduling interval risks
    waiting      crossing - half_spread_now + typical_half_spread + drift
    verdict      WAIT when crossing > waiting, i.e. when the spread's excess over the typical
                 spread for the session is larger than the drift the wait risks
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smart_routing.domain.money import Amount
from smart_routing.domain.orders import OrderSide
from smart_routing.market.context import MarketStats
from smart_routing.market.spread import OrderBook, depth_slippage


def square_root_impact(y: float, sigma_daily: float, qty: float, adv: float) -> float:
    """Y * sigma_daily * sqrt(Q / ADV)."""
    return y * sigma_daily * math.sqrt(qty / adv)


@dataclass(frozen=True, slots=True)
class SizeCost:
    spread_cost_pct: float  # half-spread, or the walked book's average price vs mid
    impact_pct: float
    depth: str  # what priced the size


def size_cost(
    *,
    half_spread: float,
    qty: float,
    side: OrderSide,
    touch_size: float | None,
    book: OrderBook | None,
    stats: MarketStats | None,
    impact_y: float,
) -> SizeCost:
    """The book where there is one and it holds the size; the touch where its size is known
    and holds it; beyond them the square-root model where bars gave sigma and ADV; else the
    half-spread alone (the notional cap bounds such orders)."""
    if book is not None:
        walked = depth_slippage(book, side, qty)
        if walked is not None:
            levels = len(book.asks if side is OrderSide.BUY else book.bids)
            return SizeCost(walked, 0.0, f"order book ({levels} levels)")
        beyond = "beyond the order book"
    elif touch_size is not None and qty <= touch_size:
        return SizeCost(half_spread, 0.0, "touch size")
    else:
        beyond = "beyond the touch size" if touch_size is not None else "no depth shown"
    if stats is None or stats.sigma_daily is None or stats.adv is None:
        return SizeCost(half_spread, 0.0, f"{beyond}; no volume for the impact model")
    impact = square_root_impact(impact_y, float(stats.sigma_daily), qty, float(stats.adv))
    return SizeCost(half_spread, impact, f"{beyond}: square-root impact")


@dataclass(frozen=True, kw_only=True)
class CostModel:
    """The terms of the gate's cost decision, as the decision shows them (JSON numbers). A
    value, like the decision that carries it (see SmartRoutingDecision.from_fields)."""

    session: str
    threshold_pct: Amount
    spread_pct: Amount
    spread_cost_pct: Amount
    impact_pct: Amount
    fees_pct: Amount
    crossing_cost_pct: Amount
    effective_spread_pct: Amount
    depth: str
    impact_y: float
    # The size at the touch the order would cross, in the instrument's units (shares, coins,
    # contracts, forex units); None when the venue shows none.
    touch_size: Amount | None = None
    bars: int = 0
    sigma_per_minute: Amount | None = None
    sigma_daily: Amount | None = None
    adv: Amount | None = None
    participation: Amount | None = None
    wait_interval_s: float
    typical_spread_pct: Amount | None = None
    typical_source: str = "none observed"
    drift_pct: Amount | None = None
    wait_cost_pct: Amount | None = None
    rule: str = "spread"  # what decided: spread, threshold, volatility, or a fallback said so
    verdict: str = ""

    @classmethod
    def from_terms(cls, terms: dict[str, Any]) -> CostModel:
        """The gate's fast path: the model over `terms` (field names only, each already valid),
        which the caller hands over and never touches again."""
        model = object.__new__(cls)
        object.__setattr__(model, "__dict__", terms)
        return model
