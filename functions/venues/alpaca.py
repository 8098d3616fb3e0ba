"""Alpaca through alpaca-py: latest quotes, bars and crypto order books; orders and account.

alpaca-py loads pandas, so this module is imported only where a configured venue needs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from smart_routing.assets import AssetClass
from smart_routing.costs import BookLevel, OrderBook
from smart_routing.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.market_data import Bar, Quote
from smart_routing.orders import (
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)
from venues.http import MAYBE_SENT, describe, retry_after_s, with_timeout
from venues.settings import AlpacaSettings

T = TypeVar("T")
MAX_RATE_LIMIT_WAIT_S = 2.0
SUBMIT_ATTEMPTS = 3
DUPLICATE_CLIENT_ID = "client_order_id must be unique"


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

    def order_book(self, symbol: str) -> OrderBook | None:
        """The crypto order book, for size-aware cost estimates."""
        request = CryptoLatestOrderbookRequest(symbol_or_symbols=[symbol])
        book = _rate_limited(lambda: self.crypto.get_crypto_latest_orderbook(request)).get(symbol)
        if book is None:
            return None
        return OrderBook(
            bids=[BookLevel(price=q.price, size=q.size) for q in book.bids],
            asks=[BookLevel(price=q.price, size=q.size) for q in book.asks],
        )


def _quote(symbol: str, raw: Any, source: str) -> Quote | None:
    if raw is None:
        return None
    return Quote(
        symbol=symbol,
        bid=raw.bid_price,
        ask=raw.ask_price,
        as_of=raw.timestamp,
        source=source,
        bid_size=raw.bid_size,
        ask_size=raw.ask_size,
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
_DEFAULT_TIF = {AssetClass.EQUITY: TimeInForce.DAY, AssetClass.OPTIONS: TimeInForce.DAY,
                AssetClass.CRYPTO: TimeInForce.GTC}  # fmt: skip


class AlpacaBroker:
    """Orders on Alpaca; paper trading unless the settings say live.

    One intent makes at most one order: Alpaca refuses a second order with the same
    client_order_id, and after a timeout or a 5xx the order is looked up before anything is
    sent again.
    """

    name = "alpaca"

    def __init__(
        self,
        settings: AlpacaSettings,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = TradingClient(
            settings.api_key, settings.secret_key, paper=not settings.live,
            url_override=settings.trading_url,
        )  # fmt: skip
        _prepare(self.client, timeout_s)
        self.sleep = sleep

    def submit_order(self, request: OrderRequest) -> Order:
        order_request = alpaca_order_request(request)
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            last = attempt == SUBMIT_ATTEMPTS
            try:
                return self._order(self.client.submit_order(order_request), request)
            except APIError as exc:
                status = exc.status_code
                if status == 422 and DUPLICATE_CLIENT_ID in str(exc):
                    return self._existing(request, f"duplicate {request.client_order_id}")
                if status == 429 and not last:
                    self.sleep(min(retry_after_s(exc.response), MAX_RATE_LIMIT_WAIT_S))
                    continue
                if status == 429:
                    raise VenueUnavailable(f"alpaca rate limit: {describe(exc)}") from exc
                if status is not None and status >= 500:
                    # The venue may have taken it: look before sending again. Sending again
                    # cannot double it: the venue refuses a repeated client_order_id.
                    found = self._lookup_quietly(request.client_order_id)
                    if found is not None:
                        return self._order(found, request)
                    if last:
                        raise OrderOutcomeUnknown(f"alpaca {status}: {describe(exc)}") from exc
                    continue
                raise OrderRejected(f"alpaca: {_venue_message(exc)}") from exc
            except requests.ConnectTimeout as exc:
                raise VenueUnavailable(f"alpaca unreachable: {describe(exc)}") from exc
            except (*MAYBE_SENT, requests.ConnectionError) as exc:
                return self._existing(request, describe(exc))
        raise AssertionError("unreachable")

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        found = self._lookup(client_order_id)
        return None if found is None else self._order(found)

    def get_account(self) -> AccountSnapshot:
        account = self.client.get_account()
        positions = {}
        for p in self.client.get_all_positions():
            asset_class = _ASSET_CLASS.get(str(p.asset_class.value), AssetClass.EQUITY)
            positions[p.symbol] = Position(
                symbol=p.symbol, asset_class=asset_class, qty=float(p.qty),
                avg_price=float(p.avg_entry_price),
            )  # fmt: skip
        return AccountSnapshot(
            cash=float(account.cash or 0),
            buying_power=float(account.buying_power or 0),
            positions=positions,
            as_of=datetime.now(UTC),
        )

    def _existing(self, request: OrderRequest, cause: str) -> Order:
        """After an unclear outcome: the order as the venue has it, or OrderOutcomeUnknown."""
        found = self._lookup_quietly(request.client_order_id)
        if found is None:
            raise OrderOutcomeUnknown(f"alpaca: {cause}; the order could not be found")
        return self._order(found, request)

    def _lookup(self, client_order_id: str) -> Any:
        try:
            return self.client.get_order_by_client_id(client_order_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise

    def _lookup_quietly(self, client_order_id: str) -> Any:
        try:
            return self._lookup(client_order_id)
        except (APIError, requests.RequestException, ValueError):
            return None

    def _order(self, raw: Any, request: OrderRequest | None = None) -> Order:
        side = OrderSide(str(raw.side.value))
        asset_class = request.asset_class if request else _ASSET_CLASS[str(raw.asset_class.value)]
        return Order(
            broker=self.name,
            broker_order_id=str(raw.id),
            client_order_id=raw.client_order_id,
            symbol=request.symbol if request else raw.symbol,
            asset_class=asset_class,
            side=side,
            qty=float(raw.qty),
            order_type=OrderType(str(raw.order_type.value)),
            limit_price=float(raw.limit_price) if raw.limit_price is not None else None,
            status=_STATUS.get(str(raw.status.value), OrderStatus.ACCEPTED),
            filled_qty=float(raw.filled_qty or 0),
            filled_avg_price=float(raw.filled_avg_price) if raw.filled_avg_price else None,
            submitted_at=raw.submitted_at,
            filled_at=raw.filled_at,
        )


def alpaca_order_request(request: OrderRequest) -> MarketOrderRequest | LimitOrderRequest:
    """The alpaca-py request, after each asset class's rules; a breach is OrderRejected."""
    asset_class = request.asset_class
    if asset_class is AssetClass.FOREX:
        raise OrderRejected("alpaca does not trade forex: route FOREX to oanda")
    tif = request.time_in_force or _DEFAULT_TIF[asset_class]
    whole = float(request.qty).is_integer()
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
