"""The core's ports: everything it asks of the outside world, as small protocols."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from decimal import Decimal

    from smart_routing.domain.assets import AssetClass
    from smart_routing.domain.fills import FillPage, VenueFill
    from smart_routing.domain.instruments import InstrumentSpec
    from smart_routing.domain.orders import (
        AccountOwner,
        AccountSnapshot,
        Order,
        OrderRequest,
        Position,
    )
    from smart_routing.domain.trading_state import TradingStatus
    from smart_routing.gate.fees import FeeSchedule

    # The market's depth, qualified: OrderBook below is the port where orders are recorded.
    from smart_routing.market import spread
    from smart_routing.market.quotes import Bar, Quote
    from smart_routing.portfolio.ledger import LedgerTrade
    from smart_routing.portfolio.paper_account import PaperAccount


class TradingStates(Protocol):
    """The kill switch: the status an owner's orders trade under (the stricter of the
    tenant's and the user's). May raise when it cannot be read: the order is then refused."""

    def status_of(self, owner: AccountOwner) -> TradingStatus: ...


class OrderCaps(Protocol):
    """A tenant's caps on one order's notional and on a user's notional per day (account
    currency). May raise when the caps cannot be read: the order is then not sent."""

    def admit(
        self,
        owner: AccountOwner,
        notional: Decimal,
        currency: str,
        client_order_id: str,
        day: date,
        reserve: bool,
    ) -> str | None:
        """Why the order may not go out, or None. With `reserve`, an admitted order's notional
        is added to the user's total for `day`, once per client_order_id."""
        ...


class VenueBreaker(Protocol):
    """The venue circuit breaker: counts a tenant's failures on a venue (timeouts, 5xx,
    unknown outcomes) and, at N in M minutes, sets the tenant `reducing` on that venue."""

    def record_failure(self, tenant_id: str, venue: str, failure: str) -> bool:
        """Count one failure; True when it tripped the breaker."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class MarketDataProvider(Protocol):
    """Live quotes, recent bars and depth. May raise on a venue failure; callers handle it."""

    def get_quote(self, symbol: str, asset_class: AssetClass) -> Quote | None: ...

    def get_bars(self, symbol: str, asset_class: AssetClass, limit: int) -> list[Bar]: ...

    def prefetch(self, instruments: Iterable[tuple[str, AssetClass]]) -> None:
        """Fetch these quotes ahead, in as few requests as the venues allow."""
        ...

    def get_order_book(self, symbol: str, asset_class: AssetClass) -> spread.OrderBook | None:
        """Depth where the venue publishes it; None elsewhere."""
        ...


class InstrumentSource(Protocol):
    """Instrument specs as the venue that trades each asset class publishes them.

    Raises `InstrumentUnavailable` when the venue cannot be asked or answers garbage; an
    instrument the venue does not list comes back with tradable False and the reason.
    """

    def get_instrument(self, symbol: str, asset_class: AssetClass) -> InstrumentSpec: ...

    def prefetch_instruments(self, instruments: Iterable[tuple[str, AssetClass]]) -> None: ...


class Broker(Protocol):
    """A venue (or a router over venues) that takes orders.

    `submit_order` is idempotent on `client_order_id`: submitting one the venue already has
    returns that order and never places a second. It raises `OrderRejected` when the venue
    refuses, `VenueUnavailable` when the order certainly did not reach the venue, and
    `OrderOutcomeUnknown` when it may have.
    """

    name: str

    def venue_for(self, asset_class: AssetClass) -> str:
        """The venue this broker sends the asset class to."""
        ...

    def submit_order(self, request: OrderRequest) -> Order: ...

    def get_order_by_client_id(self, client_order_id: str) -> Order | None: ...

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        """Cancel the order if it still works; the order as the venue shows it after (None: the
        venue does not know it). Idempotent: an order that already ended (filled, canceled,
        expired) is returned as it is, and nothing changes. A venue may answer a cancel it has
        not finished yet with the order still working; its fills so far stand."""
        ...

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        """The account that trades `asset_class` (a router over venues answers with that
        venue's); with none, the broker's only or combined account. A venue that keeps an
        account per user (the paper venue) answers with `owner`'s."""
        ...


class PaperAccountStore(Protocol):
    """The paper venue's accounts, one per owner, and the orders placed on them."""

    def account(self, owner: AccountOwner) -> PaperAccount:
        """The owner's account; one never used starts with the starting cash."""
        ...

    def transact(
        self,
        owner: AccountOwner,
        client_order_id: str,
        apply: Callable[[PaperAccount], tuple[PaperAccount | None, Order]],
    ) -> Order:
        """Atomically: the order stored under `client_order_id` if there is one; else
        `apply(account)` gives the new account (None: unchanged) and the order, both stored
        together. `apply` may raise (a rejection) and may run more than once."""
        ...

    def advance(
        self,
        owner: AccountOwner,
        client_order_id: str,
        apply: Callable[[PaperAccount, Order], tuple[PaperAccount, Order] | None],
    ) -> Order | None:
        """Atomically: `apply(account, stored order)` gives the account and order after one
        more fill of a stored order, both stored together; None from it changes nothing. The
        order as stored after, or None when there is no such order. `apply` may run more
        than once."""
        ...

    def order(self, client_order_id: str) -> Order | None: ...

    def working_orders(self) -> list[tuple[AccountOwner, Order]]:
        """Every order that may still fill, with its owner."""
        ...


class LedgerStore(Protocol):
    """The append-only trade ledger."""

    def append(self, trade: LedgerTrade) -> LedgerTrade:
        """Store a trade unless its trade_id exists; return what is stored under that id.
        Raises FillAlreadyRecorded when the ledger holds the order's fills another way (the
        reconciler recorded them from the venue's fill reports)."""
        ...

    def get(self, tenant_id: str, trade_id: str) -> LedgerTrade | None: ...


class OrderBook(Protocol):
    """Where every order placed at a real venue is recorded, with its latest known state."""

    def record_submitting(self, owner: AccountOwner, request: OrderRequest, venue: str) -> None:
        """Before the venue is called: the order's document, `submitting`, written at once, so
        whatever happens after the venue takes it, the reconciler finds it by client_order_id.
        Raises when it cannot be written (then the order must not be sent)."""
        ...

    def record_refused(self, owner: AccountOwner, request: OrderRequest, reason: str) -> None:
        """The venue refused the order: `rejected`, with its reason."""
        ...

    def discard_submitting(self, owner: AccountOwner, client_order_id: str) -> None:
        """The order certainly never reached the venue: its `submitting` document goes."""
        ...

    def record(self, owner: AccountOwner, order: Order) -> None: ...

    def record_unknown(self, owner: AccountOwner, request: OrderRequest, cause: str) -> None:
        """The order may or may not be at the venue: recorded (with what it asked for, so a
        sell's reservation can be found again) so it is looked up again."""
        ...


class UserPositions(Protocol):
    """Each user's own positions at a real venue, whose account the platform's users share."""

    def owned(self, owner: AccountOwner, venue: str) -> dict[str, Position]:
        """The owner's open positions at `venue`, by symbol."""
        ...

    def reserve(self, owner: AccountOwner, request: OrderRequest, venue: str) -> None:
        """Hold a sell's qty on the owner's position before it is sent; OrderRejected, naming
        the owner's own figures, when it exceeds what the owner holds and has not reserved."""
        ...

    def release(
        self, owner: AccountOwner, symbol: str, client_order_id: str, keep: Decimal = ...
    ) -> None:
        """The order ended: release its reservation beyond `keep` (fills not yet recorded)."""
        ...


class FillSource(Protocol):
    """A venue account's fills, in the venue's own order, read from a cursor.

    `fills_since(None, limit)` starts from the oldest fill the venue still keeps. Raises
    `CursorExpired` when the venue no longer keeps history back to `cursor`, and
    `VenueUnavailable` when it cannot be asked."""

    venue: str

    def fills_since(self, cursor: str | None, limit: int) -> FillPage: ...

    def client_order_id_of(self, fill: VenueFill) -> str | None:
        """The client_order_id of the fill's order, as the venue knows it (None: the venue
        has none for it). Raises `VenueUnavailable` when it cannot be asked."""
        ...


@dataclass(frozen=True)
class VenuePorts:
    """One candidate venue for an asset class: what it quotes, lists, charges and holds."""

    name: str
    broker: Broker
    market_data: MarketDataProvider
    instruments: InstrumentSource
    fees: FeeSchedule
