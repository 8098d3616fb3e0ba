"""The order book in Firestore: tenants/{tenant_id}/orders/{client_order_id}, one document an
order, overwritten with each newer state the venue reports (status, filled qty, average fill
price, fees, venue order id, times)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.cloud.firestore import Client, DocumentReference

from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.orders import AccountOwner, Order, OrderRequest
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import ORDER_TIMES, to_document, without_none
from smart_routing_firebase.stores.one_commit import pending

UNKNOWN = "unknown"


class FirestoreOrderBook:
    def __init__(self, db: Client) -> None:
        self.db = db

    def record(self, owner: AccountOwner, order: Order) -> None:
        """Merged into the order's document, so what the reconciler and the submission knew
        (the strategy, the fills already recorded) stays. Staged in the execution's commit
        when there is one (see one_commit.py)."""
        document = to_document(order, ORDER_TIMES)
        ref = self.db.document(paths.order(owner.tenant_id, order.client_order_id))
        data = without_none({**document, "uid": owner.uid, "tenant_id": owner.tenant_id,
                             "updated_at": datetime.now(UTC)})  # fmt: skip
        index = self._venue_order_index(owner, order)
        commit = pending()
        if commit is not None:
            commit.set(ref, data, merge=True)
            if index is not None:
                commit.set(*index)
            return
        batch = self.db.batch()
        batch.set(ref, data, merge=True)
        if index is not None:
            batch.set(*index)
        batch.commit()

    def _venue_order_index(
        self, owner: AccountOwner, order: Order
    ) -> tuple[DocumentReference, dict[str, str]] | None:
        """reconciliation/{venue}/orders/{venue order id} names the order, so the reconciler
        finds a fill's order by a point read; an id that cannot be a document id has none (the
        reconciler's query finds that order instead)."""
        try:
            path = paths.venue_order(order.broker, order.broker_order_id)
        except InvalidIdentifier:
            return None
        entry = {"tenant_id": owner.tenant_id, "client_order_id": order.client_order_id}
        return self.db.document(path), entry

    def record_unknown(self, owner: AccountOwner, request: OrderRequest, cause: str) -> None:
        """Written at once, never staged: it must survive whatever happens next."""
        now = datetime.now(UTC)
        self.db.document(paths.order(owner.tenant_id, request.client_order_id)).set(
            {"client_order_id": request.client_order_id, "status": UNKNOWN, "cause": cause,
             "symbol": request.symbol, "asset_class": request.asset_class.value,
             "side": request.side.value, "qty": float(request.qty),
             "uid": owner.uid, "tenant_id": owner.tenant_id, "unknown_since": now,
             "updated_at": now},
            merge=True,
        )  # fmt: skip
