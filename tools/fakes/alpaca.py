"""A fake Alpaca: market data (stocks, crypto, options) and trading, in Alpaca's response shapes.

It keeps its own order book, so a test can count the orders that really reached the venue, and
an account activity (FILL) for every execution, as GET /v2/account/activities/FILL lists them.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tools.fakes.http import FakeServer, Request, Route

ACCOUNT_ID = "4a4b5c6d-1111-2222-3333-444455556666"
MAX_ACTIVITY_PAGE = 100  # Alpaca's maximum (and default) page_size without a date


def unauthorized() -> tuple[int, Any]:
    """Alpaca's answer to a request without the right keys."""
    return 401, {"code": 40110000, "message": "request is not authorized"}


def basic_header(keys: tuple[str, str]) -> str:
    """The Authorization header alpaca-py sends with use_basic_auth (alpaca/common/rest.py)."""
    return "Basic " + base64.b64encode(":".join(keys).encode()).decode()


def authorized(request: Request, keys: tuple[str, str], basic: bool) -> bool:
    """The keys as HTTP Basic auth (the Broker API, and market data under broker keys), or as
    the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers (the Trading API and its data keys)."""
    if basic:
        return request.headers.get("Authorization") == basic_header(keys)
    sent = (request.headers.get("APCA-API-KEY-ID"), request.headers.get("APCA-API-SECRET-KEY"))
    return sent == keys


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Listings:
    """Alpaca's asset master list and option contracts, as the Trading API (/v2/...) and the
    Broker API (/v1/...) answer them. Every equity, crypto pair and option contract is listed
    (active, tradable, fractionable equities) unless a test says otherwise: `assets` /
    `contracts` override a listing by symbol (see `equity_asset`, `crypto_asset`,
    `option_contract`), `unlisted` are 404s."""

    server: FakeServer
    assets: dict[str, dict[str, Any]]
    contracts: dict[str, dict[str, Any]]
    unlisted: set[str]

    def _listing_routes(self, version: str, check: Callable[[Route], Route]) -> None:
        self.assets, self.contracts, self.unlisted = {}, {}, set()
        for prefix, handler in ((f"/{version}/assets/", self._asset),
                                (f"/{version}/assets", self._all_assets),
                                (f"/{version}/options/contracts/", self._contract),
                                (f"/{version}/options/contracts", self._contracts)):  # fmt: skip
            self.server.route("GET", prefix, check(handler))

    def asset_for(self, symbol: str) -> dict[str, Any] | None:
        """The listing Alpaca has for an equity or crypto symbol, or None (a 404)."""
        if symbol in self.unlisted:
            return None
        if symbol in self.assets:
            return self.assets[symbol]
        return crypto_asset(symbol) if "/" in symbol else equity_asset(symbol)

    def contract_for(self, symbol: str) -> dict[str, Any] | None:
        if symbol in self.unlisted:
            return None
        return self.contracts.get(symbol) or option_contract(symbol)

    def _asset(self, request: Request) -> tuple[int, Any]:
        asset = self.asset_for(request.path.rpartition("/assets/")[2])
        if asset is None:
            return 404, {"code": 40410000, "message": "asset not found"}
        return 200, asset

    def _all_assets(self, request: Request) -> tuple[int, Any]:
        """Alpaca lists every asset of the class; the fake lists those it was told of plus
        a few defaults."""
        wanted = request.query.get("asset_class", ["us_equity"])[0]
        defaults = (["BTC/USD", "ETH/USD", "SOL/USD"] if wanted == "crypto"
                    else ["AAPL", "MSFT", "SPY"])  # fmt: skip
        listed = [self.asset_for(s) for s in defaults] + list(self.assets.values())
        by_symbol = {a["symbol"]: a for a in listed if a is not None and a["class"] == wanted}
        return 200, list(by_symbol.values())

    def _contract(self, request: Request) -> tuple[int, Any]:
        contract = self.contract_for(request.path.rpartition("/options/contracts/")[2])
        if contract is None:
            return 404, {"code": 40410000, "message": "option contract not found"}
        return 200, contract

    def _contracts(self, request: Request) -> tuple[int, Any]:
        """Only what a test configured: the fake cannot list a whole option chain."""
        underlyings = set(request.query.get("underlying_symbols", [""])[0].upper().split(","))
        contracts = [c for c in self.contracts.values() if c["underlying_symbol"] in underlyings]
        return 200, {"option_contracts": contracts, "next_page_token": None}


class FakeAlpaca(Listings):
    """`order_mode`: fill (at the touch), partial (half fills), accept (rests), reject.

    Listings as `Listings` says. Orders off the asset's grid are refused with a 422, as Alpaca
    does.

    `keys` (key, secret): every request must carry them, else 401: as the APCA-API-KEY-ID and
    APCA-API-SECRET-KEY headers, or with `basic_auth` as HTTP Basic auth, as a Broker API
    partner reads market data with its broker keys. No keys: nothing is checked.

    Every execution is also a FILL activity. With `order_mode = "accept"` an order rests, and
    the test fills it later, in as many parts as it likes, with `fill(order, qty, price)`;
    `cancel(order)` cancels it, and a `fill` after that is the fill that raced the cancel.
    DELETE /v2/orders/{id} cancels a working order and answers 422 for one that has ended.
    `add_activity` appends any entry as it is (see `fill_activity`).
    """

    def __init__(
        self, latency_s: float = 0.0, keys: tuple[str, str] | None = None, basic_auth: bool = False
    ) -> None:
        self.server = FakeServer(latency_s=latency_s)
        self.keys, self.basic_auth = keys, basic_auth
        self.quotes: dict[str, tuple[float, float] | None] = {}
        # (bid size, ask size) in Alpaca's units; (3, 2) unless set_quote says otherwise.
        self.quote_sizes: dict[str, tuple[float, float]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_mode = "fill"
        # The status an order that rests (order_mode "accept") is answered with: any of
        # Alpaca's, for the statuses the venue reports while an order may still fill.
        self.resting_status = "accepted"
        self.reject_message = "insufficient buying power"
        self.cash = 100_000.0
        self.activities: list[dict[str, Any]] = []
        # Added to what the orders hold, by order symbol: a venue position no order explains.
        self.extra_positions: dict[str, Decimal] = {}
        self._last_activity_at = datetime.min.replace(tzinfo=UTC)
        self._listing_routes("v2", self._authorized)
        for method, prefix, handler in (
            ("GET", "/v2/stocks/quotes/latest", self._latest_quotes),
            ("GET", "/v1beta3/crypto/us/latest/quotes", self._latest_quotes),
            ("GET", "/v1beta1/options/quotes/latest", self._latest_quotes),
            ("GET", "/v1beta3/crypto/us/latest/orderbooks", self._orderbooks),
            ("GET", "/v2/stocks/bars", self._bars),
            ("GET", "/v1beta3/crypto/us/bars", self._bars),
            ("POST", "/v2/orders", self._submit),
            ("GET", "/v2/orders:by_client_order_id", self._by_client_id),
            ("GET", "/v2/orders/", self._by_id),
            ("DELETE", "/v2/orders/", self._cancel),
            ("GET", "/v2/account/activities/FILL", self._fill_activities),
            ("GET", "/v2/account", self._account),
            ("GET", "/v2/positions", self._positions),
        ):
            self.server.route(method, prefix, self._authorized(handler))

    def _authorized(self, handler: Route) -> Route:
        def checked(request: Request) -> tuple[int, Any]:
            if self.keys is not None and not authorized(request, self.keys, self.basic_auth):
                return unauthorized()
            return handler(request)

        return checked

    def start(self) -> FakeAlpaca:
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def set_quote(
        self, symbol: str, bid: float, ask: float, bid_size: float = 3, ask_size: float = 2
    ) -> None:
        """Sizes in Alpaca's units: round lots of 100 shares for a stock, coins for crypto,
        contracts for an option."""
        self.quotes[symbol] = (bid, ask)
        self.quote_sizes[symbol] = (bid_size, ask_size)

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
            bid_size, ask_size = self.quote_sizes.get(symbol, (3, 2))
            quotes[symbol] = {"t": _now(), "bp": bid, "bs": bid_size, "bx": "V", "ap": ask,
                              "as": ask_size, "ax": "V", "c": ["R"], "z": "C"}  # fmt: skip
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
        refused = self._grid_problem(body["symbol"], Decimal(str(body["qty"])))
        if refused is not None:
            return 422, {"code": 40010001, "message": refused}
        if self.order_mode == "reject":
            return 403, {"code": 40310000, "message": self.reject_message}
        qty = Decimal(str(body["qty"]))
        bid, ask = self._touch(body["symbol"]) or (100.0, 100.02)
        price = ask if body["side"] == "buy" else bid
        filled = {"fill": qty, "partial": qty / 2, "accept": Decimal(0)}[self.order_mode]
        status = {"fill": "filled", "partial": "partially_filled", "accept": self.resting_status}
        order = _order(body, status[self.order_mode], Decimal(0), None)
        self.orders[client_id] = order
        if filled:
            self.fill(client_id, filled, Decimal(str(price)))
        return 200, order

    def order(self, ref: str) -> dict[str, Any]:
        """An order by its client_order_id or Alpaca's id."""
        if ref in self.orders:
            return self.orders[ref]
        return next(o for o in self.orders.values() if o["id"] == ref)

    def fill(self, ref: str, qty: Decimal | str, price: Decimal | str) -> dict[str, Any]:
        """An execution of `qty` at `price`: the order's filled_qty, filled_avg_price and status
        move on (a canceled order stays canceled), and a FILL activity is appended."""
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
        activity_id, at = self._next_activity()
        order["updated_at"] = at
        if leaves <= 0:
            order["filled_at"] = at
        activity = {
            "id": activity_id, "activity_type": "FILL", "transaction_time": at,
            "type": "fill" if leaves <= 0 else "partial_fill", "price": str(price),
            "qty": str(qty), "side": order["side"], "symbol": order["symbol"],
            "leaves_qty": str(max(leaves, Decimal(0))), "order_id": order["id"],
            "cum_qty": str(cum_qty), "order_status": order["status"],
        }  # fmt: skip
        self.activities.append(activity)
        return activity

    def cancel(self, ref: str) -> dict[str, Any]:
        order = self.order(ref)
        order["status"] = "canceled"
        order["canceled_at"] = order["updated_at"] = _now()
        return order

    def add_activity(self, entry: dict[str, Any]) -> None:
        """An entry as the venue would list it, whatever it holds (a malformed one, say)."""
        self.activities.append(entry)

    def _next_activity(self) -> tuple[str, str]:
        """A new activity's id and time. Alpaca's ids begin with the activity's time to the
        millisecond; the fake keeps them strictly increasing, so its paging is exact."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        at = max(now, self._last_activity_at + timedelta(milliseconds=1))
        self._last_activity_at = at
        stamp = f"{at:%Y%m%d%H%M%S}{at.microsecond // 1000:03d}"
        return f"{stamp}::{uuid.uuid4()}", at.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        )

    def next_activity_id(self) -> str:
        """An id in sequence with the fake's activities, for an entry a test adds."""
        return self._next_activity()[0]

    def _cancel(self, request: Request) -> tuple[int, Any]:
        order_id = request.path.removeprefix("/v2/orders/")
        order = next((o for o in self.orders.values() if o["id"] == order_id), None)
        if order is None:
            return 404, {"code": 40410000, "message": "order not found"}
        if order["status"] in ("filled", "canceled", "expired", "rejected"):
            return 422, {"code": 42210000,
                         "message": f"order is already in \"{order['status']}\" state"}  # fmt: skip
        self.cancel(order_id)
        return 204, b""

    def _fill_activities(self, request: Request) -> tuple[int, Any]:
        """GET /v2/account/activities/FILL: newest first unless direction=asc; page_token is
        the id of the last activity of the previous page."""
        query = {k: v[0] for k, v in request.query.items()}
        size = int(query.get("page_size", MAX_ACTIVITY_PAGE))
        if not 1 <= size <= MAX_ACTIVITY_PAGE:
            return 422, {"code": 42210000, "message": "page_size must be between 1 and 100"}
        ascending = query.get("direction", "desc") == "asc"
        listed = sorted(self.activities, key=lambda a: str(a.get("id")), reverse=not ascending)
        token = query.get("page_token")
        if token is not None:
            listed = [a for a in listed if (str(a.get("id")) > token) == ascending
                      and str(a.get("id")) != token]  # fmt: skip
        return 200, listed[:size]

    def _grid_problem(self, symbol: str, qty: Decimal) -> str | None:
        """Alpaca's own refusals of a quantity it cannot trade."""
        if _is_option(symbol):
            return None if qty == qty.to_integral_value() else "qty must be integer"
        asset = self.asset_for(symbol)
        if asset is None:
            return f"asset {symbol} not found"
        if not asset["fractionable"] and qty != qty.to_integral_value():
            return "qty must be integer: fractional orders are not supported for this asset"
        step = Decimal(asset.get("min_trade_increment") or "0.000000001")
        if qty % step != 0:
            return f"qty must be a multiple of {step}"
        return None

    def _by_id(self, request: Request) -> tuple[int, Any]:
        order_id = request.path.removeprefix("/v2/orders/")
        order = next((o for o in self.orders.values() if o["id"] == order_id), None)
        if order is None:
            return 404, {"code": 40410000, "message": "order not found"}
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
        """Alpaca names crypto positions without the slash (BTCUSD), unlike its orders."""
        held: dict[tuple[str, str], Decimal] = {}
        for order in self.orders.values():
            sign = 1 if order["side"] == "buy" else -1
            key = (order["symbol"].replace("/", ""), order["asset_class"])
            held[key] = held.get(key, Decimal(0)) + sign * Decimal(order["filled_qty"])
        for symbol, qty in self.extra_positions.items():
            key = (symbol.replace("/", ""), _asset_class_of(symbol))
            held[key] = held.get(key, Decimal(0)) + qty
        exchanges = {"crypto": "CRYPTO", "us_option": "", "us_equity": "NASDAQ"}
        return 200, [
            {"asset_id": str(uuid.uuid4()), "symbol": symbol, "exchange": exchanges[cls],
             "asset_class": cls, "asset_marginable": cls == "us_equity",
             "avg_entry_price": "100.0", "qty": str(qty), "side": "long",
             "market_value": str(qty * 100), "cost_basis": str(qty * 100),
             "unrealized_pl": "0", "unrealized_plpc": "0", "unrealized_intraday_pl": "0",
             "unrealized_intraday_plpc": "0", "current_price": "100.0", "lastday_price": "100.0",
             "change_today": "0", "qty_available": str(qty)}
            for (symbol, cls), qty in held.items() if qty > 0
        ]  # fmt: skip


def _is_option(symbol: str) -> bool:
    return len(symbol) > 15 and symbol[-9] in "CP" and symbol[-8:].isdigit()


def _asset_class_of(symbol: str) -> str:
    if "/" in symbol:
        return "crypto"
    return "us_option" if _is_option(symbol) else "us_equity"


def equity_asset(symbol: str, **changes: Any) -> dict[str, Any]:
    """A US equity as GET /v2/assets/{symbol} answers (alpaca-py's test fixture's shape)."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)), "class": "us_equity",
        "exchange": "NASDAQ", "symbol": symbol, "name": f"{symbol} Common Stock",
        "status": "active", "tradable": True, "marginable": True, "shortable": True,
        "easy_to_borrow": True, "fractionable": True, "attributes": [], **changes,
    }  # fmt: skip


def crypto_asset(symbol: str, **changes: Any) -> dict[str, Any]:
    """A crypto pair as Alpaca lists it: fractional, with its own minimum and increments."""
    return {
        **equity_asset(symbol), "class": "crypto", "exchange": "CRYPTO",
        "name": f"{symbol} pair", "marginable": False, "shortable": False,
        "easy_to_borrow": False, "min_order_size": "0.0001",
        "min_trade_increment": "0.000000001", "price_increment": "0.01", **changes,
    }  # fmt: skip


def option_contract(symbol: str, **changes: Any) -> dict[str, Any] | None:
    """An OCC contract as GET /v2/options/contracts/{symbol} answers, from its symbol."""
    if not _is_option(symbol):
        return None
    root, expiry, right, strike = symbol[:-15], symbol[-15:-9], symbol[-9], symbol[-8:]
    expiration = date(2000 + int(expiry[:2]), int(expiry[2:4]), int(expiry[4:]))
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)), "symbol": symbol,
        "name": f"{root} {expiration:%b %d %Y} {int(strike) / 1000:g} "
                f"{'Call' if right == 'C' else 'Put'}",
        "status": "active", "tradable": True, "expiration_date": expiration.isoformat(),
        "root_symbol": root, "underlying_symbol": root,
        "underlying_asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, root)),
        "type": "call" if right == "C" else "put", "style": "american",
        "strike_price": str(int(strike) / 1000), "multiplier": "100", "size": "100",
        "open_interest": "0", "open_interest_date": expiration.isoformat(),
        "close_price": None, "close_price_date": None, **changes,
    }  # fmt: skip


def fill_activity(activity_id: str, **changes: Any) -> dict[str, Any]:
    """A FILL activity as GET /v2/account/activities/FILL lists it (the shape of alpaca-py's
    test fixture, without the account_id the trading API leaves out); `changes` override."""
    return {
        "id": activity_id, "activity_type": "FILL",
        "transaction_time": "2025-01-06T14:30:00.001Z", "type": "fill", "price": "100.02",
        "qty": "1", "side": "buy", "symbol": "AAPL", "leaves_qty": "0",
        "order_id": str(uuid.uuid4()), "cum_qty": "1", "order_status": "filled", **changes,
    }  # fmt: skip


def _order(
    body: dict[str, Any], status: str, filled: Decimal, price: float | None
) -> dict[str, Any]:
    now = _now()
    return {
        "id": str(uuid.uuid4()), "client_order_id": body["client_order_id"],
        "created_at": now, "updated_at": now, "submitted_at": now,
        "filled_at": now if status == "filled" else None, "expired_at": None,
        "canceled_at": None, "failed_at": None, "replaced_at": None, "replaced_by": None,
        "replaces": None, "asset_id": str(uuid.uuid4()), "symbol": body["symbol"],
        "asset_class": _asset_class_of(body["symbol"]), "notional": None,
        "qty": str(body["qty"]),
        "filled_qty": str(filled), "filled_avg_price": None if price is None else str(price),
        "order_class": "simple", "order_type": body["type"], "type": body["type"],
        "side": body["side"], "time_in_force": body["time_in_force"],
        "limit_price": body.get("limit_price"), "stop_price": None, "status": status,
        "extended_hours": False, "legs": None, "trail_percent": None, "trail_price": None,
        "hwm": None,
    }  # fmt: skip
