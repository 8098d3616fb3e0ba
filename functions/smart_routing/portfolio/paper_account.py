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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO, CurrencyMismatch, Money, format_qty
from smart_routing.domain.orders import AccountSnapshot, OrderRequest, OrderSide, Position
from smart_routing.portfolio import positions as held_positions

ACCOUNT_CURRENCY = "USD"
DEFAULT_STARTING_CASH = Decimal(100_000)

# Converts an amount to the account's currency (USD), rounded; may raise VenueUnavailable.
ToAccountCurrency = Callable[[Money], Money]


class PaperAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str = ACCOUNT_CURRENCY
    cash: Money
    positions: dict[str, Position] = Field(default_factory=dict)
    # Held as margin by each open forex position, by symbol, in the account's currency.
    margin: dict[str, Money] = Field(default_factory=dict)
    # Profit or loss realized by reducing each position, in its quote currency, by symbol.
    realized_pnl: dict[str, Money] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cash_and_margin_in_account_currency(self) -> PaperAccount:
        for amount in (self.cash, *self.margin.values()):
            if amount.currency != self.currency:
                raise CurrencyMismatch(self.currency, amount.currency)
        return self

    @classmethod
    def opened(cls, starting_cash: Decimal) -> PaperAccount:
        """A new account holding `starting_cash` in the account currency."""
        return cls(cash=Money(starting_cash, ACCOUNT_CURRENCY))

    @property
    def buying_power(self) -> Money:
        zero = Money.zero(self.currency)
        return max(self.cash - sum(self.margin.values(), zero), zero)

    def snapshot(self, as_of: datetime) -> AccountSnapshot:
        return AccountSnapshot(
            currency=self.currency,
            cash=self.cash.amount,
            buying_power=self.buying_power.amount,
            positions=dict(self.positions),
            as_of=as_of,
        )


def settle(
    account: PaperAccount,
    request: OrderRequest,
    spec: InstrumentSpec,
    price: Decimal,
    fee: Money,
    to_usd: ToAccountCurrency,
    forex_margin_rate: Decimal,
) -> PaperAccount:
    """The account after filling `request` at `price` with `fee` (in the quote currency).

    Raises OrderRejected, naming only this account's figures, when it cannot take the fill.
    Every conversion happens before the new account is built, so a failure changes nothing.
    """
    fee_usd = to_usd(fee)
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
        realized[request.symbol] = realized.get(request.symbol, Money.zero(pnl.currency)) + pnl
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
    fee_usd: Money,
    to_usd: ToAccountCurrency,
) -> Money:
    cost = to_usd(Money(spec.notional(request.qty, price), spec.quote_currency))
    if request.side is OrderSide.BUY:
        needed = cost + fee_usd
        if needed > account.buying_power:
            raise OrderRejected(
                f"insufficient buying power: order needs {needed.formatted()}, "
                f"buying power is {account.buying_power.formatted()}"
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
    fee_usd: Money,
    to_usd: ToAccountCurrency,
    margin_rate: Decimal,
) -> tuple[Money, dict[str, Money]]:
    held_qty = held.qty if held else ZERO
    buying = request.side is OrderSide.BUY
    opposite = held_qty < 0 if buying else held_qty > 0
    closing = min(request.qty, abs(held_qty)) if opposite else ZERO
    opening = request.qty - closing
    notional_usd = to_usd(Money(spec.notional(opening, price), spec.quote_currency))
    needed = (notional_usd * margin_rate).rounded()
    if needed + fee_usd > account.buying_power:
        raise OrderRejected(
            f"insufficient margin: opening {format_qty(opening)} {request.symbol} needs "
            f"{needed.formatted()}, buying power is {account.buying_power.formatted()}"
        )
    cash, margin = account.cash, dict(account.margin)
    if closing:
        assert held is not None  # closing implies a position
        direction = 1 if held_qty > 0 else -1
        pnl = Money((price - held.avg_price) * closing * direction * spec.multiplier,
                    spec.quote_currency)  # fmt: skip
        cash += to_usd(pnl.rounded())
        held_margin = margin.pop(request.symbol, Money.zero(account.currency))
        released = (held_margin * closing / abs(held_qty)).rounded()
        if held_margin - released:
            margin[request.symbol] = held_margin - released
    if opening:
        margin[request.symbol] = margin.get(request.symbol, Money.zero(account.currency)) + needed
    return cash, margin
