"""A fake Alpaca: market data (stocks, crypto, options) and trading, in Alpaca's response shapes.

It keeps its own order book, so a test can count the orders that really reached the venue.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.fakes.http import FakeServer, Request

ACCOUNT_ID = "4a4b5c6d-1111-2222-3333-444455556666"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeAlpaca:
    """`order_mode`: fill (at the touch), partial (half fills), accept (rests), reject."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.server = FakeServer(latency_s=latency_s)
        self.quotes: dict[str, tuple[float, float] | None] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_mode = "fill"
        self.reject_message = "insufficient buying power"
        self.cash = 100_000.0
        for method, prefix, handler in (
            ("GET", "/v2/stocks/quotes/latest", self._latest_quotes),
            ("GET", "/v1beta3/crypto/us/latest/quotes", self._latest_quotes),
            ("GET", "/v1beta1/options/quotes/latest", self._latest_quotes),
            ("GET", "/v1beta3/crypto/us/latest/orderbooks", self._orderbooks),
            ("GET", "/v2/stocks/bars", self._bars),
            ("GET", "/v1beta3/crypto/us/bars", self._bars),
            ("POST", "/v2/orders", self._submit),
            ("GET", "/v2/orders:by_client_order_id", self._by_client_id),
            ("GET", "/v2/account", self._account),
            ("GET", "/v2/positions", self._positions),
        ):
            self.server.route(method, prefix, handler)

    def start(self) -> FakeAlpaca:
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def set_quote(self, symbol: str, bid: float, ask: float) -> None:
        self.quotes[symbol] = (bid, ask)

    def drop_quote(self, symbol: str) -> None:
        """The symbol is missing from quote responses."""
        self.quotes[symbol] = None

    def quote_requests(self) -> int:
        return sum(
            len(self.server.requests_to(p))
            for p in ("/v2/stocks/quotes", "/v1beta3/crypto/us/latest/quotes",
                      "/v1beta1/options/quotes")
        )  # fmt: skip

    def _touch(self, symbol: str) -> tuple[float, float] | None:
        return self.quotes.get(symbol, (100.0, 100.02))

    def _latest_quotes(self, request: Request) -> tuple[int, Any]:
        quotes = {}
        for symbol in request.query["symbols"][0].split(","):
            touch = self._touch(symbol)
            if touch is None:
                continue
            bid, ask = touch
            quotes[symbol] = {"t": _now(), "bp": bid, "bs": 3, "bx": "V", "ap": ask, "as": 2,
                              "ax": "V", "c": ["R"], "z": "C"}  # fmt: skip
        return 200, {"quotes": quotes}

    def _orderbooks(self, request: Request) -> tuple[int, Any]:
        books = {}
        for symbol in request.query["symbols"][0].split(","):
            bid, ask = self._touch(symbol) or (100.0, 100.02)
            books[symbol] = {
                "t": _now(),
                "b": [{"p": bid, "s": 0.5}, {"p": bid * 0.999, "s": 2.0}],
                "a": [{"p": ask, "s": 0.5}, {"p": ask * 1.001, "s": 2.0}],
            }
        return 200, {"orderbooks": books}

    def _bars(self, request: Request) -> tuple[int, Any]:
        symbol = request.query["symbols"][0].split(",")[0]
        bid, ask = self._touch(symbol) or (100.0, 100.02)
        last, start = (bid + ask) / 2, datetime.now(UTC) - timedelta(minutes=20)
        closes = [last * (0.98 + 0.001 * i) for i in range(19)] + [last]
        bars = [{"t": (start + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
                 "o": c, "h": c, "l": c, "c": c, "v": 100, "n": 5, "vw": c}
                for i, c in enumerate(closes)]  # fmt: skip
        return 200, {"bars": {symbol: bars}, "next_page_token": None}

    def _submit(self, request: Request) -> tuple[int, Any]:
        body = request.body
        client_id = body["client_order_id"]
        if client_id in self.orders:
            return 422, {"code": 40010001, "message": "client_order_id must be unique"}
        if self.order_mode == "reject":
            return 403, {"code": 40310000, "message": self.reject_message}
        qty = float(body["qty"])
        bid, ask = self._touch(body["symbol"]) or (100.0, 100.02)
        price = ask if body["side"] == "buy" else bid
        filled = {"fill": qty, "partial": qty / 2, "accept": 0.0}[self.order_mode]
        status = {"fill": "filled", "partial": "partially_filled", "accept": "accepted"}
        order = _order(body, status[self.order_mode], filled, price if filled else None)
        self.orders[client_id] = order
        return 200, order

    def _by_client_id(self, request: Request) -> tuple[int, Any]:
        order = self.orders.get(request.query["client_order_id"][0])
        if order is None:
            return 404, {"code": 40410000, "message": "order not found"}
        return 200, order

    def _account(self, request: Request) -> tuple[int, Any]:
        return 200, {
            "id": ACCOUNT_ID, "account_number": "PA3FAKE0001", "status": "ACTIVE",
            "currency": "USD", "cash": str(self.cash), "buying_power": str(self.cash * 2),
            "equity": str(self.cash), "portfolio_value": str(self.cash),
            "pattern_day_trader": False, "trading_blocked": False, "account_blocked": False,
            "created_at": "2024-01-02T15:00:00Z",
        }  # fmt: skip

    def _positions(self, request: Request) -> tuple[int, Any]:
        held: dict[str, float] = {}
        for order in self.orders.values():
            sign = 1 if order["side"] == "buy" else -1
            held[order["symbol"]] = held.get(order["symbol"], 0) + sign * float(order["filled_qty"])
        return 200, [
            {"asset_id": str(uuid.uuid4()), "symbol": symbol, "exchange": "NASDAQ",
             "asset_class": "us_equity", "avg_entry_price": "100.0", "qty": str(qty),
             "side": "long", "cost_basis": str(qty * 100)}
            for symbol, qty in held.items() if qty > 0
        ]  # fmt: skip


def _order(body: dict[str, Any], status: str, filled: float, price: float | None) -> dict:
    now = _now()
    return {
        "id": str(uuid.uuid4()), "client_order_id": body["client_order_id"],
        "created_at": now, "updated_at": now, "submitted_at": now,
        "filled_at": now if status == "filled" else None, "expired_at": None,
        "canceled_at": None, "failed_at": None, "replaced_at": None, "replaced_by": None,
        "replaces": None, "asset_id": str(uuid.uuid4()), "symbol": body["symbol"],
        "asset_class": "us_equity", "notional": None, "qty": str(body["qty"]),
        "filled_qty": str(filled), "filled_avg_price": None if price is None else str(price),
        "order_class": "simple", "order_type": body["type"], "type": body["type"],
        "side": body["side"], "time_in_force": body["time_in_force"],
        "limit_price": body.get("limit_price"), "stop_price": None, "status": status,
        "extended_hours": False, "legs": None, "trail_percent": None, "trail_price": None,
        "hwm": None,
    }  # fmt: skip
