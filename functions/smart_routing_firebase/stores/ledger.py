"""The ledger in Firestore: tenants/{tenant_id}/ledger_trades/{trade_id}, written with create().

A real venue's trade moves its owner's position (user_positions.py) in the same write: staged
in the execution's commit, or in one transaction with the trade's create."""

from __future__ import annotations

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore import Client, DocumentReference, Transaction

from smart_routing.domain.errors import FillAlreadyRecorded
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import data_of, to_document
from smart_routing_firebase.stores.one_commit import pending
from smart_routing_firebase.stores.venue_positions import VenuePositions, moves_position


class FirestoreLedgerStore:
    """Append-only: create() fails on an existing id, so a trade is never overwritten. Inside a
    `one_commit` scope the create is staged: an existing id refuses the whole commit."""

    def __init__(self, db: Client) -> None:
        self.db = db
        self.positions = VenuePositions(db)

    def append(self, trade: LedgerTrade) -> LedgerTrade:
        ref = self.db.document(paths.ledger_trade(trade.tenant_id, trade.trade_id))
        commit = pending()
        if commit is not None:
            commit.create(ref, to_document(trade))
            if moves_position(trade):
                self.positions.stage(commit, trade)
            return trade
        if moves_position(trade):
            return self._append_with_position(ref, trade)
        try:
            ref.create(to_document(trade))
        except AlreadyExists:
            stored = self.get(trade.tenant_id, trade.trade_id)
            if stored is None:  # cannot happen: ledger documents are never deleted
                raise
            return stored
        return trade

    def _append_with_position(self, ref: DocumentReference, trade: LedgerTrade) -> LedgerTrade:
        """A real venue's submission trade, its position and its order's `recorded_qty` in one
        transaction. The reconciler records the same order's venue fills: once it has recorded
        any, they are the ledger's record of the order and this trade is not written
        (FillAlreadyRecorded); else the order says the ledger holds this trade's qty, and the
        reconciler adds only what lies beyond it (see reconcile.py)."""
        position_ref = self.db.document(paths.position(trade.uid, trade.symbol))
        order_ref = self.db.document(paths.order(trade.tenant_id, trade.client_order_id))

        @firestore.transactional
        def run(transaction: Transaction) -> LedgerTrade:
            read = self.db.get_all([ref, position_ref, order_ref], transaction=transaction)
            by_path = {snapshot.reference.path: snapshot for snapshot in read}
            stored, position = by_path[ref.path], by_path[position_ref.path]
            order = by_path[order_ref.path]
            if stored.exists:
                return LedgerTrade.model_validate(stored.to_dict())
            if order.exists and (data_of(order).get("recorded_qty") or 0) > 0:
                raise FillAlreadyRecorded(
                    f"the reconciler has recorded order {trade.client_order_id}'s fills"
                )
            transaction.create(ref, to_document(trade))
            self.positions.write(transaction, position, trade)
            if order.exists:
                qty = float(trade.qty)
                transaction.update(order_ref, {"recorded_qty": qty, "immediate_qty": qty})
            return trade

        return run(self.db.transaction())

    def get(self, tenant_id: str, trade_id: str) -> LedgerTrade | None:
        snapshot = self.db.document(paths.ledger_trade(tenant_id, trade_id)).get()
        return LedgerTrade.model_validate(snapshot.to_dict()) if snapshot.exists else None
