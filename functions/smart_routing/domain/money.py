"""Exact money: Decimal amounts in a named currency, rounded to that currency's minor unit.

`Money` is an amount that knows its currency: adding, subtracting or comparing two currencies
raises CurrencyMismatch. Quantities and prices stay bare Decimals on the instrument's grid.

Floats appear only at the boundaries (JSON, Firestore, venue payloads). `_to_json_number` is
the one place a Decimal becomes a JSON number, for `Amount` and `Money` alike: a value on its
grid has few enough significant digits that the float written is the decimal read back (0.2
stays 0.2, 11000.30 stays 11000.3). Money is stored as that bare number beside the model's
own `currency` field (`domain/currency_model.py`).
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
from typing import Annotated, Any

from pydantic import (
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

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
    places = -int(minor_unit(currency).as_tuple().exponent)
    return f"{round_money(amount, currency):,.{places}f} {currency}"


def format_qty(value: Decimal) -> str:
    """A quantity as people write it: 0.37, 1000, 0.000000001; 5e-324 and 1e+300 for the
    absurd ones, which would otherwise print hundreds of zeros."""
    value = value.normalize()
    if -12 <= value.adjusted() < _SCIENTIFIC_FROM:
        return f"{value:f}"
    return f"{value:e}"


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were added, subtracted or compared."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine an amount in {left} with one in {right}")


# What Money may be scaled by, and compared with as a bare amount (a number has no currency).
_SCALARS = (Decimal, int)
# A bare number compares with Money as it does with a Decimal (exactly, floats included).
_NUMBERS = (Decimal, int, float)
_ZEROS: dict[str, Money] = {}


class Money:
    """An exact amount in a currency; immutable, and cheap (two slots).

    Same-currency `+`, `-` and comparisons are exact Decimal arithmetic; another currency raises
    CurrencyMismatch. A bare number has no currency to mismatch: it compares by amount
    (`fees == 0`), and `0 + money` is money, so `sum()` works. Scaling by a Decimal or an int
    keeps every digit; `rounded()` goes to the currency's minor unit.
    """

    __slots__ = ("amount", "currency")
    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int, currency: str) -> None:
        if type(amount) is not Decimal:
            if isinstance(amount, bool) or not isinstance(amount, _SCALARS):
                raise TypeError(f"a Money amount is a Decimal, got {type(amount).__name__}")
            amount = Decimal(amount)
        if type(currency) is not str or not currency:
            raise ValueError(f"a Money currency is a non-empty code, got {currency!r}")
        _set_amount(self, amount)
        _set_currency(self, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing in `currency`: one shared value per currency (Money is immutable)."""
        found = _ZEROS.get(currency)
        if found is None:
            found = _ZEROS[currency] = cls(ZERO, currency)
        return found

    @classmethod
    def from_json(cls, value: object, currency: str, what: str = "amount") -> Money:
        """The Money a stored or received number stands for (see `to_json`)."""
        return cls(to_decimal(value, what), currency)

    def to_json(self) -> float | str:
        """The number JSON, Firestore and log lines carry: the amount alone, as `Amount` is."""
        return _to_json_number(self.amount)

    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """To the currency's minor unit (see `round_money`)."""
        return Money(round_money(self.amount, self.currency, rounding), self.currency)

    def formatted(self) -> str:
        """'11,000.30 USD' (see `format_money`)."""
        return format_money(self.amount, self.currency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def _same(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        return other

    def __add__(self, other: object) -> Money:
        if isinstance(other, Money):
            return Money(self.amount + self._same(other).amount, self.currency)
        return NotImplemented

    def __radd__(self, other: object) -> Money:
        if type(other) is int and other == 0:  # sum()'s start
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if isinstance(other, Money):
            return Money(self.amount - self._same(other).amount, self.currency)
        return NotImplemented

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, _SCALARS) and not isinstance(factor, bool):
            return Money(self.amount * factor, self.currency)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, divisor: object) -> Money:
        if isinstance(divisor, _SCALARS) and not isinstance(divisor, bool):
            return Money(self.amount / divisor, self.currency)
        return NotImplemented

    def _amount_of(self, other: object) -> Decimal | int | float | None:
        """The amount to compare with: another Money's (same currency only) or a bare
        number's; None for anything else."""
        if isinstance(other, Money):
            return self._same(other).amount
        if isinstance(other, _NUMBERS) and not isinstance(other, bool):
            return other
        return None

    def __eq__(self, other: object) -> bool:
        amount = self._amount_of(other)
        return NotImplemented if amount is None else self.amount == amount

    def __lt__(self, other: object) -> bool:
        amount = self._amount_of(other)
        return NotImplemented if amount is None else self.amount < amount

    def __le__(self, other: object) -> bool:
        amount = self._amount_of(other)
        return NotImplemented if amount is None else self.amount <= amount

    def __gt__(self, other: object) -> bool:
        amount = self._amount_of(other)
        return NotImplemented if amount is None else self.amount > amount

    def __ge__(self, other: object) -> bool:
        amount = self._amount_of(other)
        return NotImplemented if amount is None else self.amount >= amount

    def __hash__(self) -> int:
        return hash(self.amount)  # equal to the bare amount it equals

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __float__(self) -> float:
        """For the boundaries only (log lines, JSON): the core never computes with it."""
        return float(self.amount)

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __reduce__(self) -> tuple[type[Money], tuple[Decimal, str]]:
        return (Money, (self.amount, self.currency))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """A field holds a Money; a `CurrencyModel` turns the stored bare number into one."""
        return core_schema.no_info_plain_validator_function(
            _validated_money,
            serialization=core_schema.plain_serializer_function_ser_schema(
                Money.to_json, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "number"}


# The slots' own setters: construction skips the __setattr__ that keeps Money immutable.
_set_amount = Money.__dict__["amount"].__set__
_set_currency = Money.__dict__["currency"].__set__


def _validated_money(value: object) -> Money:
    if isinstance(value, Money):
        return value
    raise ValueError(f"expected an amount with its currency (Money), got {value!r}")
