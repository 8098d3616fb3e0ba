"""Alpaca's instrument specs: its assets and option contracts as InstrumentSpecs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import requests
from alpaca.broker.client import BrokerClient
from alpaca.common.exceptions import APIError
from alpaca.trading import enums as alpaca_enums
from alpaca.trading.client import TradingClient
from alpaca.trading.models import OptionContract, OptionContractsResponse
from alpaca.trading.requests import GetAssetsRequest, GetOptionContractsRequest
from pydantic import TypeAdapter

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import InstrumentUnavailable
from smart_routing.domain.instruments import FRACTIONAL_INCREMENT, InstrumentSpec
from smart_routing.domain.money import ZERO, to_decimal
from venues.alpaca.broker_api import broker_client
from venues.alpaca.client import model, rate_limited, trading_client
from venues.http import describe
from venues.instrument_specs import unlisted
from venues.settings import AlpacaBrokerSettings, AlpacaSettings

OPTION_PAGE = 10_000  # the most contracts Alpaca returns per page
EQUITY_TICK = Decimal("0.01")
OPTION_TICK = Decimal("0.01")
_ALPACA_CLASS = {AssetClass.EQUITY: alpaca_enums.AssetClass.US_EQUITY,
                 AssetClass.CRYPTO: alpaca_enums.AssetClass.CRYPTO,
                 AssetClass.OPTIONS: alpaca_enums.AssetClass.US_OPTION}  # fmt: skip


class BrokerListings:
    """The Broker API's asset master list (GET /v1/assets, /v1/assets/{symbol}, alpaca-py's
    BrokerClient) and its option contracts (GET /v1/options/contracts and
    /v1/options/contracts/{symbol_or_id}, BETA in Alpaca's Broker API spec 1.1.1; alpaca-py's
    BrokerClient has no call for them, so they are read with the Trading API's models), under
    the broker keys."""

    def __init__(self, client: BrokerClient) -> None:
        self.client = client

    def get_asset(self, symbol: str) -> Any:
        return self.client.get_asset(symbol)

    def get_all_assets(self, request: GetAssetsRequest) -> Any:
        return self.client.get_all_assets(request)

    def get_option_contract(self, symbol: str) -> OptionContract:
        return TypeAdapter(OptionContract).validate_python(
            self.client.get(f"/options/contracts/{symbol}")
        )

    def get_option_contracts(self, request: GetOptionContractsRequest) -> OptionContractsResponse:
        params = request.to_request_fields()
        params["underlying_symbols"] = ",".join(request.underlying_symbols or [])
        return TypeAdapter(OptionContractsResponse).validate_python(
            self.client.get("/options/contracts", params)
        )


class AlpacaInstruments:
    """Asset and option-contract specs from Alpaca: the Trading API's listings in trading mode,
    the Broker API's (`AlpacaBrokerSettings`: the broker keys) in broker mode.

    One symbol is one lookup (GET /v2/assets/{symbol}, /v2/options/contracts/{symbol}; /v1/ on
    the Broker API); a batch is one listing per asset class (GET /v2/assets?asset_class=...,
    the contracts of the underlyings). Crypto is always listed: there are few pairs, and the
    listing names them BTC/USD as we do.
    """

    name = "alpaca"

    def __init__(self, settings: AlpacaSettings | AlpacaBrokerSettings, timeout_s: float) -> None:
        self.client: TradingClient | BrokerListings = (
            BrokerListings(broker_client(settings, timeout_s))
            if isinstance(settings, AlpacaBrokerSettings)
            else trading_client(settings, timeout_s)
        )

    def fetch_instruments(
        self, asset_class: AssetClass, symbols: list[str]
    ) -> dict[str, InstrumentSpec]:
        try:
            found = self._fetch(asset_class, symbols)
            specs = {symbol: _spec(asset_class, raw) for symbol, raw in found.items()}
        except InstrumentUnavailable:
            raise
        except (APIError, requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise InstrumentUnavailable(
                f"alpaca instrument data for {', '.join(symbols)}: {describe(exc)}"
            ) from exc
        return {s: specs.get(s) or unlisted(s, asset_class, self.name) for s in symbols}

    def _fetch(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Any]:
        if asset_class is AssetClass.FOREX:
            return {}
        if asset_class is AssetClass.OPTIONS:
            if len(symbols) == 1:
                return self._one(self.client.get_option_contract, symbols[0])
            return self._contracts(symbols)
        if asset_class is AssetClass.EQUITY and len(symbols) == 1:
            return self._one(self.client.get_asset, symbols[0])
        request = GetAssetsRequest(asset_class=_ALPACA_CLASS[asset_class])
        listing = model(rate_limited(lambda: self.client.get_all_assets(request)))
        wanted = set(symbols)
        return {a.symbol: a for a in listing if a.symbol in wanted}

    def _one(self, lookup: Callable[[str], Any], symbol: str) -> dict[str, Any]:
        try:
            return {symbol: rate_limited(lambda: lookup(symbol))}
        except APIError as exc:
            if exc.status_code == 404:
                return {}
            raise

    def _contracts(self, symbols: list[str]) -> dict[str, Any]:
        """The contracts of the symbols' underlyings within their expiries, page by page."""
        parsed = [parse_symbol(s, AssetClass.OPTIONS).option for s in symbols]
        expiries = [o.expiry for o in parsed if o is not None]
        request = GetOptionContractsRequest(
            underlying_symbols=sorted({o.underlying for o in parsed if o is not None}),
            status=None, expiration_date_gte=min(expiries), expiration_date_lte=max(expiries),
            limit=OPTION_PAGE,
        )  # fmt: skip
        wanted = set(symbols)
        found: dict[str, Any] = {}
        while True:
            page = model(rate_limited(partial(self.client.get_option_contracts, request)))
            found.update({c.symbol: c for c in page.option_contracts or [] if c.symbol in wanted})
            if not page.next_page_token or wanted <= found.keys():
                return found
            request = request.model_copy(update={"page_token": page.next_page_token})


def _spec(asset_class: AssetClass, raw: Any) -> InstrumentSpec:
    """An Alpaca asset or option contract as an InstrumentSpec; garbage raises ValueError."""
    instrument = parse_symbol(raw.symbol, asset_class)
    active = str(raw.status.value) == "active"
    common = {
        "symbol": instrument.symbol, "asset_class": asset_class, "venue": "alpaca",
        "source": "alpaca", "tradable": bool(raw.tradable) and active,
        "untradable_reason": None if raw.tradable and active else
        f"{instrument.symbol} is not tradable at alpaca (status {raw.status.value})",
    }  # fmt: skip
    if asset_class is AssetClass.OPTIONS:
        return InstrumentSpec(
            **common, quote_currency="USD", base=raw.underlying_symbol,
            qty_increment=Decimal(1), min_qty=Decimal(1), price_tick=OPTION_TICK,
            multiplier=_positive(raw.size, "contract size"),
            expiry=_date(raw.expiration_date),
        )  # fmt: skip
    fractionable = bool(raw.fractionable)
    default_step = FRACTIONAL_INCREMENT if fractionable else Decimal(1)
    step = _positive(raw.min_trade_increment or default_step, "min_trade_increment")
    return InstrumentSpec(
        **common,
        quote_currency=instrument.quote_currency or "USD",
        base=instrument.base,
        qty_increment=step,
        min_qty=_positive(raw.min_order_size or step, "min_order_size"),
        price_tick=_positive(raw.price_increment or EQUITY_TICK, "price_increment"),
        fractionable=fractionable,
        shortable=bool(raw.shortable) and asset_class is AssetClass.EQUITY,
    )


def _positive(value: object, what: str) -> Decimal:
    number = to_decimal(value, what)
    if number <= ZERO:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return number


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
