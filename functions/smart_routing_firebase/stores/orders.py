"""The order book in Firestore: tenants/{tenant_id}/orders/{client_order_id}, one document an
order, overwritten with each newer state the venue reports (status, filled qty, average fill
price, fees, venue order id, times)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore import Client, DocumentReference, Transaction

from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.orders import WORKING_STATUSES, AccountOwner, Order, OrderRequest
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import ORDER_TIMES, to_document, without_none
from smart_routing_firebase.stores.one_commit import pending

UNKNOWN = "unknown"
SUBMITTING = "submitting"
REJECTED = "rejected"
# What the order book holds before the venue has said anything of the order (or while what it
# said could not be written): resolved from the venue by client_order_id.
UNRESOLVED = frozenset({UNKNOWN, SUBMITTING})
# What the order book holds of an order that may still fill: working at the venue, or not yet
# resolved from it. Every other status (filled, canceled, expired, rejected, not_placed) is
# final: the venue will fill no more of it.
CAN_STILL_FILL = UNRESOLVED | frozenset(status.value for status in WORKING_STATUSES)


class FirestoreOrderBook:
    def __init__(self, db: Client) -> None:
        self.db = db

    def record_submitting(self, owner: AccountOwner, request: OrderRequest, venue: str) -> None:
        """Created at once, never staged. One that exists already (a retry of the same key)
        names the order as well and is left as it is."""
        now = datetime.now(UTC)
        document = {**_requested(owner, request), "status": SUBMITTING, "broker": venue,
                    "submitting_since": now, "updated_at": now}  # fmt: skip
        with contextlib.suppress(AlreadyExists):
            self._ref(owner, request.client_order_id).create(document)

    def record_refused(self, owner: AccountOwner, request: OrderRequest, reason: str) -> None:
        now = datetime.now(UTC)
        self._ref(owner, request.client_order_id).set(
            {**_requested(owner, request), "status": REJECTED, "reject_reason": reason,
             "updated_at": now},
            merge=True,
        )  # fmt: skip

    def discard_submitting(self, owner: AccountOwner, client_order_id: str) -> None:
        """Deleted only while still `submitting`: a retry's own record is never undone."""
        ref = self._ref(owner, client_order_id)

        @firestore.transactional
        def run(transaction: Transaction) -> None:
            snapshot = ref.get(transaction=transaction)
            if snapshot.exists and snapshot.get("status") == SUBMITTING:
                transaction.delete(ref)

        run(self.db.transaction())

    def _ref(self, owner: AccountOwner, client_order_id: str) -> DocumentReference:
        return self.db.document(paths.order(owner.tenant_id, client_order_id))

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
        self._ref(owner, request.client_order_id).set(
            {**_requested(owner, request), "status": UNKNOWN, "cause": cause,
             "unknown_since": now, "updated_at": now},
            merge=True,
        )  # fmt: skip


def _requested(owner: AccountOwner, request: OrderRequest) -> dict[str, object]:
    """What the order asked for, before the venue says anything: enough to find a sell's
    reservation again and to tell its owner."""
    document: dict[str, object] = {
        "client_order_id": request.client_order_id, "symbol": request.symbol,
        "asset_class": request.asset_class.value, "side": request.side.value,
        "qty": float(request.qty), "order_type": request.order_type.value,
        "strategy_id": request.strategy_id, "uid": owner.uid, "tenant_id": owner.tenant_id,
    }  # fmt: skip
    if request.limit_price is not None:
        document["limit_price"] = float(request.limit_price)
    return document
