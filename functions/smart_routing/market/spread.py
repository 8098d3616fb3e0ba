"""The cost of crossing the spread, from a quote that has passed `quote_problem`."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from smart_routing.domain.orders import OrderSide

_TWO = Decimal(2)


def spread_pct(bid: Decimal, ask: Decimal) -> Decimal:
    """(ask - bid) / mid, as a fraction: 0.002 is 0.2%."""
    return (ask - bid) * _TWO / (bid + ask)


def estimate_slippage(bid: Decimal, ask: Decimal) -> Decimal:
    """Expected cost of a marketable order: the half-spread as a fraction of the mid price."""
    return (ask - bid) / (bid + ask)


def exceeds_threshold(spread: Decimal, threshold: Decimal) -> bool:
    """True when the spread is above the threshold; a spread equal to it does not exceed it."""
    return spread > threshold


def format_pct(fraction: Decimal) -> str:
    return f"{fraction:.2%}"


class BookLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    price: float
    size: float


class OrderBook(BaseModel):
    """Depth on each side, best price first."""

    model_config = ConfigDict(frozen=True)

    bids: list[BookLevel]
    asks: list[BookLevel]


def depth_slippage(book: OrderBook, side: OrderSide, qty: float) -> float | None:
    """Cost of filling `qty` by walking the book, as a fraction of the mid price: the half-spread
    for a size the top level holds, more for a size that eats into deeper levels. None when
    the book is empty or too thin to fill the size."""
    if not book.bids or not book.asks or qty <= 0:
        return None
    mid = (book.bids[0].price + book.asks[0].price) / 2
    levels = book.asks if side is OrderSide.BUY else book.bids
    remaining, cost = qty, 0.0
    for level in levels:
        take = min(level.size, remaining)
        cost += take * level.price
        remaining -= take
        if remaining <= 0:
            break
    if remaining > 1e-12:
        return None
    average = cost / qty
    return abs(average - mid) / mid
