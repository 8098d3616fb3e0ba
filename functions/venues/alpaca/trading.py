"""Alpaca through alpaca-py: latest quotes, bars and crypto order books; orders and account.

alpaca-py loads pandas, so this module is imported only where a configured venue needs it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import requests
from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from alpaca.data.enums import DataFeed
from alpaca.data.historical import (
    CryptoHistoricalDataClient,
    OptionHistoricalDataClient,
    StockHistoricalDataClient,
)
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestOrderbookRequest,
    CryptoLatestQuoteRequest,
    OptionLatestQuoteRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
)
from alpaca.data.timeframe import TimeFrame
from alpaca.trading import enums as alpaca_enums
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import (
    GetAssetsRequest,
    GetOptionContractsRequest,
    LimitOrderRequest,
    MarketOrderRequest,
)

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import (
    InstrumentUnavailable,
    OrderOutcomeUnknown,
    OrderRejected,
    VenueUnavailable,
)
from smart_routing.domain.instruments import FRACTIONAL_INCREMENT, InstrumentSpec
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)
from smart_routing.market.quotes import Bar, Quote
from smart_routing.market.spread import BookLevel, OrderBook
from venues.http import MAYBE_SENT, describe, retry_after_s, with_timeout
from venues.instrument_specs import unlisted
from venues.settings import AlpacaSettings

T = TypeVar("T")
MAX_RATE_LIMIT_WAIT_S = 2.0
SUBMIT_ATTEMPTS = 3
DUPLICATE_CLIENT_ID = "client_order_id must be unique"
OPTION_PAGE = 10_000  # the most contracts Alpaca returns per page
EQUITY_TICK = Decimal("0.01")
OPTION_TICK = Decimal("0.01")


def trading_client(settings: AlpacaSettings, timeout_s: float) -> TradingClient:
    """alpaca-py's trading client for these settings, with this module's timeout and retries."""
    client = TradingClient(
        settings.api_key, settings.secret_key, paper=not settings.live,
        url_override=settings.trading_url,
    )  # fmt: skip
    _prepare(client, timeout_s)
    return client


def _prepare(client: RESTClient, timeout_s: float) -> None:
    with_timeout(client._session, timeout_s)
    # alpaca-py retries 429 and 504 three times with a fixed 3 s sleep, ignoring Retry-After,
    # and its data clients take no setting for it: the adapters below retry instead.
    client._retry_codes = []


def _rate_limited(call: Callable[[], T], sleep: Callable[[float], None] = time.sleep) -> T:
    """Call once more after a 429, waiting what Retry-After asks (within a bound)."""
    try:
        return call()
    except APIError as exc:
        if exc.status_code != 429:
            raise
        wait = retry_after_s(exc.response)
        if wait > MAX_RATE_LIMIT_WAIT_S:
            raise
        sleep(wait)
    return call()


class AlpacaQuoteSource:
    """Latest quotes for many symbols of one asset class in one request."""

    name = "alpaca"

    def __init__(self, settings: AlpacaSettings, timeout_s: float) -> None:
        keys = {"api_key": settings.api_key, "secret_key": settings.secret_key}
        self.stocks = StockHistoricalDataClient(**keys, url_override=settings.data_url)
        self.crypto = CryptoHistoricalDataClient(**keys, url_override=settings.data_url)
        self.options = OptionHistoricalDataClient(**keys, url_override=settings.data_url)
        for client in (self.stocks, self.crypto, self.options):
            _prepare(client, timeout_s)
        self.feed = DataFeed(settings.feed.value)

    def latest_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        fetch = {
            AssetClass.EQUITY: lambda: self.stocks.get_stock_latest_quote(
                StockLatestQuoteRequest(symbol_or_symbols=symbols, feed=self.feed)
            ),
            AssetClass.CRYPTO: lambda: self.crypto.get_crypto_latest_quote(
                CryptoLatestQuoteRequest(symbol_or_symbols=symbols)
            ),
            AssetClass.OPTIONS: lambda: self.options.get_option_latest_quote(
                OptionLatestQuoteRequest(symbol_or_symbols=symbols)
            ),
        }[asset_class]
        source = f"alpaca:{self.feed.value}" if asset_class is AssetClass.EQUITY else "alpaca"
        raw = _rate_limited(fetch)
        return {symbol: _quote(symbol, raw.get(symbol), source) for symbol in symbols}

    def bars(self, asset_class: AssetClass, symbol: str, limit: int) -> list[Bar]:
        start = datetime.now(UTC) - timedelta(minutes=limit * 3)
        if asset_class is AssetClass.CRYPTO:
            request = CryptoBarsRequest(
                symbol_or_symbols=symbol, timeframe=TimeFrame.Minute, start=start
            )
            barset = _rate_limited(lambda: self.crypto.get_crypto_bars(request))
        else:
            request = StockBarsRequest(
                symbol_or_symbols=symbol, timeframe=TimeFrame.Minute, start=start, feed=self.feed
            )
            barset = _rate_limited(lambda: self.stocks.get_stock_bars(request))
        rows = barset.data.get(symbol, [])[-limit:]
        return [
            Bar(start=b.timestamp, open=b.open, high=b.high, low=b.low, close=b.close,
                volume=b.volume)
            for b in rows
        ]  # fmt: skip

    def order_book(self, asset_class: AssetClass, symbol: str) -> OrderBook | None:
        """The crypto order book, for size-aware cost estimates; Alpaca has none for the rest."""
        if asset_class is not AssetClass.CRYPTO:
            return None
        request = CryptoLatestOrderbookRequest(symbol_or_symbols=[symbol])
        book = _rate_limited(lambda: self.crypto.get_crypto_latest_orderbook(request)).get(symbol)
        if book is None:
            return None
        return OrderBook(
            bids=[BookLevel(price=q.price, size=q.size) for q in book.bids],
            asks=[BookLevel(price=q.price, size=q.size) for q in book.asks],
        )


def _quote(symbol: str, raw: Any, source: str) -> Quote | None:
    """alpaca-py parses prices to floats: each becomes the Decimal of its shortest repr."""
    if raw is None:
        return None
    return Quote(
        symbol=symbol,
        bid=to_decimal(raw.bid_price, "bid"),
        ask=to_decimal(raw.ask_price, "ask"),
        as_of=raw.timestamp,
        source=source,
        bid_size=None if raw.bid_size is None else to_decimal(raw.bid_size, "bid size"),
        ask_size=None if raw.ask_size is None else to_decimal(raw.ask_size, "ask size"),
    )


_STATUS = {
    "new": OrderStatus.NEW, "pending_new": OrderStatus.NEW, "accepted": OrderStatus.ACCEPTED,
    "accepted_for_bidding": OrderStatus.ACCEPTED, "pending_review": OrderStatus.ACCEPTED,
    "held": OrderStatus.ACCEPTED, "calculated": OrderStatus.ACCEPTED,
    "pending_cancel": OrderStatus.ACCEPTED, "pending_replace": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED, "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED, "done_for_day": OrderStatus.EXPIRED,
    "expired": OrderStatus.EXPIRED, "replaced": OrderStatus.CANCELED,
    "stopped": OrderStatus.CANCELED, "suspended": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}  # fmt: skip
_ASSET_CLASS = {"us_equity": AssetClass.EQUITY, "crypto": AssetClass.CRYPTO,
                "us_option": AssetClass.OPTIONS}  # fmt: skip
_ALPACA_CLASS = {AssetClass.EQUITY: alpaca_enums.AssetClass.US_EQUITY,
                 AssetClass.CRYPTO: alpaca_enums.AssetClass.CRYPTO,
                 AssetClass.OPTIONS: alpaca_enums.AssetClass.US_OPTION}  # fmt: skip
_DEFAULT_TIF = {AssetClass.EQUITY: TimeInForce.DAY, AssetClass.OPTIONS: TimeInForce.DAY,
                AssetClass.CRYPTO: TimeInForce.GTC}  # fmt: skip


class AlpacaBroker:
    """Orders on Alpaca; paper trading unless the settings say live.

    One intent makes at most one order: Alpaca refuses a second order with the same
    client_order_id (that answer resolves to the order it has). After a timeout, a dropped
    connection or a 5xx the outcome is unknown: this raises OrderOutcomeUnknown and the engine
    looks the order up (the one place that recovery lives).
    """

    name = "alpaca"

    def __init__(
        self,
        settings: AlpacaSettings,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = trading_client(settings, timeout_s)
        self.sleep = sleep

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.name

    def submit_order(self, request: OrderRequest) -> Order:
        order_request = alpaca_order_request(request)
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                return _order(self.client.submit_order(order_request), request)
            except APIError as exc:
                if exc.status_code == 429 and attempt < SUBMIT_ATTEMPTS:
                    # A 429 was refused before any work: sending again is safe.
                    self.sleep(min(retry_after_s(exc.response), MAX_RATE_LIMIT_WAIT_S))
                    continue
                return self._refused(request, exc)
            except requests.ConnectTimeout as exc:
                raise VenueUnavailable(f"alpaca unreachable: {describe(exc)}") from exc
            except (*MAYBE_SENT, requests.ConnectionError) as exc:
                raise OrderOutcomeUnknown(f"alpaca: {describe(exc)}") from exc
        raise AssertionError("unreachable")

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            found = self.client.get_order_by_client_id(client_order_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise
        return _order(found)

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        """DELETE /v2/orders/{id} (alpaca-py's cancel_order_by_id) when the order still works.
        Alpaca answers 422 for an order that can no longer be canceled (it filled meanwhile):
        then, as after any cancel, the order is read back as Alpaca has it."""
        found = self.get_order_by_client_id(client_order_id)
        if found is None or not found.is_working:
            return found
        try:
            self.client.cancel_order_by_id(found.broker_order_id)
        except APIError as exc:
            if exc.status_code not in (404, 422):
                raise
        return self.get_order_by_client_id(client_order_id)

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        """The venue's account, which the platform's users share: `owner` changes nothing."""
        account = self.client.get_account()
        positions = [_position(p) for p in self.client.get_all_positions()]
        return AccountSnapshot(
            currency=str(account.currency or "USD"),
            cash=to_decimal(account.cash or 0, "cash"),
            buying_power=to_decimal(account.buying_power or 0, "buying power"),
            positions={p.symbol: p for p in positions},
            as_of=datetime.now(UTC),
        )

    def _refused(self, request: OrderRequest, exc: APIError) -> Order:
        status = exc.status_code
        if status == 422 and DUPLICATE_CLIENT_ID in str(exc):
            # Not an unclear outcome: the venue says it has this order. Return it, as the
            # Broker port asks of an idempotent submit.
            existing = self.get_order_by_client_id(request.client_order_id)
            if existing is None:
                raise OrderOutcomeUnknown(f"alpaca: duplicate {request.client_order_id}") from exc
            return existing
        if status == 429:
            raise VenueUnavailable(f"alpaca rate limit: {describe(exc)}") from exc
        if status is not None and status >= 500:
            raise OrderOutcomeUnknown(f"alpaca {status}: {describe(exc)}") from exc
        raise OrderRejected(f"alpaca: {_venue_message(exc)}") from exc


# What Alpaca's crypto pairs are quoted in, longest first (USDT before USD).
_CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


def _canonical(symbol: str, asset_class: AssetClass) -> str:
    """Alpaca names crypto positions BTCUSD and crypto orders BTC/USD: keep BTC/USD, also for
    a coin our list does not know (RENDERUSD is RENDER/USD). A name that still makes no pair
    stays as Alpaca wrote it: one odd position must not make the account unreadable."""
    try:
        return parse_symbol(symbol, asset_class).symbol
    except ValueError:
        pass
    if asset_class is AssetClass.CRYPTO and "/" not in symbol:
        for quote in _CRYPTO_QUOTES:
            base = symbol[: -len(quote)]
            if symbol.endswith(quote) and len(base) >= 2:
                with contextlib.suppress(ValueError):
                    return parse_symbol(f"{base}/{quote}", asset_class).symbol
    return symbol


def _asset_class(raw: Any) -> AssetClass:
    return _ASSET_CLASS.get(str(getattr(raw.asset_class, "value", raw.asset_class)),
                            AssetClass.EQUITY)  # fmt: skip


def _position(raw: Any) -> Position:
    asset_class = _asset_class(raw)
    return Position(
        symbol=_canonical(raw.symbol, asset_class),
        asset_class=asset_class,
        qty=to_decimal(raw.qty, "position qty"),
        avg_price=to_decimal(raw.avg_entry_price, "average entry price"),
    )


def _order(raw: Any, request: OrderRequest | None = None) -> Order:
    """An order as Alpaca reports it. Alpaca reports no fee on the order: fees stay None and
    the ledger uses the fee model."""
    asset_class = request.asset_class if request else _asset_class(raw)
    filled_avg = raw.filled_avg_price
    return Order(
        broker=AlpacaBroker.name,
        broker_order_id=str(raw.id),
        client_order_id=raw.client_order_id,
        symbol=request.symbol if request else _canonical(raw.symbol, asset_class),
        asset_class=asset_class,
        side=OrderSide(str(raw.side.value)),
        qty=to_decimal(raw.qty, "order qty"),
        order_type=OrderType(str(raw.order_type.value)),
        limit_price=None if raw.limit_price is None else to_decimal(raw.limit_price, "limit"),
        status=_STATUS.get(str(raw.status.value), OrderStatus.ACCEPTED),
        filled_qty=to_decimal(raw.filled_qty or 0, "filled qty"),
        filled_avg_price=to_decimal(filled_avg, "fill price") if filled_avg else None,
        submitted_at=raw.submitted_at,
        filled_at=raw.filled_at,
    )


class AlpacaInstruments:
    """Asset and option-contract specs from Alpaca's trading API.

    One symbol is one lookup (GET /v2/assets/{symbol}, /v2/options/contracts/{symbol}); a
    batch is one listing per asset class (GET /v2/assets?asset_class=..., the contracts of the
    underlyings). Crypto is always listed: there are few pairs, and the listing names them
    BTC/USD as we do.
    """

    name = "alpaca"

    def __init__(self, settings: AlpacaSettings, timeout_s: float) -> None:
        self.client = trading_client(settings, timeout_s)

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
        listing = _rate_limited(
            lambda: self.client.get_all_assets(
                GetAssetsRequest(asset_class=_ALPACA_CLASS[asset_class])
            )
        )
        wanted = set(symbols)
        return {a.symbol: a for a in listing if a.symbol in wanted}

    def _one(self, lookup: Callable[[str], Any], symbol: str) -> dict[str, Any]:
        try:
            return {symbol: _rate_limited(lambda: lookup(symbol))}
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
        wanted, found = set(symbols), {}
        while True:
            page = _rate_limited(lambda r=request: self.client.get_option_contracts(r))
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


def alpaca_order_request(request: OrderRequest) -> MarketOrderRequest | LimitOrderRequest:
    """The alpaca-py request, after each asset class's rules; a breach is OrderRejected."""
    asset_class = request.asset_class
    if asset_class is AssetClass.FOREX:
        raise OrderRejected("alpaca does not trade forex: route FOREX to oanda")
    tif = request.time_in_force or _DEFAULT_TIF[asset_class]
    whole = request.qty == request.qty.to_integral_value()
    if asset_class is AssetClass.EQUITY and not whole and tif is not TimeInForce.DAY:
        raise OrderRejected("alpaca: fractional equity orders must be time_in_force day")
    if asset_class is AssetClass.CRYPTO and tif not in (TimeInForce.GTC, TimeInForce.IOC):
        raise OrderRejected("alpaca: crypto orders must be time_in_force gtc or ioc")
    if asset_class is AssetClass.OPTIONS and not whole:
        raise OrderRejected("alpaca: options trade in whole contracts")
    if asset_class is AssetClass.OPTIONS and tif is not TimeInForce.DAY:
        raise OrderRejected("alpaca: option orders must be time_in_force day")
    common = {
        "symbol": request.symbol,
        "qty": request.qty,
        "side": alpaca_enums.OrderSide(request.side.value),
        "time_in_force": alpaca_enums.TimeInForce(tif.value),
        "client_order_id": request.client_order_id,
    }
    if request.order_type is OrderType.LIMIT:
        return LimitOrderRequest(**common, limit_price=request.limit_price)
    return MarketOrderRequest(**common)


def _venue_message(exc: APIError) -> str:
    try:
        return describe(Exception(exc.message))
    except (KeyError, TypeError, ValueError):
        return describe(exc)
