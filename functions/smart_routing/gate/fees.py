"""What a trade costs beyond the spread: each venue's commission and the regulatory fees.

The estimate goes into the gate's cost and onto the ledger; where the venue reports the real fee
on the fill (OANDA's commission and financing, Alpaca's crypto fee), the ledger records that one.
The paper broker charges what the real venue for the asset class would.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO, Money, round_money
from smart_routing.domain.orders import OrderSide

_MILLION = Decimal(1_000_000)
_BPS = Decimal(10_000)


class FeeSchedule(BaseModel):
    """Rates in USD unless said otherwise; each is an EXEC_FEE_* setting (docs/configuration.md)."""

    model_config = ConfigDict(frozen=True)

    # Alpaca crypto taker fee, in basis points of notional (tier 1: 25 bps).
    crypto_taker_bps: Decimal = Field(default=Decimal(25), ge=0)
    # SEC Section 31 fee on equity and option sales, per million dollars sold.
    sec_per_million: Decimal = Field(default=Decimal("27.80"), ge=0)
    # FINRA Trading Activity Fee on equity sales, per share, capped per trade.
    taf_per_share: Decimal = Field(default=Decimal("0.000166"), ge=0)
    taf_max: Decimal = Field(default=Decimal("8.30"), ge=0)
    # Options regulatory (ORF) and clearing (OCC) fees, per contract, both sides.
    options_per_contract: Decimal = Field(default=Decimal("0.04"), ge=0)
    # FINRA TAF on option sales, per contract.
    options_taf_per_contract: Decimal = Field(default=Decimal("0.00279"), ge=0)
    # OANDA commission per million units of base currency (0 on spread-only accounts), taken
    # as an amount of the pair's quote currency.
    forex_per_million_units: Decimal = Field(default=ZERO, ge=0)


def estimate_fees(
    schedule: FeeSchedule, spec: InstrumentSpec, side: OrderSide, qty: Decimal, price: Decimal
) -> Money:
    """The fees of filling `qty` at `price`, in the instrument's quote currency, rounded up to
    its minor unit (regulators and venues round fees up)."""
    notional = qty * price * spec.multiplier
    selling = side is OrderSide.SELL
    match spec.asset_class:
        case AssetClass.CRYPTO:
            fee = notional * schedule.crypto_taker_bps / _BPS
        case AssetClass.EQUITY:
            fee = ZERO
            if selling:
                fee = notional * schedule.sec_per_million / _MILLION
                fee += min(qty * schedule.taf_per_share, schedule.taf_max)
        case AssetClass.OPTIONS:
            fee = qty * schedule.options_per_contract
            if selling:
                fee += notional * schedule.sec_per_million / _MILLION
                fee += qty * schedule.options_taf_per_contract
        case AssetClass.FOREX:
            fee = qty * schedule.forex_per_million_units / _MILLION
    return Money(round_money(fee, spec.quote_currency, ROUND_UP), spec.quote_currency)
