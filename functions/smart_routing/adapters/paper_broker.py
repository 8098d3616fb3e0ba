"""A paper broker: fills marketable orders at the touch, on the account of the order's owner.

Buys fill at the ask and sells at the bid of the market data it is given. A limit order that is
not marketable rests as accepted and is never filled later: this broker does no matching.

Every (tenant, user) has an account of its own (cash, positions, forex margin) in a
`PaperAccountStore`, and each fill is settled on it atomically with the order (see
paper_account.py). Like a real venue it checks what it is sent: the instrument's grid, the
owner's buying power, no short of what may not be shorted, and it charges the fee schedule.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from smart_routing.adapters.memory_paper_accounts import InMemoryPaperAccounts
from smart_routing.assets import AssetClass
from smart_routing.clock import SystemClock
from smart_routing.conversion import conversion_from_quote, conversion_pair
from smart_routing.errors import OrderRejected, VenueUnavailable
from smart_routing.fees import FeeSchedule, estimate_fees
from smart_routing.market_data import Quote, quote_problem
from smart_routing.money import ZERO, round_money
from smart_routing.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
)
from smart_routing.paper_account import (
    ACCOUNT_CURRENCY,
    DEFAULT_STARTING_CASH,
    PaperAccount,
    settle,
)
from smart_routing.ports import Clock, InstrumentSource, MarketDataProvider, PaperAccountStore
from smart_routing.routing import DEFAULT_FOREX_MARGIN_RATE, DEFAULT_MAX_QUOTE_AGE_S


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
        self._next_id = 0

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
        price = _fill_price(request, self._quote(request.symbol, request.asset_class))

        def apply(account: PaperAccount) -> tuple[PaperAccount | None, Order]:
            if price is None:
                return None, self._order(request, OrderStatus.ACCEPTED, ZERO, None)
            fee = estimate_fees(self.fees, spec, request.side, request.qty, price)
            settled = settle(
                account, request, spec, price, fee, self._in_usd, self.forex_margin_rate
            )
            return settled, self._order(request, OrderStatus.FILLED, request.qty, price, fee)

        return self.accounts.transact(owner, request.client_order_id, apply)

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return self.accounts.order(client_order_id)

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

    def _in_usd(self, amount: Decimal, currency: str) -> Decimal:
        if currency == ACCOUNT_CURRENCY:
            return amount
        symbol, asset_class, inverse = conversion_pair(currency, ACCOUNT_CURRENCY)
        rate = conversion_from_quote(self._quote(symbol, asset_class), inverse).rate
        return round_money(amount * rate, ACCOUNT_CURRENCY)

    def _order(
        self,
        request: OrderRequest,
        status: OrderStatus,
        filled_qty: Decimal,
        price: Decimal | None,
        fees: Decimal | None = None,
    ) -> Order:
        self._next_id += 1
        now = self.clock.now()
        return Order(
            broker=self.name,
            broker_order_id=f"{self._id_prefix}-{self._next_id:06d}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            asset_class=request.asset_class,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            limit_price=request.limit_price,
            status=status,
            filled_qty=filled_qty,
            filled_avg_price=price,
            fees=fees,
            submitted_at=now,
            filled_at=now if price is not None else None,
        )


def _fill_price(request: OrderRequest, quote: Quote) -> Decimal | None:
    """The touch price a marketable order fills at, or None for a resting limit order."""
    buying = request.side is OrderSide.BUY
    touch = quote.ask if buying else quote.bid
    if request.order_type is OrderType.LIMIT:
        limit = request.limit_price
        assert limit is not None  # OrderIntent requires it for limit orders
        marketable = limit >= touch if buying else limit <= touch
        if not marketable:
            return None
    return touch
