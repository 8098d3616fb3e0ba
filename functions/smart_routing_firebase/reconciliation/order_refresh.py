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
from smart_routing_firebase.stores.execution_issues import NOT_PLACED, list_issue
from smart_routing_firebase.stores.order_pages import OrderPages
from smart_routing_firebase.stores.orders import UNKNOWN, UNRESOLVED, FirestoreOrderBook
from smart_routing_firebase.stores.venue_positions import VenuePositions

UNKNOWN_STATUS = UNKNOWN
# An order the venue still does not know this long after its submission's outcome was unclear
# was never placed: the venues find an order by client_order_id at once and for good.
UNKNOWN_GIVE_UP = timedelta(hours=1)
NOT_PLACED_STATUS = "not_placed"
REFRESH_CURSOR = "order-refresh"  # reconciliation/order-refresh: where the last run stopped
ENDED_WITHOUT_FILLS = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})


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
        tally[refresh_order(db, broker, snapshot, as_of, positions)[0]] += 1
    return tally


def refresh_order(
    db: Client, broker: Broker, snapshot: Any, as_of: datetime, positions: VenuePositions
) -> tuple[str, Order | None]:
    """One order asked of the venue by its client_order_id and recorded as the venue shows
    it (see refresh_orders): the tally entry, and the order as the venue showed it."""
    data = snapshot.to_dict()
    try:
        found = broker.get_order_by_client_id(snapshot.id)
        _release_ended(positions, data, found)
    except Exception as exc:  # one venue down must not stop the others
        logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING",
                       client_order_id=snapshot.id, error=logs.redact(str(exc)))  # fmt: skip
        return "lookup_failed", None
    if data["status"] in UNRESOLVED:
        return _resolve_unknown(db, snapshot, data, found, as_of, positions), found
    if found is None or found.status not in ENDED_WITHOUT_FILLS:
        return "unchanged", found
    try:
        snapshot.reference.update(
            {"status": found.status.value, "updated_at": as_of},
            option=db.write_option(last_update_time=snapshot.update_time),
        )
    except FailedPrecondition:  # fills were recorded meanwhile: asked again next run
        return "contended", found
    return f"now_{found.status.value}", found


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
    """A run's bounded pages of the orders that may need asking (order_pages)."""
    statuses = [*UNRESOLVED, *(s.value for s in WORKING_STATUSES)]
    query = db.collection_group("orders").where(filter=FieldFilter("status", "in", statuses))
    for snapshot in OrderPages(db, REFRESH_CURSOR, query):
        if snapshot.get("status") in UNRESOLVED or snapshot.get("broker") != "paper":
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
        since = data.get("unknown_since") or data.get("submitting_since") or data.get("updated_at")
        if since is not None and now - since >= UNKNOWN_GIVE_UP:
            return _not_placed(db, snapshot, data, now, since, positions)
        snapshot.reference.update({"checked_at": now})
        return "unknown_not_found"
    record_found(db, data, found)
    return "unknown_resolved"


def record_found(db: Client, data: dict[str, Any], found: Order) -> None:
    """The order as the venue shows it, on the document that was unknown or submitting (with
    the venue's order index, so its fills find it)."""
    FirestoreOrderBook(db).record(AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"]), found)
    logs.log_event(logs.LogEvent.ORDER_RESOLVED, client_order_id=found.client_order_id,
                   status=found.status.value, was=data.get("status"))  # fmt: skip


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
    logs.log_event(logs.LogEvent.ORDER_NOT_PLACED, severity="ERROR", client_order_id=snapshot.id,
                   tenant_id=data["tenant_id"], uid=data["uid"], reason=reason)  # fmt: skip
    list_issue(db, data["tenant_id"], NOT_PLACED, snapshot.id, client_order_id=snapshot.id,
               uid=data["uid"], symbol=data.get("symbol"), side=data.get("side"),
               qty=data.get("qty"), venue=data.get("broker"), reason=reason)  # fmt: skip
    return "unknown_not_placed"
