"""A paper broker: fills marketable orders at the touch and keeps cash and positions.

Buys fill at the ask and sells at the bid of the market data it is given. A limit order that is
not marketable rests as accepted and is never filled later: this broker does no matching.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime

from smart_routing.assets import AssetClass, contract_multiplier
from smart_routing.clock import SystemClock
from smart_routing.errors import OrderRejected, VenueUnavailable
from smart_routing.market_data import quote_problem
from smart_routing.orders import (
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)
from smart_routing.ports import Clock, MarketDataProvider

# Forex is traded on margin and may go short; the others sell only what is held.
_SHORTABLE = {AssetClass.FOREX}
_MAX_QUOTE_AGE_S = 60.0


class PaperBroker:
    name = "paper"

    def __init__(
        self,
        market_data: MarketDataProvider,
        clock: Clock | None = None,
        starting_cash: float = 1_000_000.0,
    ) -> None:
        self.market_data = market_data
        self.clock = clock or SystemClock()
        self._cash = starting_cash
        self._positions: dict[str, Position] = {}
        self._orders: dict[str, Order] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit_order(self, request: OrderRequest) -> Order:
        with self._lock:
            existing = self._orders.get(request.client_order_id)
            if existing is not None:
                return existing
            price = self._fill_price(request)
            order = self._fill(request, price) if price is not None else self._rest(request)
            self._orders[request.client_order_id] = order
            return order

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def get_account(self) -> AccountSnapshot:
        with self._lock:
            return AccountSnapshot(
                cash=self._cash,
                buying_power=max(self._cash, 0.0),
                positions=dict(self._positions),
                as_of=self.clock.now(),
            )

    def _fill_price(self, request: OrderRequest) -> float | None:
        """The touch price a marketable order fills at, or None for a resting limit order."""
        try:
            quote = self.market_data.get_quote(request.symbol, request.asset_class)
        except Exception as exc:  # no price, no fill: the order is certainly not placed
            raise VenueUnavailable(f"paper broker has no market data: {exc}") from exc
        if quote is None:
            raise VenueUnavailable(f"paper broker has no quote for {request.symbol}")
        problem = quote_problem(quote, self.clock.now(), _MAX_QUOTE_AGE_S)
        if problem is not None:
            raise VenueUnavailable(f"paper broker cannot price {request.symbol}: {problem}")
        buying = request.side is OrderSide.BUY
        touch = quote.ask if buying else quote.bid
        if request.order_type is OrderType.LIMIT:
            limit = request.limit_price
            assert limit is not None  # OrderIntent requires it for limit orders
            marketable = limit >= touch if buying else limit <= touch
            if not marketable:
                return None
        return touch

    def _fill(self, request: OrderRequest, price: float) -> Order:
        multiplier = contract_multiplier(request.asset_class)
        notional = request.qty * price * multiplier
        held = self._positions.get(request.symbol)
        held_qty = held.qty if held else 0.0
        if request.side is OrderSide.BUY and notional > self._cash:
            raise OrderRejected(
                f"insufficient buying power: order needs {notional:,.2f}, cash is {self._cash:,.2f}"
            )
        if (
            request.side is OrderSide.SELL
            and request.asset_class not in _SHORTABLE
            and request.qty > held_qty + 1e-12
        ):
            raise OrderRejected(
                f"insufficient position: selling {request.qty:g} {request.symbol}, "
                f"holding {held_qty:g}"
            )
        signed = request.qty if request.side is OrderSide.BUY else -request.qty
        self._cash -= signed * price * multiplier
        self._positions[request.symbol] = _moved(held, request, signed, price)
        if abs(self._positions[request.symbol].qty) < 1e-12:
            del self._positions[request.symbol]
        now = self.clock.now()
        return self._order(request, OrderStatus.FILLED, request.qty, price, now)

    def _rest(self, request: OrderRequest) -> Order:
        return self._order(request, OrderStatus.ACCEPTED, 0.0, None, None)

    def _order(
        self,
        request: OrderRequest,
        status: OrderStatus,
        filled_qty: float,
        price: float | None,
        filled_at: datetime | None,
    ) -> Order:
        return Order(
            broker=self.name,
            broker_order_id=f"paper-{next(self._ids):08d}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            asset_class=request.asset_class,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            limit_price=request.limit_price,
            status=status,
            filled_qty=filled_qty,
            filled_avg_price=price,
            submitted_at=self.clock.now(),
            filled_at=filled_at,
        )


def _moved(held: Position | None, request: OrderRequest, signed: float, price: float) -> Position:
    """The position after a fill. Adding moves the average price; reducing keeps it."""
    old_qty = held.qty if held else 0.0
    old_avg = held.avg_price if held else price
    new_qty = old_qty + signed
    if old_qty == 0 or (old_qty > 0) == (signed > 0):
        avg = (old_qty * old_avg + signed * price) / new_qty
    elif new_qty == 0 or (new_qty > 0) == (old_qty > 0):
        avg = old_avg
    else:  # flipped through zero: what remains was opened at this price
        avg = price
    return Position(
        symbol=request.symbol, asset_class=request.asset_class, qty=new_qty, avg_price=avg
    )
