"""Orders and the account on Alpaca: the Broker port over alpaca-py's trading client."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading import enums as alpaca_enums
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.domain.money import to_decimal
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
    status_by_meaning,
)
from venues.alpaca.client import MAX_RATE_LIMIT_WAIT_S, model, trading_client
from venues.alpaca.symbols import asset_class_of, canonical_symbol
from venues.http import MAYBE_SENT, describe, retry_after_s
from venues.settings import AlpacaSettings

SUBMIT_ATTEMPTS = 3
DUPLICATE_CLIENT_ID = "client_order_id must be unique"

# Every status Alpaca documents (alpaca-py's OrderStatus), by what it means for fills. These
# are done: Alpaca fills no more of the order (a replaced order's successor is another order).
DONE = {
    "filled": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED, "replaced": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}  # fmt: skip
# These can still fill: `stopped` guarantees a fill, `done_for_day` and `suspended` resume,
# the pending ones and `held`, `calculated`, `accepted_for_bidding` have not ended.
CAN_STILL_FILL = frozenset({
    "new", "pending_new", "accepted", "accepted_for_bidding", "pending_review", "held",
    "calculated", "pending_cancel", "pending_replace", "partially_filled", "done_for_day",
    "stopped", "suspended",
})  # fmt: skip
_NEW = frozenset({"new", "pending_new"})
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
        account = model(self.client.get_account())
        positions = [_position(p) for p in model(self.client.get_all_positions())]
        return AccountSnapshot(
            currency=str(account.currency or "USD"),
            cash=to_decimal(account.cash or 0, "cash"),
            buying_power=to_decimal(account.buying_power or 0, "buying power"),
            positions={p.symbol: p for p in positions},
            as_of=datetime.now(UTC),
        )

    def _refused(self, request: OrderRequest, exc: APIError) -> Order:
        return order_after_refusal(
            request, exc, lambda: self.get_order_by_client_id(request.client_order_id)
        )


def order_after_refusal(
    request: OrderRequest, exc: APIError, existing: Callable[[], Order | None]
) -> Order:
    """What Alpaca's refusal of a submitted order means: the order it already has under this
    client_order_id (`existing` finds it), or the error to raise."""
    status = exc.status_code
    if status == 422 and DUPLICATE_CLIENT_ID in str(exc):
        # Not an unclear outcome: the venue says it has this order. Return it, as the
        # Broker port asks of an idempotent submit.
        found = existing()
        if found is None:
            raise OrderOutcomeUnknown(f"alpaca: duplicate {request.client_order_id}") from exc
        return found
    if status == 429:
        raise VenueUnavailable(f"alpaca rate limit: {describe(exc)}") from exc
    if status is not None and status >= 500:
        raise OrderOutcomeUnknown(f"alpaca {status}: {describe(exc)}") from exc
    raise OrderRejected(f"alpaca: {_venue_message(exc)}") from exc


def _position(raw: Any) -> Position:
    asset_class = asset_class_of(raw)
    return Position(
        symbol=canonical_symbol(raw.symbol, asset_class),
        asset_class=asset_class,
        qty=to_decimal(raw.qty, "position qty"),
        avg_price=to_decimal(raw.avg_entry_price, "average entry price"),
    )


def _order(raw: Any, request: OrderRequest | None = None) -> Order:
    """An order as Alpaca reports it. Alpaca reports no fee on the order: fees stay None and
    the ledger uses the fee model."""
    asset_class = request.asset_class if request else asset_class_of(raw)
    filled_avg = raw.filled_avg_price
    filled_qty = to_decimal(raw.filled_qty or 0, "filled qty")
    venue_status = str(raw.status.value)
    return Order(
        broker=AlpacaBroker.name,
        broker_order_id=str(raw.id),
        client_order_id=raw.client_order_id,
        symbol=request.symbol if request else canonical_symbol(raw.symbol, asset_class),
        asset_class=asset_class,
        side=OrderSide(str(raw.side.value)),
        qty=to_decimal(raw.qty, "order qty"),
        order_type=OrderType(str(raw.order_type.value)),
        limit_price=None if raw.limit_price is None else to_decimal(raw.limit_price, "limit"),
        status=_status(venue_status, filled_qty),
        venue_status=venue_status,
        filled_qty=filled_qty,
        filled_avg_price=to_decimal(filled_avg, "fill price") if filled_avg else None,
        submitted_at=raw.submitted_at,
        filled_at=raw.filled_at,
    )


def _status(venue_status: str, filled_qty: Decimal) -> OrderStatus:
    status = status_by_meaning(venue_status, DONE, filled_qty)
    if status is OrderStatus.ACCEPTED and venue_status in _NEW:
        return OrderStatus.NEW
    return status


def alpaca_order_request(
    request: OrderRequest,
    market: type[MarketOrderRequest] = MarketOrderRequest,
    limit: type[LimitOrderRequest] = LimitOrderRequest,
) -> MarketOrderRequest | LimitOrderRequest:
    """The alpaca-py request, after each asset class's rules; a breach is OrderRejected.
    `market` and `limit`: the request classes (the Broker API's own subclasses, there)."""
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
        return limit(**common, limit_price=request.limit_price)
    return market(**common)


def _venue_message(exc: APIError) -> str:
    try:
        return describe(Exception(exc.message))
    except (KeyError, TypeError, ValueError):
        return describe(exc)
