"""A fake Alpaca Broker API: one brokerage account per end user, in the Broker API's shapes.

Accounts (GET /v1/accounts/{id}, the trade account at /v1/trading/accounts/{id}/account),
orders and positions per account (/v1/trading/accounts/{id}/orders, .../positions), and the
Activity SSE (GET /v2beta1/events/activities): one stream across accounts, each fill a `TRD`
event with a ULID `event_id`, the execution's `ref_id` and a `details` object. A window is
read with `since`/`until` or `since_id`/`until_id`, and the stream ends at the end of the
range; the fake serves bounded windows only (a live tail would never end).

Orders fill as the Trading API fake's do (`order_mode`: fill, partial, accept, reject);
`fill(ref, qty, price)` executes more of a resting order later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tools.fakes.alpaca import Listings, _asset_class_of, _now, _order, authorized, unauthorized
from tools.fakes.http import FakeServer, Raw, Request, Route
from venues.alpaca.ulid import ALPHABET, is_ulid, last_ulid_at, ulid_at

NOT_FOUND = {"code": 40410000, "message": "account not found"}


class FakeAlpacaBroker(Listings):
    """`keys` (key, secret): every request must carry them as HTTP Basic auth, as the Broker
    API asks, else 401. The asset master list and option contracts are the Broker API's
    (GET /v1/assets, /v1/options/contracts), as `Listings` says."""

    def __init__(self, keys: tuple[str, str] | None = None) -> None:
        self.keys = keys
        self.server = FakeServer()
        self._listing_routes("v1", self._authorized)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # by client_order_id
        self.order_accounts: dict[str, str] = {}  # client_order_id -> account id
        self.events: list[dict[str, Any]] = []
        self.prices: dict[str, Decimal] = {}
        self.order_mode = "fill"
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # when events happen
        self.extra_positions: dict[tuple[str, str], Decimal] = {}  # (account, symbol) -> qty
        for method, prefix, handler in (
            ("GET", "/v2beta1/events/activities", self._activities),
            ("GET", "/v1/trading/accounts/", self._trading),
            ("POST", "/v1/trading/accounts/", self._submit),
            ("DELETE", "/v1/trading/accounts/", self._cancel),
            ("GET", "/v1/accounts/", self._account),
        ):
            self.server.route(method, prefix, self._authorized(handler))

    def _authorized(self, handler: Route) -> Route:
        def checked(request: Request) -> tuple[int, Any]:
            if self.keys is not None and not authorized(request, self.keys, basic=True):
                return unauthorized()
            return handler(request)

        return checked

    def start(self) -> FakeAlpacaBroker:
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def add_account(
        self, status: str = "ACTIVE", crypto: bool = True, cash: float = 50_000.0
    ) -> str:
        """A brokerage account; `crypto`: the crypto agreement signed (crypto_status ACTIVE)."""
        account_id = str(uuid.uuid4())
        self.accounts[account_id] = {"status": status, "crypto": crypto, "cash": cash}
        return account_id

    def set_status(self, account_id: str, status: str) -> None:
        self.accounts[account_id]["status"] = status

    # The Broker API's answers.

    def account_json(self, account_id: str) -> dict[str, Any]:
        """GET /v1/accounts/{id}, as alpaca-py's broker Account reads it."""
        held = self.accounts[account_id]
        agreements = [{"agreement": "customer_agreement", "signed_at": "2026-01-02T15:00:00Z",
                       "ip_address": "127.0.0.1"}]  # fmt: skip
        if held["crypto"]:
            agreements.append({**agreements[0], "agreement": "crypto_agreement"})
        return {
            "id": account_id, "account_number": f"9{int(uuid.UUID(account_id)) % 10**8:08d}",
            "status": held["status"], "crypto_status": "ACTIVE" if held["crypto"] else "INACTIVE",
            "currency": "USD", "last_equity": str(held["cash"]),
            "created_at": "2026-01-02T15:00:00Z", "account_type": "trading",
            "agreements": agreements,
        }  # fmt: skip

    def _account(self, request: Request) -> tuple[int, Any]:
        account_id = request.path.removeprefix("/v1/accounts/")
        if account_id not in self.accounts:
            return 404, NOT_FOUND
        return 200, self.account_json(account_id)

    def _split(self, request: Request) -> tuple[str, str]:
        """(account id, the rest of the path) of /v1/trading/accounts/{id}/..."""
        account_id, _, rest = request.path.removeprefix("/v1/trading/accounts/").partition("/")
        return account_id, rest

    def _trading(self, request: Request) -> tuple[int, Any]:
        account_id, rest = self._split(request)
        if account_id not in self.accounts:
            return 404, NOT_FOUND
        if rest == "account":
            return 200, self._trade_account(account_id)
        if rest == "positions":
            return 200, self.positions_json(account_id)
        if rest == "orders:by_client_order_id":
            order = self.orders.get(request.query["client_order_id"][0])
            if order is None or self.order_accounts[order["client_order_id"]] != account_id:
                return 404, {"code": 40410000, "message": "order not found"}
            return 200, order
        return 404, {"message": f"no route for GET {request.path}"}

    def _trade_account(self, account_id: str) -> dict[str, Any]:
        held = self.accounts[account_id]
        cash = str(held["cash"])
        return {
            "id": account_id, "account_number": self.account_json(account_id)["account_number"],
            "status": held["status"], "currency": "USD", "cash": cash, "buying_power": cash,
            "equity": cash, "portfolio_value": cash, "pattern_day_trader": False,
            "trading_blocked": held["status"] != "ACTIVE", "account_blocked": False,
            "created_at": "2026-01-02T15:00:00Z", "cash_withdrawable": cash,
            "cash_transferable": cash, "previous_close": "2026-01-01T21:00:00Z",
            "last_long_market_value": "0", "last_short_market_value": "0", "last_cash": cash,
            "last_initial_margin": "0", "last_regt_buying_power": cash,
            "last_buying_power": cash, "clearing_broker": "ALPACA_APCA",
        }  # fmt: skip

    def positions_json(self, account_id: str) -> list[dict[str, Any]]:
        held: dict[str, Decimal] = {}
        for client_id, order in self.orders.items():
            if self.order_accounts[client_id] == account_id:
                sign = 1 if order["side"] == "buy" else -1
                held[order["symbol"]] = held.get(order["symbol"], Decimal(0)) + sign * Decimal(
                    order["filled_qty"]
                )
        for (owner, symbol), qty in self.extra_positions.items():
            if owner == account_id:
                held[symbol] = held.get(symbol, Decimal(0)) + qty
        return [
            {"asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)),
             "symbol": symbol.replace("/", ""), "exchange": "NASDAQ",
             "asset_class": _asset_class_of(symbol), "asset_marginable": False,
             "avg_entry_price": "100.0", "qty": str(qty), "side": "long",
             "market_value": str(qty * 100), "cost_basis": str(qty * 100),
             "unrealized_pl": "0", "unrealized_plpc": "0", "unrealized_intraday_pl": "0",
             "unrealized_intraday_plpc": "0", "current_price": "100.0",
             "lastday_price": "100.0", "change_today": "0", "qty_available": str(qty)}
            for symbol, qty in held.items() if qty > 0
        ]  # fmt: skip

    def _submit(self, request: Request) -> tuple[int, Any]:
        account_id, rest = self._split(request)
        if account_id not in self.accounts or rest != "orders":
            return 404, NOT_FOUND
        body = request.body
        client_id = body["client_order_id"]
        if client_id in self.orders:
            return 422, {"code": 40010001, "message": "client_order_id must be unique"}
        held = self.accounts[account_id]
        if held["status"] != "ACTIVE":
            return 403, {"code": 40310000, "message": f"account is {held['status']}"}
        if "/" in body["symbol"] and not held["crypto"]:
            return 403, {"code": 40310000, "message": "crypto trading is not enabled"}
        if self.order_mode == "reject":
            return 403, {"code": 40310000, "message": "insufficient buying power"}
        qty = Decimal(str(body["qty"]))
        filled = {"fill": qty, "partial": qty / 2, "accept": Decimal(0)}[self.order_mode]
        status = {"fill": "filled", "partial": "partially_filled", "accept": "accepted"}
        order = _order(body, status[self.order_mode], Decimal(0), None)
        self.orders[client_id] = order
        self.order_accounts[client_id] = account_id
        if filled:
            self.fill(client_id, filled, self.prices.get(body["symbol"], Decimal("100.02")))
        return 200, order

    def _cancel(self, request: Request) -> tuple[int, Any]:
        account_id, rest = self._split(request)
        order_id = rest.removeprefix("orders/")
        found = [c for c, o in self.orders.items() if o["id"] == order_id]
        if not found or self.order_accounts[found[0]] != account_id:
            return 404, {"code": 40410000, "message": "order not found"}
        order = self.orders[found[0]]
        if order["status"] in ("filled", "canceled", "expired", "rejected"):
            return 422, {"code": 42210000, "message": f"order is already {order['status']}"}
        order["status"] = "canceled"
        order["canceled_at"] = order["updated_at"] = _now()
        return 204, b""

    # Executions and the Activity SSE.

    def order(self, ref: str) -> dict[str, Any]:
        if ref in self.orders:
            return self.orders[ref]
        return next(o for o in self.orders.values() if o["id"] == ref)

    def fill(self, ref: str, qty: Decimal | str, price: Decimal | str) -> dict[str, Any]:
        """An execution: the order moves on and a TRD event joins the activity stream."""
        order, qty, price = self.order(ref), Decimal(qty), Decimal(price)
        before = Decimal(order["filled_qty"])
        cum_qty = before + qty
        average = Decimal(order["filled_avg_price"] or 0)
        order["filled_avg_price"] = str((average * before + price * qty) / cum_qty
                                        if before else price)  # fmt: skip
        order["filled_qty"] = str(cum_qty)
        leaves = Decimal(order["qty"]) - cum_qty
        if order["status"] != "canceled":
            order["status"] = "filled" if leaves <= 0 else "partially_filled"
        now = self.clock()
        at = now.isoformat().replace("+00:00", "Z")
        order["updated_at"] = at
        if leaves <= 0:
            order["filled_at"] = at
        sign = -1 if order["side"] == "buy" else 1
        event = {
            "account_id": self.order_accounts[order["client_order_id"]],
            "event_id": self.next_event_id(now), "ref_id": str(uuid.uuid4()),
            "activity_type": "TRD",
            "qty": str(qty), "price": str(price), "currency": "USD",
            "net_amount": str(sign * qty * price), "status": "executed", "at": at,
            "executed_at": at, "settle_date": now.date().isoformat(),
            "details": {
                "asset_id": order["asset_id"], "order_id": order["id"],
                "client_order_id": order["client_order_id"], "side": order["side"],
                "order_status": order["status"],
                "execution_type": "fill", "symbol": order["symbol"], "cum_qty": str(cum_qty),
                "leaves_qty": str(max(leaves, Decimal(0))),
            },
        }  # fmt: skip
        self.events.append(event)
        return event

    def next_event_id(self, now: datetime | None = None) -> str:
        """Alpaca's event ids increase monotonically: within one millisecond too."""
        fresh = ulid_at(now or self.clock())
        last = max((str(e.get("event_id")) for e in self.events), default="")
        if fresh > last:
            return fresh
        value = sum(ALPHABET.index(c) << (5 * i) for i, c in enumerate(reversed(last))) + 1
        return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))

    def add_event(self, event: dict[str, Any]) -> None:
        """Any event as the stream would carry it (a dividend, a malformed one)."""
        self.events.append(event)

    def _activities(self, request: Request) -> tuple[int, Any]:
        query = {k: v[0] for k, v in request.query.items()}
        if ("since" in query) == ("since_id" in query):
            return 400, {"code": 40010000, "message": "give one of since or since_id"}
        if "until" not in query and "until_id" not in query:
            return 400, {"message": "the fake serves bounded windows: give until or until_id"}
        low = query.get("since_id") or ulid_at(_time(query["since"]), 0)
        high = query.get("until_id") or last_ulid_at(_time(query["until"]))
        if not (is_ulid(low) and is_ulid(high)):
            return 400, {"code": 40010000, "message": "since_id and until_id must be ULIDs"}
        inclusive = "since" in query
        chosen = sorted(
            (e for e in self.events if (low <= str(e.get("event_id")) if inclusive
                                         else low < str(e.get("event_id")))
             and str(e.get("event_id")) <= high),
            key=lambda e: str(e.get("event_id")),
        )  # fmt: skip
        text = ":heartbeat\n\n" + "".join(f"data: {json.dumps(e)}\n\n" for e in chosen)
        return 200, Raw(text.encode(), "text/event-stream")


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
