"""A paper broker: fills marketable orders at the touch and keeps cash and positions.

Buys fill at the ask and sells at the bid of the market data it is given. A limit order that is
not marketable rests as accepted and is never filled later: this broker does no matching.

Like a real venue it checks what it is sent: the instrument's grid, buying power, and no short
of what may not be shorted, and it charges the fee schedule's fees. Cash is kept in USD; an
amount in another currency (a USD/JPY fill is in yen) is converted at the conversion pair's mid.

Forex is a margin account, as at OANDA: opening a position moves no cash but holds margin
(notional x the margin rate) out of buying power; closing it releases its share of that margin
and books the realized profit or loss to cash.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from decimal import Decimal

from smart_routing.assets import AssetClass
from smart_routing.clock import SystemClock
from smart_routing.conversion import conversion_from_quote, conversion_pair
from smart_routing.errors import OrderRejected, VenueUnavailable
from smart_routing.fees import FeeSchedule, estimate_fees
from smart_routing.instruments import InstrumentSpec
from smart_routing.market_data import Quote, quote_problem
from smart_routing.money import ZERO, format_money, format_qty, round_money
from smart_routing.orders import (
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)
from smart_routing.ports import Clock, InstrumentSource, MarketDataProvider
from smart_routing.routing import DEFAULT_FOREX_MARGIN_RATE, DEFAULT_MAX_QUOTE_AGE_S

ACCOUNT_CURRENCY = "USD"
DEFAULT_STARTING_CASH = Decimal(100_000)


class PaperBroker:
    name = "paper"

    def __init__(
        self,
        market_data: MarketDataProvider,
        instruments: InstrumentSource,
        clock: Clock | None = None,
        starting_cash: Decimal = DEFAULT_STARTING_CASH,
        max_quote_age_s: float = DEFAULT_MAX_QUOTE_AGE_S,
        fees: FeeSchedule | None = None,
        forex_margin_rate: Decimal = DEFAULT_FOREX_MARGIN_RATE,
    ) -> None:
        self.market_data = market_data
        self.instruments = instruments
        self.clock = clock or SystemClock()
        self.max_quote_age_s = max_quote_age_s
        self.fees = fees or FeeSchedule()
        self.forex_margin_rate = forex_margin_rate
        self._cash = Decimal(starting_cash)
        self._positions: dict[str, Position] = {}
        self._margin: dict[str, Decimal] = {}  # USD held for each open forex position
        self._orders: dict[str, Order] = {}
        # Unique across instances and restarts: a uuid, not a counter from 1.
        self._id_prefix = f"paper-{uuid.uuid4().hex[:12]}"
        self._next_id = 0
        self._lock = threading.Lock()

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.name

    def submit_order(self, request: OrderRequest) -> Order:
        spec = self.instruments.get_instrument(request.symbol, request.asset_class)
        problem = spec.qty_problem(request.qty)
        if problem is not None:
            raise OrderRejected(f"paper: {problem}")
        with self._lock:
            existing = self._orders.get(request.client_order_id)
            if existing is not None:
                return existing
            quote = self._quote(request.symbol, request.asset_class)
            price = _fill_price(request, quote)
            if price is None:
                order = self._order(request, OrderStatus.ACCEPTED, ZERO, None, None)
            else:
                order = self._fill(request, spec, price)
            self._orders[request.client_order_id] = order
            return order

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def get_account(self, asset_class: AssetClass | None = None) -> AccountSnapshot:
        with self._lock:
            return AccountSnapshot(
                currency=ACCOUNT_CURRENCY,
                cash=self._cash,
                buying_power=self._buying_power(),
                positions=dict(self._positions),
                as_of=self.clock.now(),
            )

    def _quote(self, symbol: str, asset_class: AssetClass) -> Quote:
        try:
            quote = self.market_data.get_quote(symbol, asset_class)
        except Exception as exc:  # no price, no fill: the order is certainly not placed
            raise VenueUnavailable(f"paper broker has no market data: {exc}") from exc
        if quote is None:
            raise VenueUnavailable(f"paper broker has no quote for {symbol}")
        problem = quote_problem(quote, self.clock.now(), self.max_quote_age_s)
        if problem is not None:
            raise VenueUnavailable(f"paper broker cannot price {symbol}: {problem}")
        return quote

    def _in_usd(self, amount: Decimal, currency: str) -> Decimal:
        if currency == ACCOUNT_CURRENCY:
            return amount
        symbol, asset_class, inverse = conversion_pair(currency, ACCOUNT_CURRENCY)
        rate = conversion_from_quote(self._quote(symbol, asset_class), inverse).rate
        return round_money(amount * rate, ACCOUNT_CURRENCY)

    def _buying_power(self) -> Decimal:
        return max(self._cash - sum(self._margin.values(), ZERO), ZERO)

    def _fill(self, request: OrderRequest, spec: InstrumentSpec, price: Decimal) -> Order:
        fee = estimate_fees(self.fees, spec, request.side, request.qty, price)
        # Every conversion (and so every quote it needs) before any state changes.
        fee_usd = self._in_usd(fee, spec.quote_currency)
        held = self._positions.get(request.symbol)
        if spec.asset_class is AssetClass.FOREX:
            self._settle_forex(request, spec, price, held, fee_usd)
        else:
            self._settle_cash(request, spec, price, held, fee_usd)
        self._cash -= fee_usd
        signed = request.qty if request.side is OrderSide.BUY else -request.qty
        moved = _moved(held, request, signed, price)
        if moved.qty == 0:
            self._positions.pop(request.symbol, None)
        else:
            self._positions[request.symbol] = moved
        now = self.clock.now()
        return self._order(request, OrderStatus.FILLED, request.qty, price, now, fee)

    def _settle_cash(
        self,
        request: OrderRequest,
        spec: InstrumentSpec,
        price: Decimal,
        held: Position | None,
        fee_usd: Decimal,
    ) -> None:
        cost = self._in_usd(spec.notional(request.qty, price), spec.quote_currency)
        held_qty = held.qty if held else ZERO
        if request.side is OrderSide.BUY:
            cost_with_fee = cost + fee_usd
            if cost_with_fee > self._buying_power():
                raise OrderRejected(
                    f"insufficient buying power: order needs "
                    f"{format_money(cost_with_fee, 'USD')}, "
                    f"buying power is {format_money(self._buying_power(), 'USD')}"
                )
            self._cash -= cost
            return
        if request.qty > held_qty:
            raise OrderRejected(
                f"insufficient position: selling {format_qty(request.qty)} {request.symbol}, "
                f"holding {format_qty(held_qty)}"
            )
        self._cash += cost

    def _settle_forex(
        self,
        request: OrderRequest,
        spec: InstrumentSpec,
        price: Decimal,
        held: Position | None,
        fee_usd: Decimal,
    ) -> None:
        held_qty = held.qty if held else ZERO
        buying = request.side is OrderSide.BUY
        opposite = held_qty < 0 if buying else held_qty > 0
        closing = min(request.qty, abs(held_qty)) if opposite else ZERO
        opening = request.qty - closing
        margin = self._in_usd(spec.notional(opening, price), spec.quote_currency)
        margin = round_money(margin * self.forex_margin_rate, ACCOUNT_CURRENCY)
        if margin + fee_usd > self._buying_power():
            raise OrderRejected(
                f"insufficient margin: opening {format_qty(opening)} {request.symbol} needs "
                f"{format_money(margin, 'USD')}, buying power is "
                f"{format_money(self._buying_power(), 'USD')}"
            )
        if closing:
            assert held is not None
            direction = 1 if held_qty > 0 else -1
            pnl = (price - held.avg_price) * closing * direction * spec.multiplier
            self._cash += self._in_usd(round_money(pnl, spec.quote_currency), spec.quote_currency)
            held_margin = self._margin.pop(request.symbol, ZERO)
            released = round_money(held_margin * closing / abs(held_qty), ACCOUNT_CURRENCY)
            if held_margin - released:
                self._margin[request.symbol] = held_margin - released
        if opening:
            self._margin[request.symbol] = self._margin.get(request.symbol, ZERO) + margin

    def _order(
        self,
        request: OrderRequest,
        status: OrderStatus,
        filled_qty: Decimal,
        price: Decimal | None,
        filled_at: datetime | None,
        fees: Decimal | None = None,
    ) -> Order:
        self._next_id += 1
        return Order(
            broker=self.name,
            broker_order_id=f"{self._id_prefix}-{self._next_id:06d}",
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
            fees=fees,
            submitted_at=self.clock.now(),
            filled_at=filled_at,
        )


def _fill_price(request: OrderRequest, quote: Quote) -> Decimal | None:
    """The touch price a marketable order fills at, or None for a resting limit order."""
    buying = request.side is OrderSide.BUY
    touch = quote.ask if buying else quote.bid
    if request.order_type is OrderType.LIMIT:
        limit = request.limit_price
        assert limit is not None  # OrderIntent requires it for limit orders
        marketable = limit >= touch if buying else limit <= touch
        if not marketable:
            return None
    return touch


def _moved(
    held: Position | None, request: OrderRequest, signed: Decimal, price: Decimal
) -> Position:
    """The position after a fill. Adding moves the average price; reducing keeps it."""
    old_qty = held.qty if held else ZERO
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
