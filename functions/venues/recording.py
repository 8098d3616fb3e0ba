"""A real venue's broker that records every order it places or finds in the order book, and
keeps each user to what that user owns there.

The paper venue records its own orders in the transaction that settles them; a real venue's
orders are recorded here: `submitting` before the venue is called (if that cannot be written,
nothing is sent), then as the venue reports them, `rejected` with the venue's reason, and
`unknown` when the outcome of a submission is unclear (the engine then looks the order up, and
what it finds is recorded too). A write that fails after the venue answered is logged
(`exec.order_record_failed`) and leaves the document as it was, for the reconciler to resolve
by client_order_id: the outcome stands and nothing is sent again.

The venue's account is the platform's, shared by its users: its money pays for every order,
but what one user may sell is what that user holds (`UserPositions`). The gate sees the
owner's own positions, and a sell that may not go short reserves its qty on the owner's
position before it is sent, so concurrent sells never sell the same units twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.bounded_cache import put_bounded
from smart_routing.domain.errors import OrderOutcomeUnknown, OrderRejected, VenueUnavailable
from smart_routing.domain.money import ZERO
from smart_routing.domain.orders import (
    AccountOwner,
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderSide,
)
from smart_routing.ports import Broker, InstrumentSource, OrderBook, UserPositions


class RecordingBroker:
    def __init__(
        self,
        inner: Broker,
        book: OrderBook,
        positions: UserPositions | None = None,
        instruments: InstrumentSource | None = None,
    ) -> None:
        self.inner, self.book = inner, book
        self.positions, self.instruments = positions, instruments
        self.name = inner.name
        # Whose order each client_order_id is, for the lookups after an unclear submission.
        self._owners: dict[str, AccountOwner] = {}
        self._owners_lock = threading.Lock()

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.inner.venue_for(asset_class)

    def submit_order(self, request: OrderRequest) -> Order:
        """The order's document exists (`submitting`) before the venue is called; a write that
        fails after the venue took the order leaves it so, for the reconciler to resolve by
        client_order_id, and the order the venue reported is returned all the same."""
        owner = request.owner
        if owner is not None:
            with self._owners_lock:
                put_bounded(self._owners, request.client_order_id, owner)
        reserved = self._reserve(request)
        if owner is not None:
            self._record_submitting(owner, request, reserved)
        try:
            order = self.inner.submit_order(request)
        except OrderOutcomeUnknown as exc:  # it may be working: its reservation stays
            if owner is not None:
                self._record_unknown(owner, request, str(exc))
            raise
        except (OrderRejected, VenueUnavailable) as exc:  # certainly not placed
            if reserved:
                self._release(request)
            if owner is not None:
                self._not_placed(owner, request, exc)
            raise
        if owner is not None:
            known = {"strategy_id": request.strategy_id, "arrival": request.arrival,
                     "expires_at": request.expires_at, "fallback": request.fallback}  # fmt: skip
            recorded = order.model_copy(update=known)
            self._write(lambda: self.book.record(owner, recorded), order.client_order_id)
        if reserved and not order.is_working:
            # What filled is on its way to the ledger, which takes it off the reservation.
            self._release(request, order)
        return order

    def _record_unknown(self, owner: AccountOwner, request: OrderRequest, cause: str) -> None:
        cid = request.client_order_id
        self._write(lambda: self.book.record_unknown(owner, request, cause), cid)

    def _record_submitting(
        self, owner: AccountOwner, request: OrderRequest, reserved: bool
    ) -> None:
        try:
            self.book.record_submitting(owner, request, self.name)
        except Exception as exc:  # nothing was sent: say so, never "maybe placed"
            if reserved:
                self._release(request)
            raise VenueUnavailable(
                f"the order could not be recorded before sending: {type(exc).__name__}"
            ) from exc

    def _not_placed(self, owner: AccountOwner, request: OrderRequest, exc: Exception) -> None:
        """A refusal is recorded with its reason; an order that never reached the venue has
        no document left (the caller is told, and may retry with the same key)."""
        cid = request.client_order_id
        if isinstance(exc, OrderRejected):
            reason = exc.reason
            self._write(lambda: self.book.record_refused(owner, request, reason), cid)
        else:
            self._write(lambda: self.book.discard_submitting(owner, cid), cid)

    @staticmethod
    def _write(write: Callable[[], None], client_order_id: str) -> None:
        """A write after the venue answered: when it fails, the `submitting` document stays,
        the reconciler resolves it by client_order_id, and the outcome stands."""
        try:
            write()
        except Exception as exc:
            logs.log_event(logs.LogEvent.ORDER_RECORD_FAILED, severity="ERROR",
                           client_order_id=client_order_id,
                           error=f"{type(exc).__name__}: {exc}")  # fmt: skip

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        order = self.inner.get_order_by_client_id(client_order_id)
        owner = self._owners.get(client_order_id)
        if order is not None and owner is not None:
            self._write(lambda: self.book.record(owner, order), client_order_id)
        return order

    def cancel_order(
        self, client_order_id: str, asset_class: AssetClass, owner: AccountOwner | None = None
    ) -> Order | None:
        """Not recorded here: the reconciler records how the order ended, with its fills and
        the release of what a sell reserved."""
        return self.inner.cancel_order(client_order_id, asset_class, owner)

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        """The venue's money; with an owner, that owner's own positions at this venue."""
        account = self.inner.get_account(asset_class, owner)
        if owner is None or self.positions is None:
            return account
        return account.model_copy(update={"positions": self.positions.owned(owner, self.name)})

    def _reserve(self, request: OrderRequest) -> bool:
        owner = request.owner
        if owner is None or self.positions is None or request.side is not OrderSide.SELL:
            return False
        if self._may_short(request):
            return False
        try:
            self.positions.reserve(owner, request, self.name)
        except OrderRejected:
            raise
        except Exception as exc:  # nothing was sent: say so, never "maybe placed"
            raise VenueUnavailable(
                f"the {request.symbol} position could not be reserved: {type(exc).__name__}"
            ) from exc
        return True

    def _may_short(self, request: OrderRequest) -> bool:
        """A sale beyond the holding is a short sale where the instrument allows it (as the
        gate decides); when that cannot be read, the sale is held to the holding."""
        if self.instruments is None:
            return False
        try:
            spec = self.instruments.get_instrument(request.symbol, request.asset_class)
        except Exception:  # unreadable: the stricter rule
            return False
        return spec.shortable

    def _release(self, request: OrderRequest, order: Order | None = None) -> None:
        assert request.owner is not None and self.positions is not None
        keep = order.filled_qty if order is not None else ZERO
        try:
            self.positions.release(request.owner, request.symbol, request.client_order_id, keep)
        except Exception as exc:  # left reserved: safe, and the outcome stands
            logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING",
                           client_order_id=request.client_order_id,
                           error=f"reservation not released: {type(exc).__name__}")  # fmt: skip
