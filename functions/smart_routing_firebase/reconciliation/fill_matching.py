"""Which order each venue fill belongs to: its order document, found through the venue's order
index or by client_order_id, and that order's fills as the order book records them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.domain.fills import VenueFill
from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing.domain.orders import AccountOwner, Order
from smart_routing.execution.fill_rules import OrderFills
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import field_or_none
from smart_routing_firebase.stores.orders import UNRESOLVED

IN_QUERY_LIMIT = 30  # Firestore's limit on the values of one `in` filter


@dataclass(frozen=True)
class KnownOrders:
    """What the order book holds for a page's fills: their order documents (keyed as
    `order_key` keys a fill) and what the submissions recorded under the orders' own ids."""

    orders: dict[str, Any]
    immediate: dict[str, Decimal]

    def order_of(self, fill: VenueFill) -> Any | None:
        """The fill's order document; None when the order book has no such order, or has only
        what was asked of the venue (`submitting`, `unknown`): such an order is resolved
        from the venue first (see VenueReconciler)."""
        snapshot = self.orders.get(order_key(fill))
        if snapshot is None or field_or_none(snapshot, "status") in UNRESOLVED:
            return None
        return snapshot

    def fills_of(self, snapshot: Any) -> OrderFills:
        """The order's fills as its document records them."""
        return _order_fills(snapshot, self.immediate)


def known_orders(db: Client, venue: str, fills: list[VenueFill]) -> KnownOrders:
    orders = _orders_of(db, venue, fills)
    return KnownOrders(orders, _immediate_trades(db, orders.values()))


def order_key(fill: VenueFill) -> str:
    if fill.client_order_id:
        return f"client_order_id:{fill.client_order_id}"
    return f"broker_order_id:{fill.broker_order_id}"


def _orders_of(db: Client, venue: str, fills: list[VenueFill]) -> dict[str, Any]:
    """The order documents of these fills, keyed as `order_key` keys them: by point reads
    through the venue's order index, and by query for any order it does not name."""
    found = _read_index(db, venue, fills)
    missing = [fill for fill in fills if order_key(fill) not in found]
    by_client = {f.client_order_id for f in missing if f.client_order_id}
    by_venue = {f.broker_order_id for f in missing if not f.client_order_id}
    for field, values in (("client_order_id", by_client), ("broker_order_id", by_venue)):
        for chunk in _chunks(sorted(values), IN_QUERY_LIMIT):
            query = db.collection_group("orders").where(filter=FieldFilter(field, "in", chunk))
            for snapshot in query.stream():
                found[f"{field}:{snapshot.get(field)}"] = snapshot
    return found


def _read_index(db: Client, venue: str, fills: list[VenueFill]) -> dict[str, Any]:
    """Two point reads in all: the index entries, then the orders they name."""
    refs = {}
    for fill in fills:
        try:
            refs[fill.broker_order_id] = db.document(paths.venue_order(venue, fill.broker_order_id))
        except InvalidIdentifier:
            continue
    entries = [e for e in db.get_all(list(refs.values())) if e.exists]
    order_refs = [
        db.document(paths.order(e.get("tenant_id"), e.get("client_order_id"))) for e in entries
    ]
    orders = {o.reference.path: o for o in db.get_all(order_refs) if o.exists}
    found = {}
    for entry, ref in zip(entries, order_refs, strict=True):
        order = orders.get(ref.path)
        if order is not None:
            found[f"broker_order_id:{entry.id}"] = order
            found[f"client_order_id:{order.id}"] = order
    return found


def _immediate_trades(db: Client, snapshots: Iterable[Any]) -> dict[str, Decimal]:
    """What the submissions recorded, for orders the reconciler has not touched yet."""
    refs = []
    for snapshot in snapshots:
        # Only an order that filled at its submission can have a trade under its own id.
        untouched = field_or_none(snapshot, "recorded_qty") is None
        if untouched and field_or_none(snapshot, "filled_qty"):
            tenant_id = snapshot.get("tenant_id")
            refs.append(db.document(paths.ledger_trade(tenant_id, snapshot.id)))
    if not refs:
        return {}
    return {
        trade.reference.parent.parent.id + "/" + trade.id: to_decimal(trade.get("qty"), "qty")
        for trade in db.get_all(refs)
        if trade.exists
    }


def _order_fills(snapshot: Any, immediate: dict[str, Decimal]) -> OrderFills:
    data = snapshot.to_dict()
    owner = AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"])
    order = Order.model_validate({k: v for k, v in data.items() if k in Order.model_fields})
    if "recorded_qty" in data:
        recorded = to_decimal(data["recorded_qty"], "recorded_qty")
        submitted = to_decimal(data.get("immediate_qty", 0), "immediate_qty")
    else:
        recorded = submitted = immediate.get(f"{owner.tenant_id}/{snapshot.id}", ZERO)
    return OrderFills(
        owner=owner,
        order=order,
        seen=frozenset(data.get("venue_fill_ids", [])),
        venue_filled_qty=to_decimal(data.get("venue_filled_qty", 0), "venue_filled_qty"),
        recorded_qty=recorded,
        immediate_qty=submitted,
    )


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def orders_by_client_id(db: Client, client_order_ids: Iterable[str]) -> dict[str, Any]:
    """The order documents of these client_order_ids, in whatever tenant, by id."""
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(set(client_order_ids)), IN_QUERY_LIMIT):
        query = db.collection_group("orders").where(
            filter=FieldFilter("client_order_id", "in", chunk)
        )
        found.update({snapshot.id: snapshot for snapshot in query.stream()})
    return found
