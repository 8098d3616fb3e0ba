"""Forex orders and the account on OANDA: the Broker port over oandapyV20. Practice by default
(Alpaca does not trade currencies)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from oandapyV20 import API, V20Error
from oandapyV20.endpoints import accounts, orders, positions, transactions

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import (
    InstrumentUnavailable,
    OrderOutcomeUnknown,
    OrderRejected,
    VenueUnavailable,
)
from smart_routing.domain.money import ZERO
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    status_by_meaning,
)
from smart_routing.ports import InstrumentSource
from venues.http import MAYBE_SENT, describe
from venues.oanda.formats import amount, fill_fees, gtd_time, instrument_of, parse_time, symbol_of

DUPLICATE_CLIENT_ID = "CLIENT_ORDER_ID_ALREADY_EXISTS"
# Every order state OANDA documents (oandapyV20's OrderState), by what it means for fills:
# FILLED and CANCELLED are done; PENDING and TRIGGERED (the trigger met, the fill to follow)
# can still fill.
DONE = {"FILLED": OrderStatus.FILLED, "CANCELLED": OrderStatus.CANCELED}
CAN_STILL_FILL = frozenset({"PENDING", "TRIGGERED"})
# Transaction ids per TransactionIDRange request: the largest page OANDA's transaction list
# splits its history into (pageSize maximum=1000).
FILL_RANGE = 1000


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
            currency=account["currency"], cash=amount(account["balance"], "balance"),
            buying_power=amount(account["marginAvailable"], "marginAvailable"),
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
    long_units = amount(raw["long"]["units"], "long units")
    short_units = amount(raw["short"]["units"], "short units")
    qty = long_units + short_units
    side = raw["long"] if qty > 0 else raw["short"]
    return Position(
        symbol=symbol_of(raw["instrument"]), asset_class=AssetClass.FOREX, qty=qty,
        avg_price=amount(side.get("averagePrice") or 0, "averagePrice"),
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
        filled_qty=abs(amount(fill["units"], "fill units")) if fill else ZERO,
        filled_avg_price=amount(fill["price"], "fill price") if fill else None,
        fees=fill_fees(fill) if fill and home_currency else None, fee_currency=home_currency,
        reject_reason=f"oanda: {cancel['reason']}" if cancel else None,
        submitted_at=parse_time(create["time"]),
        filled_at=parse_time(fill["time"]) if fill else None,
    )  # fmt: skip


def _fill_price(fill: dict[str, Any]) -> Decimal:
    """fullVWAP is the fill's price; `price` is its older, deprecated name."""
    return amount(fill.get("fullVWAP") or fill["price"], "fill price")


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
    units = amount(order["units"], "units")
    parts = [(abs(amount(f["units"], "fill units")), _fill_price(f)) for f in fills]
    filled = sum((qty for qty, _ in parts), ZERO)
    status = status_by_meaning(order["state"], DONE, filled)
    filled_at = order.get("filledTime") or (fills[-1]["time"] if fills else None)
    return Order(
        broker="oanda", broker_order_id=order["id"], client_order_id=client_order_id,
        symbol=symbol_of(order["instrument"]), asset_class=AssetClass.FOREX,
        side=OrderSide.BUY if units > 0 else OrderSide.SELL, qty=abs(units),
        order_type=OrderType(order["type"].lower()),
        limit_price=amount(order["price"], "price") if order.get("price") else None,
        status=status, venue_status=order["state"], filled_qty=filled,
        filled_avg_price=sum((q * p for q, p in parts), ZERO) / filled if filled else None,
        fees=sum((fill_fees(f) for f in fills), ZERO) if fills and home_currency else None,
        fee_currency=home_currency, submitted_at=parse_time(order["createTime"]),
        filled_at=parse_time(filled_at) if filled_at else None,
    )  # fmt: skip


def _reject_reason(exc: V20Error) -> str:
    try:
        body = json.loads(exc.msg)
    except (TypeError, ValueError):
        return describe(exc)
    reject = body.get("orderRejectTransaction", {}).get("rejectReason")
    return describe(Exception(reject or body.get("errorMessage") or exc.msg))
