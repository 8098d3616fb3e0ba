"""OANDA through oandapyV20, for forex (Alpaca does not trade currencies). Practice by default."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from oandapyV20 import API, V20Error
from oandapyV20 import oandapyV20 as v20
from oandapyV20.endpoints import accounts, orders, positions, pricing, transactions

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import (
    InstrumentUnavailable,
    OrderOutcomeUnknown,
    OrderRejected,
    VenueUnavailable,
)
from smart_routing.domain.instruments import InstrumentSpec
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
)
from smart_routing.market.quotes import Bar, Quote
from smart_routing.ports import InstrumentSource
from venues.http import MAYBE_SENT, describe
from venues.instrument_specs import unlisted
from venues.settings import OandaSettings

DUPLICATE_CLIENT_ID = "CLIENT_ORDER_ID_ALREADY_EXISTS"
_STATES = {"FILLED": OrderStatus.FILLED, "PENDING": OrderStatus.ACCEPTED,
           "CANCELLED": OrderStatus.CANCELED}  # fmt: skip
RATE_LIMIT_WAIT_S = 0.5
# Transaction ids per TransactionIDRange request: the largest page OANDA's transaction list
# splits its history into (pageSize maximum=1000).
FILL_RANGE = 1000


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


def symbol_of(instrument: str) -> str:
    return instrument.replace("_", "/")


def _time(text: str) -> datetime:
    """OANDA's RFC 3339 times carry nanoseconds, more than datetime parses."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}").replace(tzinfo=UTC)


def _amount(value: object, what: str) -> Decimal:
    """OANDA sends every number as a decimal string: read it exactly."""
    return to_decimal(value, what)


def _request(api: API, endpoint: Any, sleep: Callable[[float], None]) -> dict[str, Any]:
    """One request, once more after a 429."""
    try:
        return api.request(endpoint)
    except V20Error as exc:
        if exc.code != 429:
            raise
    sleep(RATE_LIMIT_WAIT_S)
    return api.request(endpoint)


class OandaQuoteSource:
    name = "oanda"

    def __init__(self, api: API, account_id: str, sleep: Callable[[float], None] = time.sleep):
        self.api, self.account_id, self.sleep = api, account_id, sleep

    def latest_quotes(self, asset_class: AssetClass, symbols: list[str]) -> dict[str, Quote | None]:
        wanted = {instrument_of(s): s for s in symbols}
        endpoint = pricing.PricingInfo(self.account_id, params={"instruments": ",".join(wanted)})
        response = _request(self.api, endpoint, self.sleep)
        quotes: dict[str, Quote | None] = dict.fromkeys(symbols)
        for price in response.get("prices", []):
            symbol = wanted.get(price["instrument"])
            if symbol is None or not price.get("tradeable", True) or not price.get("bids"):
                continue
            quotes[symbol] = Quote(
                symbol=symbol, bid=_amount(price["bids"][0]["price"], "bid"),
                ask=_amount(price["asks"][0]["price"], "ask"), as_of=_time(price["time"]),
                source="oanda",
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
            for c in _request(self.api, endpoint, self.sleep).get("candles", [])
            if c.get("complete", True)
        ]  # fmt: skip

    def order_book(self, asset_class: AssetClass, symbol: str) -> None:
        """OANDA publishes no depth for the cost estimate."""
        return None


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
            listed = _request(self.api, endpoint, self.sleep)["instruments"]
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
        min_qty=_amount(raw["minimumTradeSize"], "minimumTradeSize"),
        price_tick=_places(raw["displayPrecision"], "displayPrecision"), shortable=True,
    )  # fmt: skip


def _places(value: object, what: str) -> Decimal:
    """10^-places: 5 is 0.00001, 0 is 1."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 12:
        raise ValueError(f"{what} must be a whole number of places, got {value!r}")
    return Decimal(1).scaleb(-value)


class OandaBroker:
    """FX market orders (fill-or-kill) and limit orders on OANDA: good till cancelled, or
    good till `expires_at` (GTD) when the order has one.

    A repeated client order id resolves to the order OANDA has; after a timeout, a dropped
    connection or a 5xx this raises OrderOutcomeUnknown and the engine looks the order up.
    """

    name = "oanda"

    def __init__(
        self, api: API, account_id: str, instruments: InstrumentSource | None = None
    ) -> None:
        self.api, self.account_id = api, account_id
        # An InstrumentSource for the price precision of limit orders; without one the
        # limit price goes out exactly as given (the gate has put it on the tick).
        self.instruments = instruments
        # The account's home currency, which OANDA charges fees in: learnt from the account.
        self._home_currency: str | None = None

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.name

    def submit_order(self, request: OrderRequest) -> Order:
        if request.asset_class is not AssetClass.FOREX:
            raise OrderRejected(f"oanda trades forex only, not {request.asset_class.value}")
        body = _order_body(request, self._price_tick(request))
        endpoint = orders.OrderCreate(self.account_id, data={"order": body})
        try:
            response = self.api.request(endpoint)
        except V20Error as exc:
            return self._refused(request, exc)
        except requests.ConnectTimeout as exc:
            raise VenueUnavailable(f"oanda unreachable: {describe(exc)}") from exc
        except (*MAYBE_SENT, requests.ConnectionError) as exc:
            raise OrderOutcomeUnknown(f"oanda: {describe(exc)}") from exc
        return _from_create(request, response, self._home())

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        endpoint = orders.OrderDetails(self.account_id, orderID=f"@{client_order_id}")
        try:
            response = self.api.request(endpoint)
        except V20Error as exc:
            if exc.code == 404:
                return None
            raise
        order = response["order"]
        fills = self._fills_of(order, response["lastTransactionID"])
        return _from_details(client_order_id, order, fills, self._home())

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        """PUT .../orders/@{client id}/cancel (OrderCancel). OANDA answers 404 for an order that
        is no longer pending (filled, or its GTD time passed): then, as after any cancel, the
        order is read back as OANDA has it."""
        endpoint = orders.OrderCancel(self.account_id, orderID=f"@{client_order_id}")
        try:
            self.api.request(endpoint)
        except V20Error as exc:
            if exc.code != 404:
                raise
        return self.get_order_by_client_id(client_order_id)

    def _fills_of(self, order: dict[str, Any], last_transaction_id: str) -> list[dict[str, Any]]:
        """Every ORDER_FILL of the order, oldest first.

        OANDA's order names one fill only, its last (`fillingTransactionID`, and only once the
        order is FILLED). Transaction ids rise in one sequence per account and an order's id is
        the id of the transaction that created it, so its fills all lie between that id and
        the transaction that ended it (the filling or the cancelling one), or the account's
        last transaction while it is still pending: read that range, ORDER_FILLs only
        (TransactionIDRange's `type` filter), and keep those naming this order.
        """
        first = int(order["id"])
        last = int(
            order.get("fillingTransactionID")
            or order.get("cancellingTransactionID")
            or last_transaction_id
        )
        fills: list[dict[str, Any]] = []
        for start in range(first, last + 1, FILL_RANGE):
            span = {"from": start, "to": min(start + FILL_RANGE - 1, last), "type": "ORDER_FILL"}
            endpoint = transactions.TransactionIDRange(self.account_id, params=span)
            fills += [
                t for t in self.api.request(endpoint)["transactions"]
                if t.get("type") == "ORDER_FILL" and t.get("orderID") == order["id"]
            ]  # fmt: skip
        if order["state"] == "FILLED" and not fills:
            raise VenueUnavailable(
                f"oanda order {order['id']} is FILLED but transactions {first} to {last} "
                "hold no fill of it"
            )
        return fills

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        """The venue's account, which the platform's users share: `owner` changes nothing."""
        account = self.api.request(accounts.AccountSummary(self.account_id))["account"]
        held = self.api.request(positions.OpenPositions(self.account_id))["positions"]
        self._home_currency = account["currency"]
        snapshot_positions = [_position(p) for p in held]
        return AccountSnapshot(
            currency=account["currency"], cash=_amount(account["balance"], "balance"),
            buying_power=_amount(account["marginAvailable"], "marginAvailable"),
            positions={p.symbol: p for p in snapshot_positions if p.qty != 0},
            as_of=datetime.now(UTC),
        )  # fmt: skip

    def _home(self) -> str | None:
        """The home currency; None when it cannot be read now (the fill's fee is then left to
        the fee model rather than recorded in a currency that may be wrong)."""
        if self._home_currency is None:
            try:
                summary = self.api.request(accounts.AccountSummary(self.account_id))
                self._home_currency = summary["account"]["currency"]
            except (V20Error, requests.RequestException, KeyError, TypeError):
                return None
        return self._home_currency

    def _price_tick(self, request: OrderRequest) -> Decimal | None:
        if request.order_type is not OrderType.LIMIT or self.instruments is None:
            return None
        try:
            return self.instruments.get_instrument(request.symbol, request.asset_class).price_tick
        except InstrumentUnavailable as exc:
            raise VenueUnavailable(
                f"oanda: no price precision for {request.symbol}: {exc}"
            ) from exc

    def _refused(self, request: OrderRequest, exc: V20Error) -> Order:
        if DUPLICATE_CLIENT_ID in str(exc):
            # The venue says it has this order: return it, as an idempotent submit must.
            existing = self.get_order_by_client_id(request.client_order_id)
            if existing is None:
                raise OrderOutcomeUnknown(f"oanda: duplicate {request.client_order_id}") from exc
            return existing
        if exc.code == 429:
            raise VenueUnavailable(f"oanda rate limit: {describe(exc)}") from exc
        if exc.code >= 500:
            raise OrderOutcomeUnknown(f"oanda {exc.code}: {describe(exc)}") from exc
        raise OrderRejected(f"oanda: {_reject_reason(exc)}") from exc


def _position(raw: dict[str, Any]) -> Position:
    long_units = _amount(raw["long"]["units"], "long units")
    short_units = _amount(raw["short"]["units"], "short units")
    qty = long_units + short_units
    side = raw["long"] if qty > 0 else raw["short"]
    return Position(
        symbol=symbol_of(raw["instrument"]), asset_class=AssetClass.FOREX, qty=qty,
        avg_price=_amount(side.get("averagePrice") or 0, "averagePrice"),
    )  # fmt: skip


def _order_body(request: OrderRequest, price_tick: Decimal | None) -> dict[str, Any]:
    """Units and price as exact decimal strings: OANDA refuses units finer than the
    instrument's precision itself (UNITS_PRECISION_EXCEEDED)."""
    units = request.qty if request.side is OrderSide.BUY else -request.qty
    body = {
        "type": request.order_type.value.upper(),
        "instrument": instrument_of(request.symbol),
        "units": f"{units.normalize():f}",
        "timeInForce": "FOK" if request.order_type is OrderType.MARKET else "GTC",
        "positionFill": "DEFAULT",
        "clientExtensions": {"id": request.client_order_id, "tag": "smart-routing"},
    }
    if request.order_type is OrderType.LIMIT:
        assert request.limit_price is not None  # OrderRequest requires it for limit orders
        price = request.limit_price
        body["price"] = f"{price.quantize(price_tick) if price_tick else price:f}"
        if request.expires_at is not None:  # OANDA cancels it then (TIME_IN_FORCE_EXPIRED)
            body["timeInForce"] = "GTD"
            body["gtdTime"] = gtd_time(request.expires_at)
    return body


def gtd_time(at: datetime) -> str:
    """RFC 3339 in UTC, as OANDA's DateTime takes it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fees(fill: dict[str, Any]) -> Decimal:
    """What the fill cost, in the account's home currency: the commission (OANDA reports it as
    a positive charge) and any financing paid (negative financing); financing received is
    not a fee and does not offset one."""
    commission = abs(_amount(fill.get("commission") or 0, "commission"))
    financing = _amount(fill.get("financing") or 0, "financing")
    return commission + max(-financing, ZERO)


def _from_create(
    request: OrderRequest, response: dict[str, Any], home_currency: str | None
) -> Order:
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
        filled_qty=abs(_amount(fill["units"], "fill units")) if fill else ZERO,
        filled_avg_price=_amount(fill["price"], "fill price") if fill else None,
        fees=_fees(fill) if fill and home_currency else None, fee_currency=home_currency,
        reject_reason=f"oanda: {cancel['reason']}" if cancel else None,
        submitted_at=_time(create["time"]),
        filled_at=_time(fill["time"]) if fill else None,
    )  # fmt: skip


def _fill_price(fill: dict[str, Any]) -> Decimal:
    """fullVWAP is the fill's price; `price` is its older, deprecated name."""
    return _amount(fill.get("fullVWAP") or fill["price"], "fill price")


def _from_details(
    client_order_id: str,
    order: dict[str, Any],
    fills: list[dict[str, Any]],
    home_currency: str | None,
) -> Order:
    """The order with all its fills: their units summed, their prices averaged by units (the
    Decimal quotient, exact when it terminates, else to 28 digits; not put on the price grid,
    so qty times it is what the parts cost), their fees summed. A pending order with fills is
    partially filled; a cancelled one stays cancelled with what it filled."""
    units = _amount(order["units"], "units")
    parts = [(abs(_amount(f["units"], "fill units")), _fill_price(f)) for f in fills]
    filled = sum((qty for qty, _ in parts), ZERO)
    status = _STATES.get(order["state"], OrderStatus.ACCEPTED)
    if status is OrderStatus.ACCEPTED and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    filled_at = order.get("filledTime") or (fills[-1]["time"] if fills else None)
    return Order(
        broker="oanda", broker_order_id=order["id"], client_order_id=client_order_id,
        symbol=symbol_of(order["instrument"]), asset_class=AssetClass.FOREX,
        side=OrderSide.BUY if units > 0 else OrderSide.SELL, qty=abs(units),
        order_type=OrderType(order["type"].lower()),
        limit_price=_amount(order["price"], "price") if order.get("price") else None,
        status=status, filled_qty=filled,
        filled_avg_price=sum((q * p for q, p in parts), ZERO) / filled if filled else None,
        fees=sum((_fees(f) for f in fills), ZERO) if fills and home_currency else None,
        fee_currency=home_currency, submitted_at=_time(order["createTime"]),
        filled_at=_time(filled_at) if filled_at else None,
    )  # fmt: skip


def _reject_reason(exc: V20Error) -> str:
    try:
        body = json.loads(exc.msg)
    except (TypeError, ValueError):
        return describe(exc)
    reject = body.get("orderRejectTransaction", {}).get("rejectReason")
    return describe(Exception(reject or body.get("errorMessage") or exc.msg))
