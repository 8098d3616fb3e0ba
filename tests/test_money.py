"""What Money promises: exact same-currency arithmetic, a clear error for mixed currencies,
one rounding to the minor unit, and the same stored number as the bare Decimal it replaces."""

import json
import pickle
from decimal import ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from smart_routing.domain.currency_model import CurrencyModel
from smart_routing.domain.money import Amount, CurrencyMismatch, Money

amounts = st.decimals(min_value=-(10**12), max_value=10**12, places=8, allow_nan=False)
# At most 15 significant digits: what a double carries exactly, as every stored amount does.
stored_amounts = st.decimals(min_value=-(10**6), max_value=10**6, places=8, allow_nan=False)
currencies = st.sampled_from(["USD", "JPY", "BHD", "BTC", "EUR"])


def usd(amount):
    return Money(Decimal(amount), "USD")


@given(amounts, amounts, currencies)
def test_same_currency_arithmetic_is_exact_decimal_arithmetic(a, b, currency):
    left, right = Money(a, currency), Money(b, currency)
    assert (left + right).amount == a + b and (left - right).amount == a - b
    assert (-left).amount == -a and (left * 3).amount == a * 3
    assert (left + right).currency == currency
    assert (left < right) == (a < b) and (left <= right) == (a <= b)
    assert (left == right) == (a == b) and (left >= right) == (a >= b)


def test_tenths_add_up_exactly():
    assert sum([usd("0.1")] * 3, Money.zero("USD")) == usd("0.3")
    assert sum([usd("0.1"), usd("0.2")]) == usd("0.3")  # sum()'s 0 start is the identity


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
    ],
)
def test_mixing_currencies_raises_naming_both(combine):
    with pytest.raises(CurrencyMismatch, match=r"USD.*JPY"):
        combine(usd(1), Money(Decimal(1), "JPY"))


def test_a_currency_mismatch_is_a_value_error():
    assert issubclass(CurrencyMismatch, ValueError)


def test_money_scales_by_decimals_and_ints_only():
    assert usd("10.00") * Decimal("0.5") == usd("5.000")
    assert 2 * usd("1.25") == usd("2.50") and usd(3) / 2 == usd("1.5")
    for bad in (1.5, True, usd(1)):
        with pytest.raises(TypeError):
            usd(1) * bad
    with pytest.raises(TypeError):
        usd(1) + Decimal(1)  # a bare number has no currency to add in


def test_a_bare_number_compares_by_amount():
    assert usd("0.00") == 0 and usd("2.50") == Decimal("2.5") and usd("1.00") == 1.0
    assert usd(-1) < 0 and not usd(0)
    assert hash(usd("2.50")) == hash(Decimal("2.5"))


def test_money_is_immutable_and_refuses_bad_parts():
    money = usd(1)
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)
    with pytest.raises(TypeError):
        Money(1.5, "USD")
    with pytest.raises(ValueError):
        Money(Decimal(1), "")
    assert pickle.loads(pickle.dumps(money)) == money


@pytest.mark.parametrize(
    ("currency", "amount", "rounded"),
    [
        ("JPY", "150020.5", "150020"),
        ("USD", "0.125", "0.12"),
        ("BHD", "1.23456", "1.235"),
        ("BTC", "0.123456785", "0.12345678"),
    ],
)
def test_rounding_goes_to_the_minor_unit_half_even(currency, amount, rounded):
    money = Money(Decimal(amount), currency).rounded()
    assert money.amount == Decimal(rounded)
    assert money.amount.as_tuple().exponent == Decimal(rounded).as_tuple().exponent


def test_rounding_up_for_fees():
    assert usd("2.723722").rounded(ROUND_UP) == usd("2.73")


class _Fill(CurrencyModel):
    fees: Money
    notional: Money | None = None
    margin: dict[str, Money] = Field(default_factory=dict)
    currency: str


class _Before(BaseModel):
    fees: Amount
    notional: Amount | None = None
    margin: dict[str, Amount] = Field(default_factory=dict)
    currency: str


@given(stored_amounts, currencies)
def test_the_stored_number_is_the_bare_decimals_and_reads_back_equal(amount, currency):
    stored = {"fees": amount, "notional": None, "margin": {"X": amount}, "currency": currency}
    before = _Before.model_validate(stored)
    now = _Fill.model_validate(stored)
    assert now.model_dump(mode="json") == before.model_dump(mode="json")
    assert now.model_dump_json() == before.model_dump_json()
    read = _Fill.model_validate(json.loads(now.model_dump_json()))
    assert read == now and read.fees == Money(amount, currency)


def test_a_model_reads_bare_numbers_in_its_own_currency():
    fill = _Fill(fees=0.25, margin={"USD/JPY": "12.5"}, currency="JPY")
    assert fill.fees == Money(Decimal("0.25"), "JPY")
    assert fill.margin["USD/JPY"] == Money(Decimal("12.5"), "JPY")
    assert Money.from_json(fill.fees.to_json(), "JPY") == fill.fees


def test_a_model_refuses_money_in_another_currency_and_garbage():
    with pytest.raises(ValidationError, match="JPY"):
        _Fill(fees=usd(1), currency="JPY")
    with pytest.raises(ValidationError, match="fees"):
        _Fill(fees="abc", currency="USD")
