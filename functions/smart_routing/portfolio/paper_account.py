"""A user's paper account: cash in USD, positions, and the margin forex positions hold.

Pure: `settle` is what one fill does to an account, or why the account cannot take it. The paper
broker keeps one account per (tenant, user) in a store (in memory locally, Firestore in the
functions), and settles each fill inside the store's atomic update.

Forex is a margin account, as at OANDA: opening a position moves no cash but holds margin
(notional x the margin rate) out of buying power; closing it releases its share of that margin
and books the realized profit or loss to cash. Everything else moves cash by its notional.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO, Amount, format_money, format_qty, round_money
from smart_routing.domain.orders import AccountSnapshot, OrderRequest, OrderSide, Position
from smart_routing.portfolio import positions as held_positions

ACCOUNT_CURRENCY = "USD"
DEFAULT_STARTING_CASH = Decimal(100_000)

# Converts an amount in a currency to the account's (USD); may raise VenueUnavailable.
ToAccountCurrency = Callable[[Decimal, str], Decimal]


class PaperAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str = ACCOUNT_CURRENCY
    cash: Amount
    positions: dict[str, Position] = Field(default_factory=dict)
    # USD held as margin by each open forex position, by symbol.
    margin: dict[str, Amount] = Field(default_factory=dict)
    # Profit or loss realized by reducing each position, in its quote currency, by symbol.
    realized_pnl: dict[str, Amount] = Field(default_factory=dict)

    @property
    def buying_power(self) -> Decimal:
        return max(self.cash - sum(self.margin.values(), ZERO), ZERO)

    def snapshot(self, as_of: datetime) -> AccountSnapshot:
        return AccountSnapshot(
            currency=self.currency,
            cash=self.cash,
            buying_power=self.buying_power,
            positions=dict(self.positions),
            as_of=as_of,
        )


def settle(
    account: PaperAccount,
    request: OrderRequest,
    spec: InstrumentSpec,
    price: Decimal,
    fee: Decimal,
    to_usd: ToAccountCurrency,
    forex_margin_rate: Decimal,
) -> PaperAccount:
    """The account after filling `request` at `price` with `fee` (in the quote currency).

    Raises OrderRejected, naming only this account's figures, when it cannot take the fill.
    Every conversion happens before the new account is built, so a failure changes nothing.
    """
    fee_usd = to_usd(fee, spec.quote_currency)
    held = account.positions.get(request.symbol)
    if spec.asset_class is AssetClass.FOREX:
        cash, margin = _settle_forex(account, request, spec, price, held, fee_usd, to_usd,
                                     forex_margin_rate)  # fmt: skip
    else:
        cash, margin = _settle_cash(account, request, spec, price, held, fee_usd, to_usd), None
    positions = dict(account.positions)
    signed = request.qty if request.side is OrderSide.BUY else -request.qty
    realized = dict(account.realized_pnl)
    pnl = held_positions.realized(held, signed, price, spec.multiplier, spec.quote_currency)
    if pnl:
        realized[request.symbol] = realized.get(request.symbol, ZERO) + pnl
    moved = held_positions.moved(held, request.symbol, request.asset_class, signed, price)
    if moved.qty == 0:
        positions.pop(request.symbol, None)
    else:
        positions[request.symbol] = moved
    return account.model_copy(
        update={
            "cash": cash - fee_usd,
            "positions": positions,
            "margin": account.margin if margin is None else margin,
            "realized_pnl": realized,
        }
    )


def _settle_cash(
    account: PaperAccount,
    request: OrderRequest,
    spec: InstrumentSpec,
    price: Decimal,
    held: Position | None,
    fee_usd: Decimal,
    to_usd: ToAccountCurrency,
) -> Decimal:
    cost = to_usd(spec.notional(request.qty, price), spec.quote_currency)
    if request.side is OrderSide.BUY:
        needed = cost + fee_usd
        if needed > account.buying_power:
            raise OrderRejected(
                f"insufficient buying power: order needs {format_money(needed, 'USD')}, "
                f"buying power is {format_money(account.buying_power, 'USD')}"
            )
        return account.cash - cost
    held_qty = held.qty if held else ZERO
    if request.qty > held_qty:
        raise OrderRejected(
            f"insufficient position: selling {format_qty(request.qty)} {request.symbol}, "
            f"holding {format_qty(held_qty)}"
        )
    return account.cash + cost


def _settle_forex(
    account: PaperAccount,
    request: OrderRequest,
    spec: InstrumentSpec,
    price: Decimal,
    held: Position | None,
    fee_usd: Decimal,
    to_usd: ToAccountCurrency,
    margin_rate: Decimal,
) -> tuple[Decimal, dict[str, Decimal]]:
    held_qty = held.qty if held else ZERO
    buying = request.side is OrderSide.BUY
    opposite = held_qty < 0 if buying else held_qty > 0
    closing = min(request.qty, abs(held_qty)) if opposite else ZERO
    opening = request.qty - closing
    notional_usd = to_usd(spec.notional(opening, price), spec.quote_currency)
    needed = round_money(notional_usd * margin_rate, ACCOUNT_CURRENCY)
    if needed + fee_usd > account.buying_power:
        raise OrderRejected(
            f"insufficient margin: opening {format_qty(opening)} {request.symbol} needs "
            f"{format_money(needed, 'USD')}, buying power is "
            f"{format_money(account.buying_power, 'USD')}"
        )
    cash, margin = account.cash, dict(account.margin)
    if closing:
        assert held is not None  # closing implies a position
        direction = 1 if held_qty > 0 else -1
        pnl = (price - held.avg_price) * closing * direction * spec.multiplier
        cash += to_usd(round_money(pnl, spec.quote_currency), spec.quote_currency)
        held_margin = margin.pop(request.symbol, ZERO)
        released = round_money(held_margin * closing / abs(held_qty), ACCOUNT_CURRENCY)
        if held_margin - released:
            margin[request.symbol] = held_margin - released
    if opening:
        margin[request.symbol] = margin.get(request.symbol, ZERO) + needed
    return cash, margin
