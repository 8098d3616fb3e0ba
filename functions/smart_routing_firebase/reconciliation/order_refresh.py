"""Orders whose state the order book may not know, asked of the venue by client_order_id:
those left `unknown` are recorded as found (or, never found, end `not_placed`), and real
venues' working orders that ended without fills are closed and their reservations freed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.exceptions import FailedPrecondition
from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing.domain.orders import (
    WORKING_STATUSES,
    AccountOwner,
    Order,
    OrderSide,
    OrderStatus,
)
from smart_routing.ports import Broker
from smart_routing_firebase.stores.documents import to_document, without_none
from smart_routing_firebase.stores.venue_positions import VenuePositions

UNKNOWN_STATUS = "unknown"
# An order the venue still does not know this long after its submission's outcome was unclear
# was never placed: the venues find an order by client_order_id at once and for good.
UNKNOWN_GIVE_UP = timedelta(hours=1)
NOT_PLACED_STATUS = "not_placed"
ENDED_WITHOUT_FILLS = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
_ORDER_TIMES = ("submitted_at", "filled_at")


def refresh_orders(db: Client, broker: Broker, now: datetime | None = None) -> Counter[str]:
    """Ask the venue about each order whose state the order book may not know: those left
    `unknown` (recorded as the venue shows them; one it does not show stays unknown and is
    asked again next run, until UNKNOWN_GIVE_UP after which it was never placed) and real
    venues' working orders (a cancel, expiry or rejection is recorded; how much filled is the
    ledger's to say, from the fills). `now`: the run's time (the current time by default)."""
    tally: Counter[str] = Counter()
    positions = VenuePositions(db)
    as_of = now_or_current(now)
    for snapshot in _orders_to_refresh(db):
        data = snapshot.to_dict()
        try:
            found = broker.get_order_by_client_id(snapshot.id)
            _release_ended(positions, data, found)
        except Exception as exc:  # one venue down must not stop the others
            logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING",
                           client_order_id=snapshot.id, error=logs.redact(str(exc)))  # fmt: skip
            tally["lookup_failed"] += 1
            continue
        if data["status"] == UNKNOWN_STATUS:
            tally[_resolve_unknown(db, snapshot, data, found, as_of, positions)] += 1
        elif found is not None and found.status in ENDED_WITHOUT_FILLS:
            try:
                snapshot.reference.update(
                    {"status": found.status.value, "updated_at": as_of},
                    option=db.write_option(last_update_time=snapshot.update_time),
                )
            except FailedPrecondition:  # fills were recorded meanwhile: asked again next run
                tally["contended"] += 1
                continue
            tally[f"now_{found.status.value}"] += 1
    return tally


def _release_ended(positions: VenuePositions, data: dict[str, Any], found: Order | None) -> None:
    """A real venue's sell that ended gives back its reservation, all but what the venue
    filled and the ledger does not hold yet: each such fill takes its qty off when recorded."""
    if found is None or found.is_working or found.side is not OrderSide.SELL:
        return
    if found.broker == PaperBroker.name:
        return
    recorded = to_decimal(data.get("recorded_qty", data.get("filled_qty", 0)), "recorded_qty")
    owner = AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"])
    keep = max(found.filled_qty - recorded, ZERO)
    positions.release(owner, found.symbol, found.client_order_id, keep)


def _orders_to_refresh(db: Client) -> Iterator[Any]:
    statuses = [UNKNOWN_STATUS, *(s.value for s in WORKING_STATUSES)]
    query = db.collection_group("orders").where(filter=FieldFilter("status", "in", statuses))
    for snapshot in query.stream():
        if snapshot.get("status") == UNKNOWN_STATUS or snapshot.get("broker") != "paper":
            yield snapshot


def now_or_current(now: datetime | None) -> datetime:
    """The run's time: never earlier than the clock (a late run judges by the present)."""
    current = datetime.now(UTC)
    return current if now is None else max(now, current)


def _resolve_unknown(
    db: Client, snapshot: Any, data: dict[str, Any], found: Order | None, now: datetime,
    positions: VenuePositions,
) -> str:  # fmt: skip
    if found is None:
        since = data.get("unknown_since") or data.get("updated_at")
        if since is not None and now - since >= UNKNOWN_GIVE_UP:
            return _not_placed(db, snapshot, data, now, since, positions)
        snapshot.reference.update({"checked_at": now})
        return "unknown_not_found"
    document = without_none(to_document(found, _ORDER_TIMES))
    snapshot.reference.set(
        {**document, "uid": data["uid"], "tenant_id": data["tenant_id"], "updated_at": now},
        merge=True,
    )
    logs.log_event(logs.LogEvent.ORDER_RESOLVED, client_order_id=snapshot.id,
                   status=found.status.value)  # fmt: skip
    return "unknown_resolved"


def _not_placed(
    db: Client, snapshot: Any, data: dict[str, Any], now: datetime, since: datetime,
    positions: VenuePositions,
) -> str:  # fmt: skip
    """The venue never took it: the order ends and a sell gives back its whole reservation."""
    minutes = int((now - since).total_seconds() // 60)
    reason = (f"the venue has no order with this client_order_id {minutes} minutes after the "
              "submission's outcome was unclear: it was never placed")  # fmt: skip
    try:
        snapshot.reference.update(
            {"status": NOT_PLACED_STATUS, "reject_reason": reason, "updated_at": now},
            option=db.write_option(last_update_time=snapshot.update_time),
        )
    except FailedPrecondition:  # resolved meanwhile: asked again next run
        return "contended"
    if data.get("side") == OrderSide.SELL.value and data.get("symbol"):
        owner = AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"])
        positions.release(owner, data["symbol"], snapshot.id, ZERO)
    logs.log_event(logs.LogEvent.ORDER_RESOLVED, client_order_id=snapshot.id,
                   status=NOT_PLACED_STATUS, reason=reason)  # fmt: skip
    return "unknown_not_placed"
