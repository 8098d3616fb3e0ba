"""What a marketable order pays when it is larger than the size the touch shows.

The recorded quote has one level per side. The touch fills its size S at the touch price;
the rest, Q - S, walks a book we cannot see, priced by square-root impact in units of the
half-spread h:

    beyond = touch + side * h * sqrt((Q - S) / S)
    average price = (S * touch + (Q - S) * beyond) / Q

so twice the touch size costs one more half-spread on the excess, and five times it two.
Without a size (or with a size of 0, which no venue means literally) the whole order fills at
the touch.
"""

from __future__ import annotations

from decimal import Decimal

from smart_routing.domain.orders import OrderSide

_TWO = Decimal(2)


def marketable_price(
    side: OrderSide, bid: Decimal, ask: Decimal, touch_size: Decimal | None, qty: Decimal
) -> Decimal:
    """The average price of `qty` taken from a quote: the touch, and beyond it the impact."""
    buy = side is OrderSide.BUY
    touch = ask if buy else bid
    if touch_size is None or touch_size <= 0 or qty <= touch_size:
        return touch
    excess = qty - touch_size
    half_spread = (ask - bid) / _TWO
    impact = half_spread * (excess / touch_size).sqrt()
    beyond = touch + impact if buy else touch - impact
    return (touch_size * touch + excess * beyond) / qty
