"""A fake OANDA v20 REST API (pricing, orders, transactions, account) in OANDA's shapes.

Every transaction it makes (order create, fill, cancel) is kept in order and can be read back
as OANDA serves them: GET .../transactions (pages), .../transactions/idrange and
.../transactions/sinceid.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from tools.fakes.http import FakeServer, Request

ACCOUNT_ID = "101-001-1234567-001"
TRANSACTION_PAGE = 100  # OANDA's default pageSize for the transaction list


def _now() -> str:
    # OANDA stamps times with nanoseconds.
    return _stamp(datetime.now(UTC))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def _parse(text: str) -> datetime:
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}").replace(tzinfo=UTC)


class FakeOanda:
    """`order_mode`: fill, cancel (FOK not filled), reject.

    Every currency pair is listed (whole units, 5 decimals, 3 for JPY and HUF quotes) unless
    `instruments` overrides it (see `instrument`) or it is in `unlisted`. Units finer than
    the instrument's tradeUnitsPrecision are refused, as OANDA does. Fills carry
    `commission` and `financing`.

    A limit order rests (PENDING) until the test fills it, in as many parts as it likes, with
    `fill(client_order_id, units, price)`; `cancel(client_order_id)` cancels it, and a `fill`
    after that is the fill that raced the cancel. `add_transaction` appends any entry as it
    is (see `order_fill`); `purge(through_id)` forgets the history up to an id, after which
    a request for it is answered 416, as OANDA answers a range it no longer has.

    A GTD order (timeInForce GTD, gtdTime) rests until its gtdTime, then OANDA cancels it
    (ORDER_CANCEL, reason TIME_IN_FORCE_EXPIRED). The fake's clock is real time unless a test
    sets `clock` (see `set_time`); expiries are applied before each request is answered.
    """

    def __init__(self, latency_s: float = 0.0) -> None:
        self.server = FakeServer(latency_s=latency_s)
        self.prices: dict[str, tuple[float, float] | None] = {}
        self.liquidity: dict[str, int] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # by client id
        self.transactions: dict[str, dict[str, Any]] = {}
        self.order_mode = "fill"
        self.instruments: dict[str, dict[str, Any]] = {}
        self.unlisted: set[str] = set()
        self.commission = "0.0000"
        self.financing = "0.0000"
        self._ids = itertools.count(6000)
        self.last_transaction_id = "5999"
        self.purged_through = 0
        self._filled: dict[str, Decimal] = {}  # units filled so far, by client order id
        self.clock: datetime | None = None  # None: real time
        base = f"/v3/accounts/{ACCOUNT_ID}"
        for method, prefix, handler in (
            ("GET", f"{base}/pricing", self._pricing),
            ("GET", f"{base}/instruments", self._instruments),
            ("POST", f"{base}/orders", self._create),
            ("GET", f"{base}/orders/@", self._order_by_client_id),
            ("PUT", f"{base}/orders/", self._cancel_request),
            ("GET", f"{base}/transactions/sinceid", self._since_id),
            ("GET", f"{base}/transactions/idrange", self._id_range),
            ("GET", f"{base}/transactions/", self._transaction),
            ("GET", f"{base}/transactions", self._transaction_pages),
            ("GET", f"{base}/summary", self._summary),
            ("GET", f"{base}/openPositions", self._open_positions),
        ):
            self.server.route(method, prefix, self._expiring(handler))

    def _expiring(self, handler: Any) -> Any:
        def answer(request: Request) -> tuple[int, Any]:
            self.expire_due()
            return handler(request)

        return answer

    def now(self) -> datetime:
        return self.clock or datetime.now(UTC)

    def set_time(self, at: datetime) -> None:
        """Move the fake's clock; GTD orders whose time has come are cancelled."""
        self.clock = at
        self.expire_due()

    def expire_due(self) -> None:
        for client_id, order in list(self.orders.items()):
            gtd = order.get("gtdTime")
            if order["state"] == "PENDING" and gtd and _parse(gtd) <= self.now():
                self.cancel(client_id, reason="TIME_IN_FORCE_EXPIRED")

    def start(self) -> FakeOanda:
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def set_price(
        self, instrument: str, bid: float, ask: float, liquidity: int = 10_000_000
    ) -> None:
        """`liquidity`: the units available at the bid and at the ask, as OANDA reports them."""
        self.prices[instrument] = (bid, ask)
        self.liquidity[instrument] = liquidity

    def price_requests(self) -> int:
        return len(self.server.requests_to(f"/v3/accounts/{ACCOUNT_ID}/pricing"))

    def _touch(self, instrument: str) -> tuple[float, float] | None:
        return self.prices.get(instrument, (1.10000, 1.10010))

    def _pricing(self, request: Request) -> tuple[int, Any]:
        prices = []
        for instrument in request.query["instruments"][0].split(","):
            touch = self._touch(instrument)
            if touch is None:
                continue
            bid, ask = touch
            liquidity = self.liquidity.get(instrument, 10_000_000)
            prices.append({
                "type": "PRICE", "instrument": instrument, "time": _now(), "status": "tradeable",
                "tradeable": True, "bids": [{"price": f"{bid:.5f}", "liquidity": liquidity}],
                "asks": [{"price": f"{ask:.5f}", "liquidity": liquidity}],
                "closeoutBid": f"{bid:.5f}", "closeoutAsk": f"{ask:.5f}",
            })  # fmt: skip
        return 200, {"prices": prices, "time": _now()}

    def instrument_for(self, name: str) -> dict[str, Any] | None:
        if name in self.unlisted:
            return None
        return self.instruments.get(name) or instrument(name)

    def _instruments(self, request: Request) -> tuple[int, Any]:
        """Only the listed ones of those asked for, as OANDA does."""
        names = request.query.get("instruments", [""])[0].split(",")
        listed = [self.instrument_for(n) for n in names]
        return 200, {"instruments": [i for i in listed if i], "lastTransactionID": "1"}

    def _create(self, request: Request) -> tuple[int, Any]:
        order = request.body["order"]
        client_id = order["clientExtensions"]["id"]
        order_id = str(next(self._ids))
        create = {
            "id": order_id, "type": f"{order['type']}_ORDER", "time": _now(),
            "instrument": order["instrument"], "units": order["units"],
            "clientExtensions": order["clientExtensions"], "reason": "CLIENT_ORDER",
        }  # fmt: skip
        if client_id in self.orders:
            return 400, _reject(create, order, "CLIENT_ORDER_ID_ALREADY_EXISTS")
        listed = self.instrument_for(order["instrument"])
        if listed is None:
            return 400, _reject(create, order, "INSTRUMENT_NOT_TRADEABLE")
        units = Decimal(order["units"])
        if units != round(units, listed["tradeUnitsPrecision"]):
            return 400, _reject(create, order, "UNITS_PRECISION_EXCEEDED")
        if self.order_mode == "reject":
            return 400, _reject(create, order, "INSUFFICIENT_MARGIN")
        if order["timeInForce"] == "GTD":
            if "gtdTime" not in order:
                return 400, _reject(create, order, "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING")
            if _parse(order["gtdTime"]) <= self.now():
                return 400, _reject(create, order, "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST")
        self._record(create)
        self.orders[client_id] = {
            "id": order_id, "createTime": create["time"], "state": "PENDING",
            "type": order["type"], "instrument": order["instrument"], "units": order["units"],
            "clientExtensions": order["clientExtensions"], "timeInForce": order["timeInForce"],
        }  # fmt: skip
        for field in ("price", "gtdTime"):
            if field in order:
                self.orders[client_id][field] = order[field]
        body = {"orderCreateTransaction": create}
        if self.order_mode == "cancel":
            body["orderCancelTransaction"] = self.cancel(client_id, reason="MARKET_HALTED")
        elif order["type"] == "MARKET":
            bid, ask = self._touch(order["instrument"]) or (1.1, 1.1001)
            price = f"{ask if units > 0 else bid:.5f}"
            body["orderFillTransaction"] = self.fill(client_id, abs(units), price, "MARKET_ORDER")
        return 201, {**body, "relatedTransactionIDs": [order_id],
                     "lastTransactionID": self.last_transaction_id}  # fmt: skip

    def fill(
        self,
        client_id: str,
        units: Decimal | str,
        price: Decimal | str,
        reason: str = "LIMIT_ORDER",
    ) -> dict[str, Any]:
        """An ORDER_FILL of `units` (of the order's sign) at `price`; the order is FILLED once
        all its units are, unless it was cancelled first (a fill that raced the cancel)."""
        order = self.orders[client_id]
        units = abs(Decimal(units))
        signed = -units if order["units"].startswith("-") else units
        fill = {
            "id": str(next(self._ids)), "type": "ORDER_FILL", "orderID": order["id"],
            "clientOrderID": client_id, "instrument": order["instrument"], "units": f"{signed:f}",
            "price": str(price), "fullVWAP": str(price), "time": _now(), "reason": reason,
            "pl": "0.0000", "financing": self.financing, "commission": self.commission,
            "guaranteedExecutionFee": "0.0000", "accountBalance": "50000.0000",
            "accountID": ACCOUNT_ID, "batchID": order["id"], "userID": 1234567,
        }  # fmt: skip
        self._filled[client_id] = self._filled.get(client_id, Decimal(0)) + units
        if order["state"] == "PENDING" and self._filled[client_id] >= abs(Decimal(order["units"])):
            order.update(state="FILLED", fillingTransactionID=fill["id"], filledTime=fill["time"])
        return self._record(fill)

    def cancel(self, client_id: str, reason: str = "CLIENT_REQUEST") -> dict[str, Any]:
        """An ORDER_CANCEL (oandapyV20's fixture's shape); the order is CANCELLED."""
        order = self.orders[client_id]
        cancel = {
            "id": str(next(self._ids)), "type": "ORDER_CANCEL", "orderID": order["id"],
            "clientOrderID": client_id, "reason": reason, "time": _stamp(self.now()),
            "accountID": ACCOUNT_ID, "batchID": order["id"], "userID": 1234567,
        }  # fmt: skip
        order.update(state="CANCELLED", cancellingTransactionID=cancel["id"],
                     cancelledTime=cancel["time"])  # fmt: skip
        return self._record(cancel)

    def _cancel_request(self, request: Request) -> tuple[int, Any]:
        """PUT .../orders/{id or @client id}/cancel."""
        specifier = request.path.removesuffix("/cancel").rsplit("/", 1)[1]
        client_id = specifier[1:] if specifier.startswith("@") else next(
            (c for c, o in self.orders.items() if o["id"] == specifier), None
        )  # fmt: skip
        order = self.orders.get(client_id or "")
        if order is None or order["state"] != "PENDING":
            return 404, {"errorMessage": "The Order specified does not exist or is not pending",
                         "errorCode": "ORDER_DOESNT_EXIST"}  # fmt: skip
        cancel = self.cancel(client_id)
        return 200, {"orderCancelTransaction": cancel, "relatedTransactionIDs": [cancel["id"]],
                     "lastTransactionID": self.last_transaction_id}  # fmt: skip

    def next_transaction_id(self) -> str:
        return str(next(self._ids))

    def add_transaction(self, transaction: dict[str, Any]) -> None:
        """An entry as OANDA would list it, whatever else it holds (a malformed one, say)."""
        self._record(transaction)

    def purge(self, through_id: str) -> None:
        """OANDA no longer keeps the history up to and including `through_id`."""
        self.purged_through = int(through_id)
        for key in [k for k in self.transactions if int(k) <= self.purged_through]:
            del self.transactions[key]

    def _record(self, transaction: dict[str, Any]) -> dict[str, Any]:
        self.transactions[str(transaction["id"])] = transaction
        self.last_transaction_id = str(max(int(self.last_transaction_id), int(transaction["id"])))
        return transaction

    def _history(self, first: int, last: int) -> list[dict[str, Any]]:
        return [self.transactions[k] for k in sorted(self.transactions, key=int)
                if first <= int(k) <= last]  # fmt: skip

    def _since_id(self, request: Request) -> tuple[int, Any]:
        """GET .../transactions/sinceid?id=N: every transaction after N."""
        since = request.query.get("id", [""])[0]
        if not since.isdigit():
            return 400, {"errorMessage": f"Invalid value specified for 'id': {since!r}"}
        if int(since) < self.purged_through:
            return 416, _unavailable(int(since) + 1)
        return 200, {"transactions": self._history(int(since) + 1, int(self.last_transaction_id)),
                     "lastTransactionID": self.last_transaction_id}  # fmt: skip

    def _id_range(self, request: Request) -> tuple[int, Any]:
        """GET .../transactions/idrange?from=A&to=B: the transactions A to B, both included;
        `type` (a comma-separated list of transaction types) keeps only those types. OANDA
        also takes group filters (ORDER, FUNDING, ADMIN) there, which this does not model."""
        bounds = [request.query.get(k, [""])[0] for k in ("from", "to")]
        if not all(b.isdigit() for b in bounds):
            return 400, {"errorMessage": "Invalid value specified for 'from' or 'to'"}
        first, last = map(int, bounds)
        if first <= self.purged_through:
            return 416, _unavailable(first)
        kept = self._history(first, last)
        if "type" in request.query:
            types = set(request.query["type"][0].split(","))
            kept = [t for t in kept if t.get("type") in types]
        return 200, {"transactions": kept,
                     "lastTransactionID": self.last_transaction_id}  # fmt: skip

    def _transaction_pages(self, request: Request) -> tuple[int, Any]:
        """GET .../transactions: the count and the idrange URLs of the pages of history kept."""
        kept = sorted(map(int, self.transactions))
        last = int(self.last_transaction_id)
        base = f"{self.url}/v3/accounts/{ACCOUNT_ID}/transactions/idrange"
        pages = [
            f"{base}?{urlencode({'from': a, 'to': min(a + TRANSACTION_PAGE - 1, last)})}"
            for a in range(kept[0], last + 1, TRANSACTION_PAGE)
        ] if kept else []  # fmt: skip
        return 200, {"from": "2024-01-02T15:00:00.000000000Z", "to": _now(),
                     "pageSize": TRANSACTION_PAGE, "count": len(kept), "pages": pages,
                     "lastTransactionID": self.last_transaction_id}  # fmt: skip

    def _order_by_client_id(self, request: Request) -> tuple[int, Any]:
        client_id = request.path.rsplit("/@", 1)[1]
        order = self.orders.get(client_id)
        if order is None:
            return 404, {"errorMessage": "The order ID specified does not exist",
                         "errorCode": "ORDER_DOESNT_EXIST"}  # fmt: skip
        return 200, {"order": order, "lastTransactionID": self.last_transaction_id}

    def _transaction(self, request: Request) -> tuple[int, Any]:
        transaction = self.transactions.get(request.path.rsplit("/", 1)[1])
        if transaction is None:
            return 404, {"errorMessage": "Transaction not found"}
        return 200, {"transaction": transaction, "lastTransactionID": transaction["id"]}

    def _summary(self, request: Request) -> tuple[int, Any]:
        return 200, {"account": {"id": ACCOUNT_ID, "currency": "USD", "balance": "50000.0000",
                                 "marginAvailable": "49000.0000", "NAV": "50000.0000"},
                     "lastTransactionID": "1"}  # fmt: skip

    def _open_positions(self, request: Request) -> tuple[int, Any]:
        held: dict[str, float] = {}
        for order in self.orders.values():
            if order["state"] == "FILLED":
                held[order["instrument"]] = held.get(order["instrument"], 0) + float(order["units"])
        positions = [
            {"instrument": i, "long": {"units": str(max(u, 0)), "averagePrice": "1.10010"},
             "short": {"units": str(min(u, 0)), "averagePrice": "1.10000"}}
            for i, u in held.items()
        ]  # fmt: skip
        return 200, {"positions": positions, "lastTransactionID": "1"}


def instrument(name: str, **changes: Any) -> dict[str, Any]:
    """A currency pair as GET /v3/accounts/{id}/instruments lists it (oandapyV20's fixture)."""
    quote = name.rsplit("_", 1)[-1]
    places = 3 if quote in ("JPY", "HUF") else 5
    return {
        "name": name, "type": "CURRENCY", "displayName": name.replace("_", "/"),
        "pipLocation": -2 if places == 3 else -4, "displayPrecision": places,
        "tradeUnitsPrecision": 0, "minimumTradeSize": "1",
        "maximumTrailingStopDistance": "1.00000", "minimumTrailingStopDistance": "0.00050",
        "maximumPositionSize": "0", "maximumOrderUnits": "100000000", "marginRate": "0.05",
        **changes,
    }  # fmt: skip


def order_fill(transaction_id: str, **changes: Any) -> dict[str, Any]:
    """An ORDER_FILL as the transactions endpoints list it; `changes` override its fields."""
    return {
        "id": transaction_id, "type": "ORDER_FILL", "orderID": "5000", "clientOrderID": "c-1",
        "instrument": "EUR_USD", "units": "1000", "price": "1.10010", "fullVWAP": "1.10010",
        "time": _now(), "reason": "LIMIT_ORDER", "pl": "0.0000", "financing": "0.0000",
        "commission": "0.0000", "accountBalance": "50000.0000", "accountID": ACCOUNT_ID,
        **changes,
    }  # fmt: skip


def _unavailable(transaction_id: int) -> dict[str, Any]:
    return {"errorMessage": f"Transaction {transaction_id} is no longer available: the "
                            "requested range of transactions cannot be satisfied"}  # fmt: skip


def _reject(create: dict[str, Any], order: dict[str, Any], reason: str) -> dict[str, Any]:
    reject = {**create, "type": f"{order['type']}_ORDER_REJECT", "rejectReason": reason}
    return {"orderRejectTransaction": reject, "errorCode": reason,
            "errorMessage": reason.replace("_", " ").lower()}  # fmt: skip
