"""Ledger trades the mirror has not applied yet: tenants/{tenant_id}/unmirrored/{trade_id}.

Every ledger trade is created with its marker, in the same write (batch, transaction or the
execution's one commit), so no trade exists without one. The mirror deletes the marker in the
transaction that applies the trade (or finds it applied, or refuses it for good). What is
left is exactly what no trigger finished: the sweep (handlers/sweep_unmirrored_trades.py)
reads those markers, oldest first, and nothing else, so its cost follows what was lost, not
how much is traded.

`recorded_at` rises with every trade on the platform, and Firestore takes about 500 writes a
second into one range of an index on such a field. So each marker also holds a `shard` (a
hash of its trade id, one of SHARDS), the only index holding `recorded_at` is the
collection group's (`shard`, `recorded_at`), and the sweep reads each shard oldest first and
merges them (docs/scaling.md). Markers written before the shard field existed are found by
the documents' names, which every collection group is ordered by without an index; once that
search has found none for LEGACY_QUIET (the upgrade's instances long replaced), it retires
for good (sweeps/unmirrored_legacy), and the sweep reads only the shards.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, DocumentReference, DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing_firebase.stores import paths

COLLECTION = "unmirrored"
RECORDED_AT = "recorded_at"
SHARD = "shard"
# Each shard's markers are one range of the (shard, recorded_at) index, and Firestore takes
# about 500 writes a second into one: 32 of them take the 100,000-user peak, a marker's
# create and its delete counting two (docs/scaling.md).
SHARDS = 32
# Pages of markers searched by name for unsharded ones in a run, from the first name.
LEGACY_PAGES = 20
# How long the search must find none before it retires: far longer than a deploy's rollout,
# after which no instance writes a marker without a shard.
LEGACY_QUIET = timedelta(hours=6)


def marker_ref(db: Client, tenant_id: str, trade_id: str) -> DocumentReference:
    return db.document(paths.unmirrored_trade(tenant_id, trade_id))


def shard_of(trade_id: str) -> int:
    """The trade's shard, the same in every process (Python's hash() is salted per process)."""
    digest = hashlib.sha256(trade_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % SHARDS


def marker_of(db: Client, trade: LedgerTrade) -> tuple[DocumentReference, dict[str, Any]]:
    """The marker to create with `trade`: its ids, its shard, and when the write committed
    (the server's time, so the sweep's "older than" compares one clock)."""
    document = {
        "tenant_id": trade.tenant_id,
        "trade_id": trade.trade_id,
        SHARD: shard_of(trade.trade_id),
        RECORDED_AT: firestore.SERVER_TIMESTAMP,
    }
    return marker_ref(db, trade.tenant_id, trade.trade_id), document


def due(db: Client, recorded_by: datetime, page: int) -> Iterator[DocumentSnapshot]:
    """Every marker recorded at or before `recorded_by`, oldest first: each shard's, read
    `page` at a time as the merge reaches them, and the unsharded ones found this run."""
    streams = [_due_in_shard(db, shard, recorded_by, page) for shard in range(SHARDS)]
    streams.append(iter(sorted(_legacy_due(db, recorded_by, page), key=_age)))
    return heapq.merge(*streams, key=_age)


def _legacy_due(db: Client, recorded_by: datetime, page: int) -> list[DocumentSnapshot]:
    """The unsharded markers due, until the search retires: it notes when it last found one,
    and retires once it has found none for LEGACY_QUIET."""
    state_ref = db.document(paths.legacy_marker_search())
    state = state_ref.get().to_dict() or {}
    if state.get("retired"):
        return []
    found = _due_unsharded(db, recorded_by, page)
    quiet_since = state.get("quiet_since")
    if found:
        if quiet_since is not None:
            state_ref.set({"quiet_since": None, "found_at": recorded_by}, merge=True)
    elif quiet_since is None:
        state_ref.set({"quiet_since": recorded_by}, merge=True)
    elif recorded_by - quiet_since >= LEGACY_QUIET:
        state_ref.set({"retired": True, "retired_at": recorded_by}, merge=True)
    return found


def _due_in_shard(
    db: Client, shard: int, recorded_by: datetime, page: int
) -> Iterator[DocumentSnapshot]:
    query = (
        db.collection_group(COLLECTION)
        .where(filter=FieldFilter(SHARD, "==", shard))
        .where(filter=FieldFilter(RECORDED_AT, "<=", recorded_by))
        .order_by(RECORDED_AT)
        .limit(page)
    )
    after: DocumentSnapshot | None = None
    while True:
        found = list((query if after is None else query.start_after(after)).stream())
        yield from (s for s in found if _in_a_tenant(s))
        if len(found) < page:
            return
        after = found[-1]


def _due_unsharded(db: Client, recorded_by: datetime, page: int) -> list[DocumentSnapshot]:
    """Markers without a shard recorded by `recorded_by`, among the first LEGACY_PAGES pages
    of the collection group by name. Each marker read is one billed read, so this costs the
    markers alive at the tick (those the trigger has not finished yet, and what was lost);
    the ones past the last page come into reach as the sweep deletes those before them."""
    query = (
        db.collection_group(COLLECTION)
        .select([SHARD, RECORDED_AT])
        .order_by(FieldPath.document_id())
        .limit(page)
    )
    found: list[DocumentSnapshot] = []
    after: DocumentSnapshot | None = None
    for _ in range(LEGACY_PAGES):
        batch = list((query if after is None else query.start_after(after)).stream())
        found += [s for s in batch if _unsharded_due(s, recorded_by)]
        if len(batch) < page:
            break
        after = batch[-1]
    return found


def _unsharded_due(marker: DocumentSnapshot, recorded_by: datetime) -> bool:
    recorded_at = _field(marker, RECORDED_AT)
    return (
        _in_a_tenant(marker)
        and _field(marker, SHARD) is None
        and isinstance(recorded_at, datetime)
        and recorded_at <= recorded_by
    )


def _field(snapshot: DocumentSnapshot, name: str) -> Any:
    return (snapshot.to_dict() or {}).get(name)


def _in_a_tenant(marker: DocumentSnapshot) -> bool:
    return marker.reference.path.startswith("tenants/")


_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _age(marker: DocumentSnapshot) -> tuple[datetime, str]:
    recorded_at = _field(marker, RECORDED_AT)
    when = recorded_at if isinstance(recorded_at, datetime) else _NO_TIME
    return when, marker.reference.path


def ledger_ref_of(db: Client, marker: DocumentSnapshot) -> DocumentReference:
    tenant = marker.reference.parent.parent
    assert tenant is not None  # due() keeps tenants/{tenant_id}/unmirrored/{trade_id} only
    return db.document(paths.ledger_trade(tenant.id, marker.id))
