"""A pydantic model whose Money fields are all in its own `currency`, stored and answered as
bare numbers beside it: the stored shapes of the bare-Decimal days, with Money inside."""

from __future__ import annotations

from decimal import Decimal
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, model_validator

from smart_routing.domain.money import CurrencyMismatch, Money

_BARE_AMOUNTS = (Decimal, int)  # a number stored without its currency


def _money_shape(annotation: object) -> str | None:
    """'one' for a Money (or optional Money) field, 'map' for a dict of them, 'nested' for a
    list of CurrencyModels, else None."""
    if annotation is Money or (get_origin(annotation) in _UNIONS and Money in get_args(annotation)):
        return "one"
    if get_origin(annotation) is dict and get_args(annotation)[1:] == (Money,):
        return "map"
    item = get_args(annotation)[0] if get_origin(annotation) is list else None
    if isinstance(item, type) and issubclass(item, CurrencyModel):
        return "nested"
    return None


_UNIONS = (Union, UnionType)


class CurrencyModel(BaseModel):
    """A model whose Money fields are all in its own `currency` field's currency, and are
    stored and answered as bare numbers beside it (the stored shapes of the bare-Decimal
    days). A bare number given for a Money field, or its bare-number default, is read in that
    currency; so are the items of a list of CurrencyModels stored without their own (a part
    of a record, whose `currency` field is `Field(exclude=True)`)."""

    # (name, shape, default) of each field holding Money; the currency field's default.
    _money_fields: ClassVar[tuple[tuple[str, str, object], ...]] = ()
    _default_currency: ClassVar[object] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.model_fields
        cls._money_fields = tuple(
            (name, shape, field.default)
            for name, field in fields.items()
            if (shape := _money_shape(field.annotation))
        )
        cls._default_currency = fields["currency"].default

    @model_validator(mode="before")
    @classmethod
    def _amounts_in_currency(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        currency = data.get("currency", cls._default_currency)
        if not isinstance(currency, str) or not currency:
            return data  # the currency field's own validation says what is wrong
        wrapped = dict(data)
        for name, shape, default in cls._money_fields:
            value = data.get(name, default)
            if name not in data and not isinstance(value, _BARE_AMOUNTS):
                continue  # a default that is not a bare amount (a factory, None) stays
            if shape == "one":
                wrapped[name] = _in_currency(value, currency, name)
            elif shape == "nested" and isinstance(value, list):
                wrapped[name] = [
                    {"currency": currency} | item if isinstance(item, dict) else item
                    for item in value
                ]
            elif isinstance(value, dict):
                wrapped[name] = {
                    k: _in_currency(v, currency, f"{name}.{k}") for k, v in value.items()
                }
        return wrapped


def _in_currency(value: object, currency: str, what: str) -> object:
    if value is None:
        return value
    if isinstance(value, Money):
        if value.currency != currency:
            raise CurrencyMismatch(currency, value.currency)
        return value
    return Money.from_json(value, currency, what)
