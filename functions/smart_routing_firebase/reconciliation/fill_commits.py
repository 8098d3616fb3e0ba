"""Committing what a page of venue fills did to its orders: per order its new ledger trades and
state, on the condition that the order is unchanged since it was read, with the positions the
trades move, in batches under Firestore's limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud.firestore import Client, WriteBatch

from smart_routing.domain.orders import OrderSide
from smart_routing.execution.fill_rules import OrderFills, order_after
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.positions import HeldPosition, apply_trade, release
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import to_document
from smart_routing_firebase.stores.unmirrored import marker_of
from smart_routing_firebase.stores.venue_positions import held_from, venue_position_document

BATCH_WRITES = 450  # under Firestore's 500 writes per batch, with room for one order's trades


@dataclass
class PlacedOrder:
    """One order of a page: its document as read, its fills before and after the page."""

    snapshot: Any
    before: OrderFills
    after: OrderFills
    trades: list[LedgerTrade]
    parts: list[tuple[Decimal, Decimal]]


class FillCommitter:
    """Writes placed fills for one venue account."""

    def __init__(self, db: Client, venue: str) -> None:
        self.db, self.venue = db, venue

    def commit(self, placed: Iterable[PlacedOrder]) -> None:
        """Per order, its new trades and state, and the positions they move, in batches under
        BATCH_WRITES. Orders that move one position are kept together, so when no position
        spans two batches the batches are committed at once; else one after the other, each
        reading the positions the one before it wrote."""
        changed = sorted(
            (entry for entry in placed if entry.after != entry.before),
            key=lambda entry: sorted(_position_paths(entry)),
        )
        chunks = list(_batches(changed))
        if not _share_positions(chunks):
            with ThreadPoolExecutor(max(1, len(chunks))) as committers:
                for done in [committers.submit(self._commit_chunk, c) for c in chunks]:
                    done.result()
            return
        for chunk in chunks:
            self._commit_chunk(chunk)

    def _commit_chunk(self, chunk: list[PlacedOrder]) -> None:
        batch = self.db.batch()
        for entry in chunk:
            for trade in entry.trades:
                ref = self.db.document(paths.ledger_trade(trade.tenant_id, trade.trade_id))
                batch.create(ref, to_document(trade))
                batch.create(*marker_of(self.db, trade))
            batch.update(
                entry.snapshot.reference,
                _order_update(entry),
                option=self.db.write_option(last_update_time=entry.snapshot.update_time),
            )
        self._move_positions(batch, chunk)
        batch.commit()

    def _move_positions(self, batch: WriteBatch, chunk: list[PlacedOrder]) -> None:
        """The owners' positions after the chunk's trades, each written on the condition that
        it is as read here (one read for the chunk); a sell that ended releases what it
        reserved."""
        refs = {path: self.db.document(path) for entry in chunk for path in _position_paths(entry)}
        if not refs:
            return
        snapshots = {s.reference.path: s for s in self.db.get_all(list(refs.values()))}
        read = {path: held_from(s.to_dict()) if s.exists else None for path, s in snapshots.items()}
        held = _after_trades(read, chunk)
        tenants = {paths.position(e.before.owner.uid, e.before.order.symbol):
                   e.before.owner.tenant_id for e in chunk}  # fmt: skip
        for path, after in held.items():
            if after is None or after == read[path]:
                continue
            document = venue_position_document(tenants[path], self.venue, after)
            snapshot = snapshots[path]
            if snapshot.exists:
                option = self.db.write_option(last_update_time=snapshot.update_time)
                batch.update(snapshot.reference, document, option=option)
            else:
                batch.create(snapshot.reference, document)


def _after_trades(
    read: dict[str, HeldPosition | None], chunk: list[PlacedOrder]
) -> dict[str, HeldPosition | None]:
    held = dict(read)
    for entry in chunk:
        for trade in entry.trades:
            path = paths.position(trade.uid, trade.symbol)
            held[path] = apply_trade(held[path], trade)
        order = entry.before.order
        path = paths.position(entry.before.owner.uid, order.symbol)
        position = held.get(path)
        if _ended(entry) and position is not None:
            reservations = release(position.reservations, order.client_order_id)
            held[path] = position.model_copy(update={"reservations": reservations})
    return held


def _position_paths(entry: PlacedOrder) -> set[str]:
    """The positions an order's new trades move, and a sell's own, which its end releases."""
    found = {paths.position(trade.uid, trade.symbol) for trade in entry.trades}
    if entry.before.order.side is OrderSide.SELL and _ended(entry):
        found.add(paths.position(entry.before.owner.uid, entry.before.order.symbol))
    return found


def _ended(entry: PlacedOrder) -> bool:
    return not order_after(entry.before, entry.after, entry.parts).is_working


def _share_positions(chunks: list[list[PlacedOrder]]) -> bool:
    seen: set[str] = set()
    for chunk in chunks:
        moved = set().union(*(_position_paths(entry) for entry in chunk))
        if moved & seen:
            return True
        seen |= moved
    return False


def _batches(entries: list[PlacedOrder]) -> Iterator[list[PlacedOrder]]:
    """The entries in batches under BATCH_WRITES: per order its trades and their markers, its
    document and the positions it moves that the batch does not move already."""
    chunk: list[PlacedOrder] = []
    writes = 0
    moved: set[str] = set()
    for entry in entries:
        positions = _position_paths(entry)
        # Per trade, its ledger document and its unmirrored marker.
        own = 1 + 2 * len(entry.trades) + len(positions - moved)
        if chunk and writes + own > BATCH_WRITES:
            yield chunk
            chunk, writes, moved = [], 0, set()
        chunk.append(entry)
        writes += own
        moved |= positions
    if chunk:
        yield chunk


def _order_update(entry: PlacedOrder) -> dict[str, Any]:
    order = order_after(entry.before, entry.after, entry.parts)
    return {
        "status": order.status.value,
        "filled_qty": float(order.filled_qty),
        "filled_avg_price": None
        if order.filled_avg_price is None
        else float(order.filled_avg_price),
        "venue_fill_ids": sorted(entry.after.seen),
        "venue_filled_qty": float(entry.after.venue_filled_qty),
        "recorded_qty": float(entry.after.recorded_qty),
        "immediate_qty": float(entry.after.immediate_qty),
        "updated_at": datetime.now(UTC),
    }
