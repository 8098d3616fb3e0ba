"""Ledger trades the mirror has not applied yet: tenants/{tenant_id}/unmirrored/{trade_id}.

Every ledger trade is created with its marker, in the same write (batch, transaction or the
execution's one commit), so no trade exists without one. The mirror deletes the marker in the
transaction that applies the trade (or finds it applied, or refuses it for good). What is
left is exactly what no trigger finished: the sweep (handlers/sweep_unmirrored_trades.py)
reads those markers, oldest first, and nothing else, so its cost follows what was lost, not
how much is traded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, DocumentReference, DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing_firebase.stores import paths

COLLECTION = "unmirrored"
RECORDED_AT = "recorded_at"


def marker_ref(db: Client, tenant_id: str, trade_id: str) -> DocumentReference:
    return db.document(paths.unmirrored_trade(tenant_id, trade_id))


def marker_of(db: Client, trade: LedgerTrade) -> tuple[DocumentReference, dict[str, Any]]:
    """The marker to create with `trade`: its ids, and when the write committed (the server's
    time, so the sweep's "older than" compares one clock)."""
    document = {
        "tenant_id": trade.tenant_id,
        "trade_id": trade.trade_id,
        RECORDED_AT: firestore.SERVER_TIMESTAMP,
    }
    return marker_ref(db, trade.tenant_id, trade.trade_id), document


def due(
    db: Client, recorded_by: datetime, limit: int, after: DocumentSnapshot | None = None
) -> list[DocumentSnapshot]:
    """Markers recorded at or before `recorded_by`, oldest first, `limit` at a time (after
    `after`, the last of the previous page)."""
    query = (
        db.collection_group(COLLECTION)
        .where(filter=FieldFilter(RECORDED_AT, "<=", recorded_by))
        .order_by(RECORDED_AT)
        .limit(limit)
    )
    if after is not None:
        query = query.start_after(after)
    return [s for s in query.stream() if s.reference.path.startswith("tenants/")]


def ledger_ref_of(db: Client, marker: DocumentSnapshot) -> DocumentReference:
    tenant = marker.reference.parent.parent
    assert tenant is not None  # due() keeps tenants/{tenant_id}/unmirrored/{trade_id} only
    return db.document(paths.ledger_trade(tenant.id, marker.id))
