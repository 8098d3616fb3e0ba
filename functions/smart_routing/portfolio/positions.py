"""One user's position in one symbol, and what a trade does to it.

Pure and shared: the paper account settles its fills with `moved` and `realized`; on a real
venue, whose account the platform's users share, each user's own position is kept by applying
every ledger trade of theirs with `apply_trade`. Adding moves the average cost, reducing
realizes against it (before fees), and a position that flips through zero restarts at the
trade's price.

A sell that may not go short reserves its qty on the position before it is sent (`reserve`),
so concurrent sells can never together sell more than the user holds; each fill then takes its
qty off the order's reservation, and an order that ends releases what it did not fill.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.currency_model import CurrencyModel
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.instruments import OPTION_MULTIPLIER
from smart_routing.domain.money import ZERO, Amount, Money, format_qty
from smart_routing.domain.orders import OrderSide, Position
from smart_routing.portfolio.ledger import LedgerTrade


class HeldPosition(CurrencyModel):
    """A user's position at a real venue, with the sells it has reserved, by client_order_id;
    what it realized is in its quote currency, `currency`."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    asset_class: AssetClass
    currency: str
    qty: Amount = ZERO
    avg_cost: Amount = ZERO
    # CurrencyModel reads a bare default in the model's own currency: a typed Money needs one.
    realized_pnl: Money = ZERO  # type: ignore[assignment]
    reservations: dict[str, Amount] = Field(default_factory=dict)

    @property
    def reserved(self) -> Decimal:
        return sum(self.reservations.values(), ZERO)

    @property
    def available(self) -> Decimal:
        return self.qty - self.reserved

    @property
    def cost_basis(self) -> Money:
        return cost_basis(self.qty, self.avg_cost, self.asset_class, self.currency)

    def as_position(self) -> Position:
        return Position(
            symbol=self.symbol, asset_class=self.asset_class, qty=self.qty, avg_price=self.avg_cost
        )


def multiplier_of(asset_class: AssetClass) -> Decimal:
    return OPTION_MULTIPLIER if asset_class is AssetClass.OPTIONS else Decimal(1)


def cost_basis(qty: Decimal, avg_cost: Decimal, asset_class: AssetClass, currency: str) -> Money:
    return Money(qty * avg_cost * multiplier_of(asset_class), currency).rounded()


def realized(
    held: Position | None, signed: Decimal, price: Decimal, multiplier: Decimal, currency: str
) -> Money:
    """What reducing a position realizes against its average price (before fees), in the
    quote `currency`."""
    if held is None or held.qty == 0 or (held.qty > 0) == (signed > 0):
        return Money.zero(currency)
    closed = min(abs(signed), abs(held.qty))
    direction = 1 if held.qty > 0 else -1
    return Money((price - held.avg_price) * closed * direction * multiplier, currency).rounded()


def moved(
    held: Position | None, symbol: str, asset_class: AssetClass, signed: Decimal, price: Decimal
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
    return Position(symbol=symbol, asset_class=asset_class, qty=new_qty, avg_price=avg)


def apply_trade(held: HeldPosition | None, trade: LedgerTrade) -> HeldPosition:
    """`held` after one ledger trade of its owner; a sell's fill uses up its reservation."""
    if held is None:
        held = HeldPosition(
            symbol=trade.symbol, asset_class=trade.asset_class, currency=trade.currency
        )
    signed = trade.qty if trade.side is OrderSide.BUY else -trade.qty
    before = held.as_position()
    pnl = realized(before, signed, trade.price, multiplier_of(trade.asset_class), trade.currency)
    after = moved(before, trade.symbol, trade.asset_class, signed, trade.price)
    avg = ZERO if after.qty == 0 else after.avg_price
    reservations = _taken(held.reservations, trade.client_order_id, trade.qty)
    return held.model_copy(
        update={"qty": after.qty, "avg_cost": avg, "realized_pnl": held.realized_pnl + pnl,
                "reservations": reservations}
    )  # fmt: skip


def reserve(held: HeldPosition | None, symbol: str, client_order_id: str, qty: Decimal) -> dict:
    """The reservations after reserving `qty` for a sell, or OrderRejected naming only this
    user's figures. Reserving an order again changes nothing."""
    reservations = dict(held.reservations) if held else {}
    if client_order_id in reservations:
        return reservations
    holding = held.qty if held else ZERO
    available = held.available if held else ZERO
    if qty > available:
        reserved = f" of which {format_qty(holding - available)} reserved by working sells"
        raise OrderRejected(
            f"insufficient position: selling {format_qty(qty)} {symbol}, holding "
            f"{format_qty(holding)}{reserved if holding != available else ''}"
        )
    reservations[client_order_id] = qty
    return reservations


def release(reservations: dict[str, Decimal], client_order_id: str, keep: Decimal = ZERO) -> dict:
    """The reservations once an order has ended: at most `keep` (fills on their way to the
    ledger) stays reserved for it."""
    left = min(reservations.get(client_order_id, ZERO), keep)
    released = {k: v for k, v in reservations.items() if k != client_order_id}
    if left > 0:
        released[client_order_id] = left
    return released


def _taken(reservations: dict[str, Decimal], client_order_id: str, qty: Decimal) -> dict:
    left = reservations.get(client_order_id, ZERO) - qty
    return release(reservations, client_order_id, keep=max(left, ZERO))
