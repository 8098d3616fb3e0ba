"""OANDA through oandapyV20, for forex (Alpaca does not trade currencies). Practice by default."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from oandapyV20 import API, V20Error
from oandapyV20 import oandapyV20 as v20
from oandapyV20.endpoints import accounts, orders, positions, pricing, transactions

from smart_routing.assets import AssetClass
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
)
from venues.http import MAYBE_SENT, describe
from venues.settings import OandaSettings

DUPLICATE_CLIENT_ID = "CLIENT_ORDER_ID_ALREADY_EXISTS"
_STATES = {"FILLED": OrderStatus.FILLED, "PENDING": OrderStatus.ACCEPTED,
           "CANCELLED": OrderStatus.CANCELED}  # fmt: skip
RATE_LIMIT_WAIT_S = 0.5


def oanda_api(settings: OandaSettings, timeout_s: float) -> API:
    """The client; with `api_url` set (a proxy, a test server) it is registered as its own
    environment, which is how oandapyV20 resolves base URLs."""
    environment = "live" if settings.live else "practice"
    if settings.api_url:
        environment = f"url:{settings.api_url}"
        v20.TRADING_ENVIRONMENTS[environment] = {"api": settings.api_url,
                                                 "stream": settings.api_url}  # fmt: skip
    return API(settings.access_token, environment=environment,
               request_params={"timeout": timeout_s})  # fmt: skip


def instrument_of(symbol: str) -> str:
    return symbol.replace("/", "_")


def _time(text: str) -> datetime:
    """OANDA's RFC 3339 times carry nanoseconds, more than datetime parses."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}").replace(tzinfo=UTC)


class OandaQuoteSource:
    name = "oanda"

    def __init__(self, api: API, account_id: str, sleep: Callable[[float], None] = time.sleep):
        self.api, self.account_id, self.sleep = api, account_id, sleep

    def latest_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        wanted = {instrument_of(s): s for s in symbols}
        endpoint = pricing.PricingInfo(self.account_id, params={"instruments": ",".join(wanted)})
        response = self._request(endpoint)
        quotes: dict[str, Quote | None] = dict.fromkeys(symbols)
        for price in response.get("prices", []):
            symbol = wanted.get(price["instrument"])
            if symbol is None or not price.get("tradeable", True) or not price.get("bids"):
                continue
            quotes[symbol] = Quote(
                symbol=symbol, bid=float(price["bids"][0]["price"]),
                ask=float(price["asks"][0]["price"]), as_of=_time(price["time"]), source="oanda",
            )  # fmt: skip
        return quotes

    def bars(self, asset_class: AssetClass, symbol: str, limit: int) -> list[Bar]:
        from oandapyV20.endpoints.instruments import InstrumentsCandles

        endpoint = InstrumentsCandles(
            instrument_of(symbol), params={"granularity": "M1", "count": limit, "price": "M"}
        )
        return [
            Bar(start=_time(c["time"]), open=float(c["mid"]["o"]), high=float(c["mid"]["h"]),
                low=float(c["mid"]["l"]), close=float(c["mid"]["c"]), volume=c.get("volume", 0))
            for c in self._request(endpoint).get("candles", []) if c.get("complete", True)
        ]  # fmt: skip

    def _request(self, endpoint: Any) -> dict[str, Any]:
        try:
            return self.api.request(endpoint)
        except V20Error as exc:
            if exc.code != 429:
                raise
        self.sleep(RATE_LIMIT_WAIT_S)
        return self.api.request(endpoint)


class OandaBroker:
    """FX market orders (fill-or-kill) and limit orders (good till cancelled) on OANDA."""

    name = "oanda"

    def __init__(self, api: API, account_id: str) -> None:
        self.api, self.account_id = api, account_id

    def submit_order(self, request: OrderRequest) -> Order:
        if request.asset_class is not AssetClass.FOREX:
            raise OrderRejected(f"oanda trades forex only, not {request.asset_class.value}")
        if not float(request.qty).is_integer():
            raise OrderRejected("oanda: forex orders are in whole units of the base currency")
        endpoint = orders.OrderCreate(self.account_id, data={"order": _order_body(request)})
        try:
            response = self.api.request(endpoint)
        except V20Error as exc:
            if DUPLICATE_CLIENT_ID in str(exc):
                return self._existing(request, "duplicate client order id")
            if exc.code == 429 or exc.code >= 500:
                return self._existing(request, describe(exc))
            raise OrderRejected(f"oanda: {_reject_reason(exc)}") from exc
        except requests.ConnectTimeout as exc:
            raise VenueUnavailable(f"oanda unreachable: {describe(exc)}") from exc
        except (*MAYBE_SENT, requests.ConnectionError) as exc:
            return self._existing(request, describe(exc))
        return _from_create(request, response)

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return self._lookup(client_order_id, None)

    def get_account(self) -> AccountSnapshot:
        account = self.api.request(accounts.AccountSummary(self.account_id))["account"]
        held = self.api.request(positions.OpenPositions(self.account_id))["positions"]
        snapshot_positions = {}
        for p in held:
            qty = float(p["long"]["units"]) + float(p["short"]["units"])
            side = p["long"] if qty > 0 else p["short"]
            symbol = p["instrument"].replace("_", "/")
            snapshot_positions[symbol] = Position(
                symbol=symbol, asset_class=AssetClass.FOREX, qty=qty,
                avg_price=float(side.get("averagePrice", 0) or 0),
            )  # fmt: skip
        return AccountSnapshot(
            cash=float(account["balance"]), buying_power=float(account["marginAvailable"]),
            positions=snapshot_positions, as_of=datetime.now(UTC),
        )  # fmt: skip

    def _existing(self, request: OrderRequest, cause: str) -> Order:
        try:
            found = self._lookup(request.client_order_id, request)
        except (V20Error, requests.RequestException, KeyError, ValueError):
            found = None
        if found is None:
            raise OrderOutcomeUnknown(f"oanda: {cause}; the order could not be found")
        return found

    def _lookup(self, client_order_id: str, request: OrderRequest | None) -> Order | None:
        endpoint = orders.OrderDetails(self.account_id, orderID=f"@{client_order_id}")
        try:
            order = self.api.request(endpoint)["order"]
        except V20Error as exc:
            if exc.code == 404:
                return None
            raise
        price = None
        if order["state"] == "FILLED":
            fill = transactions.TransactionDetails(
                self.account_id, transactionID=order["fillingTransactionID"]
            )
            price = float(self.api.request(fill)["transaction"]["price"])
        units = float(order["units"])
        status = _STATES.get(order["state"], OrderStatus.ACCEPTED)
        return Order(
            broker=self.name, broker_order_id=order["id"], client_order_id=client_order_id,
            symbol=request.symbol if request else order["instrument"].replace("_", "/"),
            asset_class=AssetClass.FOREX, side=OrderSide.BUY if units > 0 else OrderSide.SELL,
            qty=abs(units), order_type=OrderType(order["type"].lower()),
            status=status, filled_qty=abs(units) if price is not None else 0.0,
            filled_avg_price=price, submitted_at=_time(order["createTime"]),
            filled_at=_time(order["filledTime"]) if order.get("filledTime") else None,
        )  # fmt: skip


def _order_body(request: OrderRequest) -> dict[str, Any]:
    units = request.qty if request.side is OrderSide.BUY else -request.qty
    body = {
        "type": request.order_type.value.upper(),
        "instrument": instrument_of(request.symbol),
        "units": str(int(units)),
        "timeInForce": "FOK" if request.order_type is OrderType.MARKET else "GTC",
        "positionFill": "DEFAULT",
        "clientExtensions": {"id": request.client_order_id, "tag": "smart-routing"},
    }
    if request.order_type is OrderType.LIMIT:
        body["price"] = f"{request.limit_price:.5f}"
    return body


def _from_create(request: OrderRequest, response: dict[str, Any]) -> Order:
    create = response["orderCreateTransaction"]
    fill = response.get("orderFillTransaction")
    cancel = response.get("orderCancelTransaction")
    status = OrderStatus.ACCEPTED
    if fill is not None:
        status = OrderStatus.FILLED
    elif cancel is not None:
        status = OrderStatus.CANCELED
    return Order(
        broker="oanda", broker_order_id=create["id"], client_order_id=request.client_order_id,
        symbol=request.symbol, asset_class=AssetClass.FOREX, side=request.side, qty=request.qty,
        order_type=request.order_type, limit_price=request.limit_price, status=status,
        filled_qty=abs(float(fill["units"])) if fill else 0.0,
        filled_avg_price=float(fill["price"]) if fill else None,
        reject_reason=f"oanda: {cancel['reason']}" if cancel else None,
        submitted_at=_time(create["time"]),
        filled_at=_time(fill["time"]) if fill else None,
    )  # fmt: skip


def _reject_reason(exc: V20Error) -> str:
    import json

    try:
        body = json.loads(exc.msg)
    except (TypeError, ValueError):
        return describe(exc)
    reject = body.get("orderRejectTransaction", {}).get("rejectReason")
    return describe(Exception(reject or body.get("errorMessage") or exc.msg))
