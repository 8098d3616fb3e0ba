"""The ledger in Firestore: tenants/{tenant_id}/ledger_trades/{trade_id}, written with create()."""

from __future__ import annotations

from google.api_core.exceptions import AlreadyExists
from google.cloud.firestore import Client

from smart_routing.ledger import LedgerTrade
from smart_routing_firebase import paths
from smart_routing_firebase.documents import to_document
from smart_routing_firebase.one_commit import pending


class FirestoreLedgerStore:
    """Append-only: create() fails on an existing id, so a trade is never overwritten. Inside a
    `one_commit` scope the create is staged: an existing id refuses the whole commit."""

    def __init__(self, db: Client) -> None:
        self.db = db

    def append(self, trade: LedgerTrade) -> LedgerTrade:
        ref = self.db.document(paths.ledger_trade(trade.tenant_id, trade.trade_id))
        commit = pending()
        if commit is not None:
            commit.create(ref, to_document(trade))
            return trade
        try:
            ref.create(to_document(trade))
        except AlreadyExists:
            stored = self.get(trade.tenant_id, trade.trade_id)
            if stored is None:  # cannot happen: ledger documents are never deleted
                raise
            return stored
        return trade

    def get(self, tenant_id: str, trade_id: str) -> LedgerTrade | None:
        snapshot = self.db.document(paths.ledger_trade(tenant_id, trade_id)).get()
        return LedgerTrade.model_validate(snapshot.to_dict()) if snapshot.exists else None
