"""A fake OANDA v20 REST API (pricing, orders, transactions, account) in OANDA's shapes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tools.fakes.http import FakeServer, Request

ACCOUNT_ID = "101-001-1234567-001"


def _now() -> str:
    # OANDA stamps times with nanoseconds.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class FakeOanda:
    """`order_mode`: fill, cancel (FOK not filled), reject.

    Every currency pair is listed (whole units, 5 decimals, 3 for JPY and HUF quotes) unless
    `instruments` overrides it (see `instrument`) or it is in `unlisted`. Units finer than
    the instrument's tradeUnitsPrecision are refused, as OANDA does. Fills carry
    `commission` and `financing`.
    """

    def __init__(self, latency_s: float = 0.0) -> None:
        self.server = FakeServer(latency_s=latency_s)
        self.prices: dict[str, tuple[float, float] | None] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # by client id
        self.transactions: dict[str, dict[str, Any]] = {}
        self.order_mode = "fill"
        self.instruments: dict[str, dict[str, Any]] = {}
        self.unlisted: set[str] = set()
        self.commission = "0.0000"
        self.financing = "0.0000"
        self._ids = itertools.count(6000)
        base = f"/v3/accounts/{ACCOUNT_ID}"
        for method, prefix, handler in (
            ("GET", f"{base}/pricing", self._pricing),
            ("GET", f"{base}/instruments", self._instruments),
            ("POST", f"{base}/orders", self._create),
            ("GET", f"{base}/orders/@", self._order_by_client_id),
            ("GET", f"{base}/transactions/", self._transaction),
            ("GET", f"{base}/summary", self._summary),
            ("GET", f"{base}/openPositions", self._open_positions),
        ):
            self.server.route(method, prefix, handler)

    def start(self) -> FakeOanda:
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def set_price(self, instrument: str, bid: float, ask: float) -> None:
        self.prices[instrument] = (bid, ask)

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
            prices.append({
                "type": "PRICE", "instrument": instrument, "time": _now(), "status": "tradeable",
                "tradeable": True, "bids": [{"price": f"{bid:.5f}", "liquidity": 10000000}],
                "asks": [{"price": f"{ask:.5f}", "liquidity": 10000000}],
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
        state, body = "PENDING", {"orderCreateTransaction": create}
        if self.order_mode == "cancel":
            state = "CANCELLED"
            body["orderCancelTransaction"] = {
                "id": str(next(self._ids)), "orderID": order_id, "reason": "MARKET_HALTED",
                "time": _now(),
            }  # fmt: skip
        elif order["type"] == "MARKET":
            bid, ask = self._touch(order["instrument"]) or (1.1, 1.1001)
            units = float(order["units"])
            fill = {"id": str(next(self._ids)), "type": "ORDER_FILL", "orderID": order_id,
                    "instrument": order["instrument"], "units": order["units"],
                    "price": f"{ask if units > 0 else bid:.5f}", "time": _now(),
                    "reason": "MARKET_ORDER", "pl": "0.0000", "financing": self.financing,
                    "commission": self.commission, "guaranteedExecutionFee": "0.0000",
                    "accountBalance": "50000.0000"}  # fmt: skip
            self.transactions[fill["id"]] = fill
            body["orderFillTransaction"] = fill
            state = "FILLED"
        self.orders[client_id] = {
            "id": order_id, "createTime": create["time"], "state": state,
            "type": order["type"], "instrument": order["instrument"], "units": order["units"],
            "clientExtensions": order["clientExtensions"], "timeInForce": order["timeInForce"],
            **({"fillingTransactionID": body["orderFillTransaction"]["id"],
                "filledTime": _now()} if state == "FILLED" else {}),
        }  # fmt: skip
        return 201, {**body, "relatedTransactionIDs": [order_id], "lastTransactionID": order_id}

    def _order_by_client_id(self, request: Request) -> tuple[int, Any]:
        client_id = request.path.rsplit("/@", 1)[1]
        order = self.orders.get(client_id)
        if order is None:
            return 404, {"errorMessage": "The order ID specified does not exist",
                         "errorCode": "ORDER_DOESNT_EXIST"}  # fmt: skip
        return 200, {"order": order, "lastTransactionID": order["id"]}

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


def _reject(create: dict[str, Any], order: dict[str, Any], reason: str) -> dict[str, Any]:
    reject = {**create, "type": f"{order['type']}_ORDER_REJECT", "rejectReason": reason}
    return {"orderRejectTransaction": reject, "errorCode": reason,
            "errorMessage": reason.replace("_", " ").lower()}  # fmt: skip
