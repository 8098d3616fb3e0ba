"""A paper broker: fills marketable orders at the touch, on the account of the order's owner.

Buys fill at the ask and sells at the bid of the market data it is given, up to the size shown
at the touch when the quote shows one. What does not fill at once (the rest of an order larger
than the touch, or a limit order that is not marketable) works: `work_order` fills more of it
at the quote of the moment, which the reconciler calls on each run.

Every (tenant, user) has an account of its own (cash, positions, forex margin) in a
`PaperAccountStore`, and each fill is settled on it atomically with the order (see
paper_account.py). Like a real venue it checks what it is sent: the instrument's grid, the
owner's buying power, no short of what may not be shorted, and it charges the fee schedule.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from smart_routing.adapters.clock import SystemClock
from smart_routing.adapters.memory_paper_accounts import InMemoryPaperAccounts
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import OrderRejected, VenueUnavailable
from smart_routing.domain.fills import VenueFill
from smart_routing.domain.instruments import InstrumentSpec
from smart_routing.domain.money import ZERO, Money, format_qty
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
)
from smart_routing.gate.fees import FeeSchedule, estimate_fees
from smart_routing.gate.policy import DEFAULT_FOREX_MARGIN_RATE, DEFAULT_MAX_QUOTE_AGE_S
from smart_routing.market.conversion import conversion_from_quote, conversion_pair
from smart_routing.market.quotes import Quote, quote_problem
from smart_routing.portfolio.paper_account import (
    ACCOUNT_CURRENCY,
    DEFAULT_STARTING_CASH,
    PaperAccount,
    settle,
)
from smart_routing.ports import Clock, InstrumentSource, MarketDataProvider, PaperAccountStore


class PaperBroker:
    name = "paper"

    def __init__(
        self,
        market_data: MarketDataProvider,
        instruments: InstrumentSource,
        clock: Clock | None = None,
        *,
        accounts: PaperAccountStore | None = None,
        starting_cash: Decimal = DEFAULT_STARTING_CASH,
        default_owner: AccountOwner | None = None,
        max_quote_age_s: float = DEFAULT_MAX_QUOTE_AGE_S,
        fees: FeeSchedule | None = None,
        forex_margin_rate: Decimal = DEFAULT_FOREX_MARGIN_RATE,
    ) -> None:
        """`accounts` defaults to this process's memory (the local runtime); the functions pass
        their Firestore store. `default_owner` is whose account an order or read naming none
        is for (the local runtime's configured user); without one, each must name its owner."""
        self.market_data = market_data
        self.instruments = instruments
        self.accounts = accounts if accounts is not None else InMemoryPaperAccounts(starting_cash)
        self.default_owner = default_owner
        self.clock = clock or SystemClock()
        self.max_quote_age_s = max_quote_age_s
        self.fees = fees or FeeSchedule()
        self.forex_margin_rate = forex_margin_rate
        # Unique across instances and restarts: a uuid, not a counter from 1.
        self._id_prefix = f"paper-{uuid.uuid4().hex[:12]}"
        # next() on a count is atomic: request threads sharing the broker never share an id.
        self._ids = itertools.count(1)

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.name

    def submit_order(self, request: OrderRequest) -> Order:
        owner = request.owner or self.default_owner
        if owner is None:
            raise OrderRejected("paper: an order must name the account it is for")
        spec = self.instruments.get_instrument(request.symbol, request.asset_class)
        problem = spec.qty_problem(request.qty)
        if problem is not None:
            raise OrderRejected(f"paper: {problem}")
        quote = self._quote(request.symbol, request.asset_class)

        def apply(account: PaperAccount) -> tuple[PaperAccount | None, Order]:
            opened = self._opened(request)
            filled = self._fill(account, opened, request, spec, quote, resting=False)
            return (None, opened) if filled is None else (filled.account, filled.order)

        return self.accounts.transact(owner, request.client_order_id, apply)

    def work_order(self, owner: AccountOwner, order: Order) -> VenueFill | None:
        """Fill more of a working order at the current quote, settled on the owner's account
        with the order: that fill, or None when nothing more filled (not marketable, or the
        order is no longer working)."""
        spec = self.instruments.get_instrument(order.symbol, order.asset_class)
        quote = self._quote(order.symbol, order.asset_class)
        fills: list[VenueFill] = []

        def apply(account: PaperAccount, stored: Order) -> tuple[PaperAccount, Order] | None:
            fills.clear()  # apply may run again on contention: keep only the last run's fill
            if not stored.is_working:
                return None
            try:
                rest = _rest_of(stored, owner)
                filled = self._fill(account, stored, rest, spec, quote, resting=True)
            except OrderRejected as exc:  # the account can no longer take the rest: it ends
                reason = f"canceled with {format_qty(stored.filled_qty)} filled: {exc.reason}"
                ended = {"status": OrderStatus.CANCELED, "reject_reason": reason}
                return account, stored.model_copy(update=ended)
            if filled is None:
                return None
            fills.append(_venue_fill(filled))
            return filled.account, filled.order

        self.accounts.advance(owner, order.client_order_id, apply)
        return fills[-1] if fills else None

    def _fill(
        self, account: PaperAccount, order: Order, rest: OrderRequest, spec: InstrumentSpec,
        quote: Quote, resting: bool,
    ) -> _Filled | None:  # fmt: skip
        """The account and order after filling what the quote allows of `rest` (the part of
        `order` still open), or None when nothing fills. `resting`: the order has been working
        on the book since an earlier quote."""
        price = _fill_price(rest, quote, resting)
        qty = _fillable_qty(rest, quote, spec)
        if price is None or qty <= 0:
            return None
        part = rest.model_copy(update={"qty": qty})
        fee = estimate_fees(self.fees, spec, part.side, qty, price)
        settled = settle(account, part, spec, price, fee, self._in_usd, self.forex_margin_rate)
        filled = _with_fill(order, qty, price, fee.amount, self.clock.now())
        return _Filled(settled, filled.model_copy(update={"fill_mid": quote.mid}), qty, price, fee)

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return self.accounts.order(client_order_id)

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        """Ends a working order with what it filled so far, stored with the owner's account
        (which a cancel leaves as it is)."""
        owner = owner or self.default_owner
        if owner is None:
            raise ValueError("the paper venue keeps orders per user: name the owner")

        def apply(account: PaperAccount, stored: Order) -> tuple[PaperAccount, Order] | None:
            if not stored.is_working:
                return None
            return account, stored.model_copy(update={"status": OrderStatus.CANCELED})

        return self.accounts.advance(owner, client_order_id, apply)

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        owner = owner or self.default_owner
        if owner is None:
            raise ValueError("the paper venue keeps an account per user: name the owner")
        return self.accounts.account(owner).snapshot(self.clock.now())

    def _quote(self, symbol: str, asset_class: AssetClass) -> Quote:
        try:
            quote = self.market_data.get_quote(symbol, asset_class)
        except Exception as exc:  # no price, no fill: the order is certainly not placed
            raise VenueUnavailable(f"paper broker has no market data: {exc}") from exc
        if quote is None:
            raise VenueUnavailable(f"paper broker has no quote for {symbol}")
        problem = quote_problem(quote, self.clock.now(), self.max_quote_age_s)
        if problem is not None:
            raise VenueUnavailable(f"paper broker cannot price {symbol}: {problem}")
        return quote

    def _in_usd(self, money: Money) -> Money:
        if money.currency == ACCOUNT_CURRENCY:
            return money
        symbol, asset_class, inverse = conversion_pair(money.currency, ACCOUNT_CURRENCY)
        rate = conversion_from_quote(self._quote(symbol, asset_class), inverse).rate
        return Money(money.amount * rate, ACCOUNT_CURRENCY).rounded()

    def _opened(self, request: OrderRequest) -> Order:
        return Order(
            broker=self.name,
            broker_order_id=f"{self._id_prefix}-{next(self._ids):06d}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            asset_class=request.asset_class,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            limit_price=request.limit_price,
            status=OrderStatus.ACCEPTED,
            submitted_at=self.clock.now(),
            strategy_id=request.strategy_id,
            arrival=request.arrival,
            expires_at=request.expires_at,
            fallback=request.fallback,
        )


def _fillable_qty(request: OrderRequest, quote: Quote, spec: InstrumentSpec) -> Decimal:
    """All of it, or what the touch shows, on the instrument's grid."""
    shown = quote.ask_size if request.side is OrderSide.BUY else quote.bid_size
    if shown is None or shown >= request.qty:
        return request.qty
    return spec.floor_qty(shown)


def _rest_of(order: Order, owner: AccountOwner) -> OrderRequest:
    """The still-open part of a stored order, as a request to fill."""
    return OrderRequest(
        client_order_id=order.client_order_id,
        owner=owner,
        symbol=order.symbol,
        asset_class=order.asset_class,
        side=order.side,
        qty=order.qty - order.filled_qty,
        order_type=order.order_type,
        limit_price=order.limit_price,
        strategy_id=order.strategy_id or "manual",
    )


def _with_fill(order: Order, qty: Decimal, price: Decimal, fee: Decimal, at: datetime) -> Order:
    """The order after one more fill: cumulative qty, average price and fees."""
    filled = order.filled_qty + qty
    before = order.filled_avg_price or ZERO
    average = (before * order.filled_qty + price * qty) / filled
    done = filled >= order.qty
    return order.model_copy(
        update={
            "filled_qty": filled,
            "filled_avg_price": price if order.filled_qty == 0 else average,
            "fees": (order.fees or ZERO) + fee,
            "status": OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
            "filled_at": at,
        }
    )


class _Filled(NamedTuple):
    """One fill settled: the account and order after it, and the fill itself."""

    account: PaperAccount
    order: Order
    qty: Decimal
    price: Decimal
    fee: Money


def _venue_fill(filled: _Filled) -> VenueFill:
    """The fill as the reconciler records it; its id is the order's filled qty after it,
    unique per order and the same however often it is computed."""
    order = filled.order
    assert order.filled_at is not None  # _with_fill sets it
    return VenueFill(
        venue=PaperBroker.name,
        fill_id=f"{order.broker_order_id.removeprefix('paper-')}-{format_qty(order.filled_qty)}",
        broker_order_id=order.broker_order_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        asset_class=order.asset_class,
        side=order.side,
        qty=filled.qty,
        price=filled.price,
        cum_qty=order.filled_qty,
        fees=filled.fee.amount,
        filled_at=order.filled_at,
        mid=order.fill_mid,
    )


def _fill_price(request: OrderRequest, quote: Quote, resting: bool) -> Decimal | None:
    """The price a marketable order fills at, or None when a limit order is not marketable.

    An order arriving marketable takes the touch. A limit order that was resting fills at its
    own limit: the market came to it between two quotes the paper venue saw, so the touch it
    now shows is an improvement the order would not have had.
    """
    buying = request.side is OrderSide.BUY
    touch = quote.ask if buying else quote.bid
    if request.order_type is OrderType.LIMIT:
        limit = request.limit_price
        assert limit is not None  # OrderIntent requires it for limit orders
        marketable = limit >= touch if buying else limit <= touch
        if not marketable:
            return None
        if resting:
            return limit
    return touch
