"""A real venue's broker that records every order it places or finds in the order book.

The paper venue records its own orders in the transaction that settles them; a real venue's
orders are recorded here, as the venue reports them, and as `unknown` when the outcome of a
submission is unclear (the engine then looks the order up, and what it finds is recorded too).
"""

from __future__ import annotations

from smart_routing.assets import AssetClass
from smart_routing.errors import OrderOutcomeUnknown
from smart_routing.orders import AccountOwner, AccountSnapshot, Order, OrderRequest
from smart_routing.ports import Broker, OrderBook


class RecordingBroker:
    def __init__(self, inner: Broker, book: OrderBook) -> None:
        self.inner, self.book = inner, book
        self.name = inner.name
        # Whose order each client_order_id is, for the lookups after an unclear submission.
        self._owners: dict[str, AccountOwner] = {}

    def venue_for(self, asset_class: AssetClass) -> str:
        return self.inner.venue_for(asset_class)

    def submit_order(self, request: OrderRequest) -> Order:
        owner = request.owner
        if owner is not None:
            self._owners[request.client_order_id] = owner
        try:
            order = self.inner.submit_order(request)
        except OrderOutcomeUnknown as exc:
            if owner is not None:
                self.book.record_unknown(owner, request.client_order_id, str(exc))
            raise
        if owner is not None:
            self.book.record(owner, order.model_copy(update={"strategy_id": request.strategy_id}))
        return order

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        order = self.inner.get_order_by_client_id(client_order_id)
        owner = self._owners.get(client_order_id)
        if order is not None and owner is not None:
            self.book.record(owner, order)
        return order

    def get_account(
        self, asset_class: AssetClass | None = None, owner: AccountOwner | None = None
    ) -> AccountSnapshot:
        return self.inner.get_account(asset_class, owner)
