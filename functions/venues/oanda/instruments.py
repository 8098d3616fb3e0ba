"""OANDA's instrument specs: the account's instruments as InstrumentSpecs."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests
from oandapyV20 import API, V20Error
from oandapyV20.endpoints import accounts

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.domain.instruments import InstrumentSpec
from venues.http import describe
from venues.instrument_specs import unlisted
from venues.oanda.client import rate_limited_request
from venues.oanda.formats import amount, instrument_of, symbol_of


class OandaInstruments:
    """The account's instruments (GET /v3/accounts/{id}/instruments), many in one request."""

    name = "oanda"

    def __init__(self, api: API, account_id: str, sleep: Callable[[float], None] = time.sleep):
        self.api, self.account_id, self.sleep = api, account_id, sleep

    def fetch_instruments(
        self, asset_class: AssetClass, symbols: list[str]
    ) -> dict[str, InstrumentSpec]:
        wanted = {instrument_of(s): s for s in symbols}
        endpoint = accounts.AccountInstruments(
            self.account_id, params={"instruments": ",".join(wanted)}
        )
        try:
            listed = rate_limited_request(self.api, endpoint, self.sleep)["instruments"]
            specs = {wanted[i["name"]]: _spec(i) for i in listed if i["name"] in wanted}
        except (V20Error, requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise InstrumentUnavailable(
                f"oanda instrument data for {', '.join(symbols)}: {describe(exc)}"
            ) from exc
        return {s: specs.get(s) or unlisted(s, asset_class, self.name) for s in symbols}


def _spec(raw: dict[str, Any]) -> InstrumentSpec:
    """An OANDA instrument as an InstrumentSpec; garbage raises ValueError or KeyError."""
    instrument = parse_symbol(symbol_of(raw["name"]), AssetClass.FOREX)
    return InstrumentSpec(
        symbol=instrument.symbol, asset_class=AssetClass.FOREX, venue="oanda", source="oanda",
        quote_currency=instrument.quote_currency, base=instrument.base,
        qty_increment=_places(raw["tradeUnitsPrecision"], "tradeUnitsPrecision"),
        min_qty=amount(raw["minimumTradeSize"], "minimumTradeSize"),
        price_tick=_places(raw["displayPrecision"], "displayPrecision"), shortable=True,
    )  # fmt: skip


def _places(value: object, what: str) -> Decimal:
    """10^-places: 5 is 0.00001, 0 is 1."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 12:
        raise ValueError(f"{what} must be a whole number of places, got {value!r}")
    return Decimal(1).scaleb(-value)
