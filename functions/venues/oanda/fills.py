"""OANDA's executions, read from its ORDER_FILL transactions, for the reconciler.

The cursor is the id of the last transaction read, of any type: a page reads the transactions
after it (TransactionsSinceID) and keeps the fills. Without a cursor, the first page is the
oldest history OANDA still keeps (the first page TransactionList names, read by
TransactionIDRange).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from oandapyV20 import V20Error
from oandapyV20.endpoints import accounts, transactions

from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import VenueUnavailable
from smart_routing.domain.fills import CursorExpired, FillPage, VenueFill
from smart_routing.domain.money import ZERO
from smart_routing.domain.orders import OrderSide
from venues.fill_entries import MALFORMED, entry_id, exact, problem
from venues.http import describe
from venues.oanda.client import oanda_api, rate_limited_request
from venues.oanda.formats import fill_fees, parse_time, symbol_of
from venues.settings import OandaSettings

DEFAULT_TIMEOUT_S = 10.0
RANGE_NOT_SATISFIABLE = 416  # OANDA's answer for history it no longer keeps


class OandaFills:
    """The account's ORDER_FILL transactions, oldest first, from the last transaction id read.

    Fees are the commission and any financing paid, in the account's home currency (as the
    broker records them)."""

    venue = "oanda"

    def __init__(
        self,
        settings: OandaSettings,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = oanda_api(settings, timeout_s)
        self.account_id = settings.account_id
        self.sleep = sleep
        self._home_currency: str | None = None

    def fills_since(self, cursor: str | None, limit: int) -> FillPage:
        limit = max(1, limit)
        home = self._home()
        if cursor is None:
            endpoint = self._oldest(limit)
            if endpoint is None:
                return FillPage(fills=[], cursor=None)
        else:
            endpoint = transactions.TransactionsSinceID(self.account_id, params={"id": cursor})
        response = self._ask(endpoint, cursor)
        listed = response.get("transactions") if isinstance(response, dict) else None
        if not isinstance(listed, list):
            raise VenueUnavailable("oanda transactions: the answer lists no transactions")
        page = _page(listed[:limit], cursor, home)
        more = len(listed) > limit or _before(page.cursor, response.get("lastTransactionID"))
        return page.model_copy(update={"more": more})

    def client_order_id_of(self, fill: VenueFill) -> str | None:
        """OANDA's ORDER_FILL names the order's client id itself (clientOrderID)."""
        return fill.client_order_id

    def _oldest(self, limit: int) -> Any:
        """The first `limit` transactions OANDA still keeps, or None when it keeps none."""
        listing = self._ask(transactions.TransactionList(self.account_id), None)
        pages = listing.get("pages") if isinstance(listing, dict) else None
        if not pages:
            return None
        try:
            query = parse_qs(urlsplit(pages[0]).query)
            first, last = int(query["from"][0]), int(query["to"][0])
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise VenueUnavailable(f"oanda transaction pages: {describe(exc)}") from exc
        span = {"from": first, "to": min(last, first + limit - 1)}
        return transactions.TransactionIDRange(self.account_id, params=span)

    def _home(self) -> str:
        if self._home_currency is None:
            summary = self._ask(accounts.AccountSummary(self.account_id), None)
            try:
                self._home_currency = str(summary["account"]["currency"])
            except (KeyError, TypeError) as exc:
                raise VenueUnavailable(f"oanda account: {describe(exc)}") from exc
        return self._home_currency

    def _ask(self, endpoint: Any, cursor: str | None) -> Any:
        try:
            return rate_limited_request(self.api, endpoint, self.sleep)
        except V20Error as exc:
            if exc.code == RANGE_NOT_SATISFIABLE and cursor is not None:
                raise CursorExpired(
                    f"oanda no longer keeps the transactions after {cursor}: {describe(exc)}"
                ) from exc
            raise VenueUnavailable(f"oanda {exc.code}: {describe(exc)}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise VenueUnavailable(f"oanda transactions: {describe(exc)}") from exc


def _page(listed: list[Any], cursor: str | None, home: str) -> FillPage:
    fills, problems = [], []
    for entry in listed:
        kind = entry.get("type") if isinstance(entry, dict) else None
        try:
            if kind == "ORDER_FILL":
                fills.append(_fill(entry, home))
            elif not isinstance(kind, str):
                raise ValueError("it has no transaction type")
        except MALFORMED as exc:
            problems.append(problem("oanda transaction", entry, exc))
        cursor = entry_id(entry) or cursor
    return FillPage(fills=fills, cursor=cursor, problems=problems)


def _fill(entry: dict[str, Any], home: str) -> VenueFill:
    units = exact(entry["units"], "units")
    instrument = parse_symbol(symbol_of(entry["instrument"]), AssetClass.FOREX)
    return VenueFill(
        venue=OandaFills.venue,
        fill_id=entry["id"],
        broker_order_id=entry["orderID"],
        client_order_id=entry.get("clientOrderID"),
        symbol=instrument.symbol,
        asset_class=AssetClass.FOREX,
        side=OrderSide.BUY if units > ZERO else OrderSide.SELL,
        qty=abs(units),
        # fullVWAP is the fill's price; `price` is its older, deprecated name.
        price=exact(entry.get("fullVWAP") or entry["price"], "price"),
        fees=fill_fees(entry),
        fee_currency=home,
        filled_at=parse_time(entry["time"]),
    )


def _before(cursor: str | None, last: object) -> bool:
    try:
        return cursor is not None and int(cursor) < int(str(last))
    except ValueError:
        return False
