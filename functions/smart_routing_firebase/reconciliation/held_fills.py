"""Venue fills the order book cannot place, held at reconciliation/{venue}/unmatched_fills where
operations see them: a fill with no order yet (tried again on every run, since its order may
be recorded after it), and the excess of a fill beyond its order's qty. No owner is guessed."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.domain.fills import VenueFill
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import field_or_none

UNMATCHED, EXCESS, ABANDONED = "unmatched", "excess", "abandoned"
HELD_ATTEMPTS = 60  # runs an unmatched fill is retried: an hour at one run a minute
HELD_REASONS = {
    UNMATCHED: "no order in the order book has this fill's id",
    EXCESS: "the venue filled more than the order's qty",
}


def hold(db: Client, fill: VenueFill, qty: Decimal, kind: str) -> None:
    """Keep `qty` of the fill, unmatched or excess, and log it."""
    reason = HELD_REASONS[kind]
    event = (
        logs.LogEvent.RECONCILE_UNMATCHED_FILL
        if kind == UNMATCHED
        else logs.LogEvent.RECONCILE_EXCESS_FILL
    )
    logs.log_event(event, severity="ERROR", venue=fill.venue, fill_id=fill.fill_id,
                   broker_order_id=fill.broker_order_id, qty=qty, reason=reason)  # fmt: skip
    document = {**fill.model_dump(mode="json"), "held_qty": float(qty), "reason": reason,
                "kind": kind, "seen_at": datetime.now(UTC)}  # fmt: skip
    # The excess of a fill has its own record: the fill may also be held as unmatched.
    held_id = fill.fill_id if kind == UNMATCHED else f"{fill.fill_id}.excess"
    with contextlib.suppress(AlreadyExists):  # held on an earlier run
        db.document(paths.unmatched_fill(fill.venue, held_id)).create(document)


def unmatched(db: Client, venue: str, limit: int) -> dict[str, Any]:
    """Up to `limit` fills held for want of an order, by fill id (their document snapshots)."""
    held = (
        db.collection(paths.unmatched_fills(venue))
        .where(filter=FieldFilter("kind", "==", UNMATCHED))
        .limit(limit)
    )
    return {snapshot.id: snapshot for snapshot in held.stream()}


def fill_of(snapshot: Any) -> VenueFill:
    data = snapshot.to_dict()
    return VenueFill.model_validate({k: v for k, v in data.items() if k in VenueFill.model_fields})


def after_retry(snapshot: Any, placed: bool) -> None:
    """A held fill placed now is no longer held; one still unmatched counts the attempt."""
    if placed:
        snapshot.reference.delete()
    elif (field_or_none(snapshot, "attempts") or 0) + 1 >= HELD_ATTEMPTS:
        # No order after an hour of runs, and none the venue names by client_order_id in the
        # order book: no owner to give it to. Kept for operations, no longer retried.
        snapshot.reference.update({"kind": ABANDONED, "attempts": HELD_ATTEMPTS})
        logs.log_event(logs.LogEvent.RECONCILE_ABANDONED_FILL, severity="ERROR",
                       venue=snapshot.get("venue"), fill_id=snapshot.id,
                       broker_order_id=snapshot.get("broker_order_id"),
                       reason=f"no order for it after {HELD_ATTEMPTS} runs")  # fmt: skip
    else:
        snapshot.reference.update({"attempts": firestore.Increment(1)})
