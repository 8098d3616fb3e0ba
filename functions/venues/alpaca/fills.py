"""Alpaca's executions, read from its account activities of type FILL, for the reconciler.

alpaca-py's TradingClient has no method for GET /v2/account/activities/{type}: it is called
through the client's own request method, and each entry is read by alpaca-py's TradeActivity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.models import TradeActivity

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import VenueUnavailable
from smart_routing.domain.fills import FillPage, VenueFill
from smart_routing.domain.orders import OrderSide
from venues.alpaca.client import rate_limited, trading_client
from venues.alpaca.symbols import canonical_symbol
from venues.fill_entries import MALFORMED, entry_id, exact, problem
from venues.http import describe
from venues.settings import AlpacaSettings

ACTIVITIES_PATH = "/account/activities/FILL"
MAX_PAGE = 100  # the most activities Alpaca returns per page when no date is given
DEFAULT_TIMEOUT_S = 10.0
# Alpaca reports a short sale's fill as sell_short: for the ledger it is a sell.
_SIDES = {"buy": "buy", "sell": "sell", "sell_short": "sell"}
# The order status by activity type, for entries that leave order_status out (the trading
# API's documented sample does; alpaca-py's model requires it, and nothing here reads it).
_STATUS_OF_TYPE = {"fill": "filled", "partial_fill": "partially_filled"}


class AlpacaFills:
    """The account's FILL activities, oldest first, from the id of the last one read."""

    venue = "alpaca"

    def __init__(
        self,
        settings: AlpacaSettings,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = trading_client(settings, timeout_s)
        self.sleep = sleep
        # The trading API's activities name no account: TradeActivity needs one, learnt once.
        self._account_id: str | None = None

    def fills_since(self, cursor: str | None, limit: int) -> FillPage:
        account_id = self._account()
        size = max(1, min(limit, MAX_PAGE))
        params: dict[str, Any] = {"direction": "asc", "page_size": size}
        if cursor is not None:
            params["page_token"] = cursor
        raw = self._ask(lambda: self.client.get(ACTIVITIES_PATH, params))
        if not isinstance(raw, list):
            raise VenueUnavailable(f"alpaca activities: expected a list, got {type(raw).__name__}")
        fills, problems = [], []
        for entry in raw:
            try:
                fills.append(_fill(entry, account_id))
            except MALFORMED as exc:
                problems.append(problem("alpaca FILL activity", entry, exc))
            cursor = entry_id(entry) or cursor
        return FillPage(fills=fills, cursor=cursor, problems=problems, more=len(raw) >= size)

    def client_order_id_of(self, fill: VenueFill) -> str | None:
        """An activity names only Alpaca's order id: the order (GET /v2/orders/{id}) names
        its client_order_id."""
        if fill.client_order_id:
            return fill.client_order_id
        try:
            order = rate_limited(lambda: self.client.get_order_by_id(fill.broker_order_id),
                                 self.sleep)  # fmt: skip
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise VenueUnavailable(f"alpaca order {fill.broker_order_id}: {describe(exc)}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise VenueUnavailable(f"alpaca order {fill.broker_order_id}: {describe(exc)}") from exc
        return str(getattr(order, "client_order_id", "") or "") or None

    def _account(self) -> str:
        if self._account_id is None:
            account = self._ask(self.client.get_account)
            self._account_id = str(account.id)
        return self._account_id

    def _ask(self, call: Callable[[], Any]) -> Any:
        try:
            return rate_limited(call, self.sleep)
        except (APIError, requests.RequestException, ValueError) as exc:
            raise VenueUnavailable(f"alpaca activities: {describe(exc)}") from exc


def _fill(entry: dict[str, Any], account_id: str) -> VenueFill:
    """One FILL activity as a VenueFill: TradeActivity checks its shape (it reads amounts as
    floats, so the amounts themselves are read exactly from the raw strings)."""
    side = _SIDES.get(str(entry.get("side")), entry.get("side"))
    status = entry.get("order_status") or _STATUS_OF_TYPE.get(str(entry.get("type")))
    activity = TradeActivity(
        **{**entry, "account_id": account_id, "side": side, "order_status": status}
    )
    symbol, asset_class = _symbol(activity.symbol)
    return VenueFill(
        venue=AlpacaFills.venue,
        fill_id=activity.id,
        broker_order_id=str(activity.order_id),
        symbol=symbol,
        asset_class=asset_class,
        side=OrderSide(activity.side.value),
        qty=exact(entry["qty"], "qty"),
        price=exact(entry["price"], "price"),
        cum_qty=exact(entry["cum_qty"], "cum_qty"),
        filled_at=activity.transaction_time,
    )


def _symbol(name: str) -> tuple[str, AssetClass]:
    """The engine's symbol and asset class: an activity names the symbol only. Alpaca writes
    crypto as BTC/USD in orders and BTCUSD in positions; both are BTC/USD here."""
    try:
        instrument = parse_symbol(name)
    except ValueError:
        instrument = None
    if instrument is not None and instrument.asset_class is not AssetClass.FOREX:
        return instrument.symbol, instrument.asset_class
    crypto = canonical_symbol(name, AssetClass.CRYPTO)
    if "/" in crypto:
        return crypto, AssetClass.CRYPTO
    return parse_symbol(name, AssetClass.EQUITY).symbol, AssetClass.EQUITY
