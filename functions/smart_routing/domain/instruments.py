"""What a venue lets you trade: an instrument's grid (qty increment, minimum, price tick),
its currency, multiplier, expiry and whether it trades at all.

`InstrumentSpec` is the one place that knows the grid. Venues publish specs through their
SDKs (see venues/); the paper broker and the simulated market use `builtin_spec`, a table with
the same rules: whole option contracts, whole FX units, Alpaca's equity and crypto increments.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from smart_routing.domain.assets import AssetClass, Instrument
from smart_routing.domain.money import (
    Amount,
    ceil_to,
    floor_to,
    format_qty,
    is_multiple,
    round_money,
)
from smart_routing.domain.orders import OrderSide

# Listed equity options run at most about three years out (LEAPS); a later expiry is not
# listed yet.
MAX_OPTION_LISTING = timedelta(days=3 * 365 + 30)
OPTION_MULTIPLIER = Decimal(100)
# Alpaca trades fractional shares and coins to 9 decimal places.
FRACTIONAL_INCREMENT = Decimal("0.000000001")
# A quantity travels to venues, JSON and Firestore as a binary double, which holds 15
# significant digits exactly: more would arrive as another number.
MAX_SIGNIFICANT_DIGITS = 15
# Coins trade at prices from 1e-8 (SHIB, PEPE) to 1e5 (BTC); limit prices keep 9 decimals.
CRYPTO_PRICE_TICK = Decimal("0.000000001")
# OANDA quotes JPY and HUF pairs to 3 decimals, the others to 5.
_THREE_DECIMAL_QUOTES = frozenset({"JPY", "HUF"})


class InstrumentSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    asset_class: AssetClass
    venue: str
    quote_currency: str
    base: str | None = None
    qty_increment: Amount
    min_qty: Amount
    price_tick: Amount
    multiplier: Amount = Decimal(1)
    expiry: date | None = None
    tradable: bool = True
    fractionable: bool = False
    shortable: bool = False
    # Why the venue will not trade it (delisted, halted, unknown), when it says so.
    untradable_reason: str | None = None
    source: str = "builtin"

    def tradability_problem(self, today: date) -> str | None:
        """Why no order can be placed today, or None."""
        if not self.tradable:
            return self.untradable_reason or f"{self.symbol} is not tradable at {self.venue}"
        if self.expiry is not None and self.expiry < today:
            return f"{self.symbol} expired on {self.expiry.isoformat()}"
        if self.expiry is not None and self.expiry - today > MAX_OPTION_LISTING:
            return f"{self.symbol} is not listed yet (expiry {self.expiry.isoformat()})"
        return None

    def qty_problem(self, qty: Decimal) -> str | None:
        """Why a quantity a person typed cannot be sent as is, or None."""
        if (
            len(qty.as_tuple().digits) > MAX_SIGNIFICANT_DIGITS  # normalizing only shortens
            and len(qty.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS
        ):
            return (
                f"qty: {format_qty(qty)} has more than {MAX_SIGNIFICANT_DIGITS} significant "
                "digits, more than an order carries exactly"
            )
        if qty <= 0:
            return f"qty: must be greater than 0 {self.qty_unit()}"
        if not is_multiple(qty, self.qty_increment):
            return (
                f"qty: {format_qty(qty)} is not a multiple of the increment "
                f"{format_qty(self.qty_increment)} {self.qty_unit()}"
            )
        if qty < self.min_qty:
            return (
                f"qty: {format_qty(qty)} is below the minimum of {format_qty(self.min_qty)} "
                f"{self.qty_unit()}"
            )
        return None

    def floor_qty(self, qty: Decimal) -> Decimal:
        """A computed quantity on the grid: rounded down, never up past what was asked, and to
        at most 15 significant digits."""
        grid = floor_to(qty, self.qty_increment)
        excess = len(grid.as_tuple().digits) - MAX_SIGNIFICANT_DIGITS
        if excess > 0:
            exponent = grid.as_tuple().exponent
            assert isinstance(exponent, int)  # a finite quantity's
            grid = floor_to(grid, Decimal(1).scaleb(exponent + excess))
        return grid.normalize()

    def round_limit_price(self, price: Decimal, side: OrderSide) -> Decimal:
        """To the tick on the passive side: a buy rounds down, a sell up."""
        rounder = floor_to if side is OrderSide.BUY else ceil_to
        return rounder(price, self.price_tick)

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """qty * price * multiplier, in the quote currency, to its minor unit."""
        return round_money(qty * price * self.multiplier, self.quote_currency)

    def qty_unit(self) -> str:
        if self.asset_class is AssetClass.OPTIONS:
            return "contracts"
        if self.asset_class is AssetClass.EQUITY:
            return "shares"
        return f"units of {self.base}" if self.base else "units"


def builtin_spec(instrument: Instrument, venue: str = "paper") -> InstrumentSpec:
    """The paper venue's table, with the real venues' rules for each asset class."""
    common = {"symbol": instrument.symbol, "asset_class": instrument.asset_class, "venue": venue}
    match instrument.asset_class:
        case AssetClass.EQUITY:
            return InstrumentSpec(
                **common, quote_currency="USD", qty_increment=FRACTIONAL_INCREMENT,
                min_qty=FRACTIONAL_INCREMENT, price_tick=Decimal("0.01"), fractionable=True,
            )  # fmt: skip
        case AssetClass.OPTIONS:
            assert instrument.option is not None  # parse_symbol fills it for options
            return InstrumentSpec(
                **common, quote_currency="USD", base=instrument.option.underlying,
                qty_increment=Decimal(1), min_qty=Decimal(1), price_tick=Decimal("0.01"),
                multiplier=OPTION_MULTIPLIER, expiry=instrument.option.expiry,
            )  # fmt: skip
        case AssetClass.FOREX:
            quote = instrument.quote_currency or "USD"
            places = 3 if quote in _THREE_DECIMAL_QUOTES else 5
            return InstrumentSpec(
                **common, quote_currency=quote, base=instrument.base,
                qty_increment=Decimal(1), min_qty=Decimal(1),
                price_tick=Decimal(1).scaleb(-places), shortable=True,
            )  # fmt: skip
        case AssetClass.CRYPTO:
            quote = instrument.quote_currency or "USD"
            return InstrumentSpec(
                **common, quote_currency=quote, base=instrument.base,
                qty_increment=FRACTIONAL_INCREMENT, min_qty=FRACTIONAL_INCREMENT,
                price_tick=CRYPTO_PRICE_TICK, fractionable=True,
            )  # fmt: skip
    raise AssertionError(f"no rule for {instrument.asset_class}")
