"""Exact money: Decimal amounts in a named currency, rounded to that currency's minor unit.

Floats appear only at the boundaries (JSON, Firestore, venue payloads). `Amount` is the one
place a Decimal becomes a JSON number: a value on its grid has few enough significant digits
that the float written is the decimal read back (0.2 stays 0.2, 11000.30 stays 11000.3).
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
    getcontext,
    localcontext,
)
from functools import cache
from typing import Annotated

from pydantic import PlainSerializer

from smart_routing.domain.assets import CRYPTO_ASSETS


def _to_json_number(value: Decimal) -> float | str:
    """The number JSON and Firestore carry; a value beyond a double's range (an absurd order's
    notional, say) is written as its decimal text rather than as Infinity."""
    number = float(value)
    return number if math.isfinite(number) or not value.is_finite() else str(value.normalize())


# Serialized as a JSON number; kept exact inside the core.
Amount = Annotated[
    Decimal, PlainSerializer(_to_json_number, return_type=float | str, when_used="json")
]

ZERO = Decimal(0)
ONE = Decimal(1)

# ISO 4217 minor units where they are not 2 (all other fiat currencies have cents).
_FIAT_EXPONENTS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}
_STABLECOINS = frozenset("USDC USDT DAI USDG PYUSD".split())
# Coins quoted in coins (ETH/BTC) settle to the satoshi.
_COIN_EXPONENT = 8
# Amounts of a quintillion and more are written 1.270e+308: a 300-digit figure helps no one.
_SCIENTIFIC_FROM = 18
_DEFAULT_DIGITS = 28  # decimal's default context precision
# Beyond a double's range (1e308) nothing is a price or a quantity; far inside Decimal's.
_MAX_EXPONENT = 400


@cache
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency money is rounded to: 0.01 USD, 1 JPY, 1e-8 BTC."""
    if currency in _STABLECOINS:
        exponent = 2
    elif currency in CRYPTO_ASSETS:
        exponent = _COIN_EXPONENT
    else:
        exponent = _FIAT_EXPONENTS.get(currency, 2)
    return Decimal(1).scaleb(-exponent)


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """To the currency's minor unit; half-even unless a fee rule says to round up."""
    unit, largest_exponent = _money_grid(currency)
    if amount.adjusted() <= largest_exponent:
        return amount.quantize(unit, rounding=rounding)
    with _room_for(amount, unit):
        return amount.quantize(unit, rounding=rounding)


def to_decimal(value: object, what: str) -> Decimal:
    """A finite Decimal from a boundary value (a float goes through its shortest repr).

    Raises ValueError naming `what` for anything that is not a finite number.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what} must be a finite number, got {value!r}")
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what} must be a number, got {value!r}") from None
    else:
        raise ValueError(f"{what} must be a number, got {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if number and not -_MAX_EXPONENT <= number.adjusted() <= _MAX_EXPONENT:
        raise ValueError(f"{what} is out of range, got {value!r}")
    return number


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value`."""
    if _fits(value, step):
        return (value / step).to_integral_value(rounding=ROUND_DOWN) * step
    with _room_for(value, step):
        return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` not below `value`."""
    if _fits(value, step):
        return (value / step).to_integral_value(rounding=ROUND_UP) * step
    with _room_for(value, step):
        return (value / step).to_integral_value(rounding=ROUND_UP) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    if _fits(value, step):
        return value % step == 0
    with _room_for(value, step):
        return value % step == 0


@cache
def _money_grid(currency: str) -> tuple[Decimal, int]:
    """The minor unit, and the largest exponent an amount may have to be rounded to it within
    the default precision."""
    unit = minor_unit(currency)
    return unit, unit.adjusted() + _DEFAULT_DIGITS - 5


def _fits(value: Decimal, step: Decimal) -> bool:
    """Whether `value` in units of `step` fits the default 28 digits: the everyday case."""
    return value.adjusted() - step.adjusted() < _DEFAULT_DIGITS - 4


def _room_for(value: Decimal, step: Decimal) -> AbstractContextManager[Context]:
    """A context with enough digits to express `value` in units of `step` exactly: the default
    28 fall short for absurd sizes (1e300 shares), which must be refused, not crash."""
    digits = value.adjusted() - step.adjusted() + len(step.as_tuple().digits) + 2
    return localcontext(prec=max(digits, getcontext().prec))


def format_money(amount: Decimal, currency: str) -> str:
    """'11,000.30 USD', '150,020 JPY': grouped, at the currency's minor unit."""
    if amount.adjusted() >= _SCIENTIFIC_FROM:
        return f"{amount:.3e} {currency}"
    places = -minor_unit(currency).as_tuple().exponent
    return f"{round_money(amount, currency):,.{places}f} {currency}"


def format_qty(value: Decimal) -> str:
    """A quantity as people write it: 0.37, 1000, 0.000000001; 5e-324 and 1e+300 for the
    absurd ones, which would otherwise print hundreds of zeros."""
    value = value.normalize()
    if -12 <= value.adjusted() < _SCIENTIFIC_FROM:
        return f"{value:f}"
    return f"{value:e}"
