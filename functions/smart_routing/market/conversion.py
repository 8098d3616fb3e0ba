"""Converting an amount in one currency to the account's, at the mid of the pair as it trades.

Pairs are named the way the market quotes them (EUR/USD, USD/JPY, BTC/USD), so the quote asked
for is one a venue has; the rate is its mid or the mid's inverse.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from smart_routing.domain.assets import FIAT_CURRENCIES, AssetClass
from smart_routing.domain.money import Amount
from smart_routing.market.quotes import Quote


class Conversion(BaseModel):
    """How many units of the account currency one unit of the quote currency is worth."""

    model_config = ConfigDict(frozen=True)

    rate: Amount
    symbol: str  # the pair whose mid gave the rate, or the currency itself for 1


# Which currency is the base when two fiat currencies meet (the market's convention).
_BASE_PRIORITY = ("EUR", "GBP", "AUD", "NZD", "USD", "CAD", "CHF")


def conversion_pair(from_currency: str, to_currency: str) -> tuple[str, AssetClass, bool]:
    """(pair symbol, its asset class, whether the rate is the mid's inverse)."""
    from_fiat, to_fiat = from_currency in FIAT_CURRENCIES, to_currency in FIAT_CURRENCIES
    if from_fiat and to_fiat:
        if _rank(from_currency) <= _rank(to_currency):
            return f"{from_currency}/{to_currency}", AssetClass.FOREX, False
        return f"{to_currency}/{from_currency}", AssetClass.FOREX, True
    if not from_fiat:  # a coin priced in fiat (or in another coin)
        return f"{from_currency}/{to_currency}", AssetClass.CRYPTO, False
    return f"{to_currency}/{from_currency}", AssetClass.CRYPTO, True


def conversion_from_quote(quote: Quote, inverse: bool) -> Conversion:
    mid = quote.mid
    rate = Decimal(1) / mid if inverse else mid
    return Conversion(rate=rate, symbol=quote.symbol)


def _rank(currency: str) -> int:
    try:
        return _BASE_PRIORITY.index(currency)
    except ValueError:
        return len(_BASE_PRIORITY)
