"""The reconciler in Firestore: venue fills into the ledger, exactly once, from a cursor.

For each real venue account it reads fills after the cursor stored at reconciliation/{venue},
places each fill on its order in tenants/{tenant_id}/orders (by client_order_id, or by the
venue's order id where the venue names only that), and writes per order, in one batch, the
ledger trades of the new fills and the order's new state (filled qty, average price, status,
the fill ids seen, how much the ledger holds) on the condition that the order is unchanged
since it was read. The cursor moves only after a page's batches are written, so a crash half
way means the next run reads the page again and finds its fills already seen.

For the paper venue it fills more of each working order at the quote of the moment, the fill,
account, order and ledger trade in one commit. Orders left `unknown` are looked up at the venue
by client_order_id and recorded as found.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.domain.fills import CursorExpired, FillPage, VenueFill
from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing.domain.orders import (
    AccountOwner,
    Order,
    OrderSide,
    OrderStatus,
)
from smart_routing.execution.fill_rules import (
    FillVerdict,
    OrderFills,
    apply_fill,
    fill_trade_id,
    order_after,
    trade_for_fill,
)
from smart_routing.gate.fees import FeeSchedule
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.positions import apply_trade, release
from smart_routing.ports import FillSource, InstrumentSource
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import to_document
from smart_routing_firebase.stores.one_commit import COMMIT_REFUSED
from smart_routing_firebase.stores.venue_positions import (
    held_from,
    venue_position_document,
)

PAGE_SIZE = 500
MAX_PAGES = 40  # per venue and run: a backlog beyond this is finished by the next run
IN_QUERY_LIMIT = 30  # Firestore's limit on the values of one `in` filter
BATCH_WRITES = 450  # under Firestore's 500 writes per batch, with room for one order's trades
PAGE_ATTEMPTS = 3
_ORDER_TIMES = ("submitted_at", "filled_at")
UNMATCHED, EXCESS, ABANDONED = "unmatched", "excess", "abandoned"
HELD_ATTEMPTS = 60  # runs an unmatched fill is retried: an hour at one run a minute
UNKNOWN_STATUS = "unknown"
# An order the venue still does not know this long after its submission's outcome was unclear
# was never placed: the venues find an order by client_order_id at once and for good.
UNKNOWN_GIVE_UP = timedelta(hours=1)
NOT_PLACED_STATUS = "not_placed"
ENDED_WITHOUT_FILLS = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
HELD_REASONS = {
    UNMATCHED: "no order in the order book has this fill's id",
    EXCESS: "the venue filled more than the order's qty",
}


@dataclass
class _Placed:
    """One order of a page: its document as read, its fills before and after the page."""

    snapshot: Any
    before: OrderFills
    after: OrderFills
    trades: list[LedgerTrade]
    parts: list[tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class _Known:
    """What the order book holds for a page's fills: their order documents (keyed as
    `_order_key` keys a fill) and what the submissions recorded under the orders' own ids."""

    orders: dict[str, Any]
    immediate: dict[str, Decimal]


class VenueReconciler:
    """One venue account's fills into the ledger."""

    def __init__(
        self,
        db: Client,
        source: FillSource,
        instruments: InstrumentSource,
        fee_schedule: FeeSchedule,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.db, self.source = db, source
        self.instruments, self.fee_schedule = instruments, fee_schedule
        self.page_size, self.max_pages = page_size, max_pages
        self.cursor_ref = db.document(paths.reconciliation(source.venue))

    def run(self) -> Counter[str]:
        """Read the venue's fills from the cursor in groups of up to `page_size`, writing each
        group while the next is read, until the venue has no more or `max_pages` groups."""
        tally: Counter[str] = Counter()
        self._retry_held(tally)
        with ThreadPoolExecutor(1) as reader:
            reading = reader.submit(self._read, self._cursor(), tally)
            for _ in range(self.max_pages):
                page, known = reading.result()
                if page.more:
                    reading = reader.submit(self._read, page.cursor, tally)
                self._record_page(page, known, tally)
                if page.cursor is not None:
                    self.cursor_ref.set({"cursor": page.cursor, "updated_at": datetime.now(UTC)})
                if not page.more:
                    break
        return tally

    def _read(self, cursor: str | None, tally: Counter[str]) -> tuple[FillPage, _Known]:
        """The venue's pages after `cursor` as one, up to `page_size` fills, and what the
        order book knows of their orders. A cursor the venue has purged restarts from the
        oldest fill it keeps: fills seen are skipped."""
        fills: list[VenueFill] = []
        problems: list[str] = []
        more = True
        while more and len(fills) < self.page_size:
            try:
                page = self.source.fills_since(cursor, self.page_size - len(fills))
            except CursorExpired as exc:
                logs.log_event(
                    logs.LogEvent.RECONCILE_CURSOR_EXPIRED, severity="WARNING",
                    venue=self.source.venue, cursor=cursor, error=str(exc),
                )  # fmt: skip
                tally["cursor_expired"] += 1
                cursor = None
                continue
            fills += page.fills
            problems += page.problems
            cursor = page.cursor if page.cursor is not None else cursor
            more = page.more
        page = FillPage(fills=fills, cursor=cursor, problems=problems, more=more)
        return page, self._known(fills)

    def _known(self, fills: list[VenueFill]) -> _Known:
        orders = self._orders_of(fills)
        return _Known(orders, self._immediate_trades(orders.values()))

    def _cursor(self) -> str | None:
        snapshot = self.cursor_ref.get()
        return snapshot.to_dict().get("cursor") if snapshot.exists else None

    def _record_page(self, page: FillPage, known: _Known, tally: Counter[str]) -> None:
        for problem in page.problems:
            logs.log_event(
                logs.LogEvent.RECONCILE_BAD_ENTRY, severity="WARNING",
                venue=self.source.venue, problem=problem,
            )  # fmt: skip
        tally["bad_entries"] += len(page.problems)
        tally["fills_read"] += len(page.fills)
        placed, unmatched = self._write_with_retries(page.fills, known)
        tally.update(placed)
        for fill in page.fills:
            if fill.fill_id in unmatched:
                self._hold(fill, fill.qty, UNMATCHED)

    def _write_with_retries(
        self, fills: list[VenueFill], known: _Known | None = None
    ) -> tuple[Counter[str], set[str]]:
        """`known` may have been read while the previous page was being written: an order in
        both is then refused by its precondition, and the retry reads it again."""
        for attempt in range(PAGE_ATTEMPTS):
            try:
                return self._write_page(fills, known or self._known(fills))
            except COMMIT_REFUSED:  # another run wrote an order or trade first: read again
                known = None
                if attempt == PAGE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _retry_held(self, tally: Counter[str]) -> None:
        """Fills held for want of an order, placed now if their order has been recorded."""
        held = (
            self.cursor_ref.collection("unmatched_fills")
            .where(filter=FieldFilter("kind", "==", UNMATCHED))
            .limit(self.page_size)
        )
        snapshots = {snapshot.id: snapshot for snapshot in held.stream()}
        if not snapshots:
            return
        fills = [
            VenueFill.model_validate(
                {k: v for k, v in snapshot.to_dict().items() if k in VenueFill.model_fields}
            )
            for snapshot in snapshots.values()
        ]
        placed, unmatched = self._write_with_retries(fills)
        del placed["unmatched"]
        tally.update(placed)
        for fill in fills:
            snapshot = snapshots[fill.fill_id]
            if fill.fill_id not in unmatched:
                snapshot.reference.delete()
            elif (_field(snapshot, "attempts") or 0) + 1 >= HELD_ATTEMPTS:
                # No order after an hour of runs: kept for operations, no longer retried.
                snapshot.reference.update({"kind": ABANDONED, "attempts": HELD_ATTEMPTS})
            else:
                snapshot.reference.update({"attempts": firestore.Increment(1)})
        tally["held_placed"] += len(fills) - len(unmatched)

    def _write_page(self, fills: list[VenueFill], known: _Known) -> tuple[Counter[str], set[str]]:
        """Record what the order book can place; the ids of the fills it cannot."""
        tally: Counter[str] = Counter()
        unmatched: set[str] = set()
        orders, immediate = known.orders, known.immediate
        placed: dict[str, _Placed] = {}
        # An order's fills in the order they filled it (a held fill may come back after a
        # later one); fills without a cumulative qty keep the venue's order.
        for fill in sorted(fills, key=lambda f: (f.cum_qty is None, f.cum_qty or ZERO)):
            if not _usable_id(fill):
                tally["bad_entries"] += 1
                continue
            snapshot = orders.get(_order_key(fill))
            if snapshot is None:
                unmatched.add(fill.fill_id)
                continue
            entry = placed.get(snapshot.reference.path)
            if entry is None:
                state = _order_fills(snapshot, immediate)
                entry = placed[snapshot.reference.path] = _Placed(snapshot, state, state, [], [])
            tally[self._place(entry, fill).value] += 1
        self._commit(placed.values())
        tally["unmatched"] = len(unmatched)
        return tally, unmatched

    def _place(self, entry: _Placed, fill: VenueFill) -> FillVerdict:
        outcome = apply_fill(entry.after, fill)
        entry.after = outcome.state
        if outcome.excess > 0:
            self._hold(fill, outcome.excess, EXCESS)
        if outcome.qty > 0:
            spec = self.instruments.get_instrument(fill.symbol, fill.asset_class)
            entry.trades.append(
                trade_for_fill(fill, outcome.qty, entry.before, spec, self.fee_schedule)
            )
            entry.parts.append((outcome.qty, fill.price))
        return outcome.verdict

    def _commit(self, placed: Iterable[_Placed]) -> None:
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

    def _commit_chunk(self, chunk: list[_Placed]) -> None:
        batch = self.db.batch()
        for entry in chunk:
            for trade in entry.trades:
                ref = self.db.document(paths.ledger_trade(trade.tenant_id, trade.trade_id))
                batch.create(ref, to_document(trade))
            batch.update(
                entry.snapshot.reference,
                _order_update(entry),
                option=self.db.write_option(last_update_time=entry.snapshot.update_time),
            )
        self._move_positions(batch, chunk)
        batch.commit()

    def _move_positions(self, batch: Any, chunk: list[_Placed]) -> None:
        """The owners' positions after the chunk's trades, each written on the condition that
        it is as read here (one read for the chunk); a sell that ended releases what it
        reserved."""
        refs = {path: self.db.document(path) for entry in chunk for path in _position_paths(entry)}
        if not refs:
            return
        snapshots = {s.reference.path: s for s in self.db.get_all(list(refs.values()))}
        read = {path: held_from(s.to_dict()) if s.exists else None for path, s in snapshots.items()}
        held = dict(read)
        for entry in chunk:
            for trade in entry.trades:
                path = paths.position(trade.uid, trade.symbol)
                held[path] = apply_trade(held[path], trade)
            order = entry.before.order
            path = paths.position(entry.before.owner.uid, order.symbol)
            if _ended(entry) and held.get(path) is not None:
                reservations = release(held[path].reservations, order.client_order_id)
                held[path] = held[path].model_copy(update={"reservations": reservations})
        tenants = {paths.position(e.before.owner.uid, e.before.order.symbol):
                   e.before.owner.tenant_id for e in chunk}  # fmt: skip
        for path, after in held.items():
            if after is None or after == read[path]:
                continue
            document = venue_position_document(tenants[path], self.source.venue, after)
            snapshot = snapshots[path]
            if snapshot.exists:
                option = self.db.write_option(last_update_time=snapshot.update_time)
                batch.update(snapshot.reference, document, option=option)
            else:
                batch.create(snapshot.reference, document)

    def _orders_of(self, fills: list[VenueFill]) -> dict[str, Any]:
        """The order documents of these fills, keyed as `_order_key` keys them: by point reads
        through the venue's order index, and by query for any order it does not name."""
        found = self._read_index(fills)
        missing = [fill for fill in fills if _order_key(fill) not in found]
        by_client = {f.client_order_id for f in missing if f.client_order_id}
        by_venue = {f.broker_order_id for f in missing if not f.client_order_id}
        for field, values in (("client_order_id", by_client), ("broker_order_id", by_venue)):
            for chunk in _chunks(sorted(values), IN_QUERY_LIMIT):
                query = self.db.collection_group("orders").where(
                    filter=FieldFilter(field, "in", chunk)
                )
                for snapshot in query.stream():
                    found[f"{field}:{snapshot.get(field)}"] = snapshot
        return found

    def _read_index(self, fills: list[VenueFill]) -> dict[str, Any]:
        """Two point reads in all: the index entries, then the orders they name."""
        refs = {}
        for fill in fills:
            try:
                refs[fill.broker_order_id] = self.db.document(
                    paths.venue_order(self.source.venue, fill.broker_order_id)
                )
            except InvalidIdentifier:
                continue
        entries = [e for e in self.db.get_all(list(refs.values())) if e.exists]
        order_refs = [
            self.db.document(paths.order(e.get("tenant_id"), e.get("client_order_id")))
            for e in entries
        ]
        orders = {o.reference.path: o for o in self.db.get_all(order_refs) if o.exists}
        found = {}
        for entry, ref in zip(entries, order_refs, strict=True):
            order = orders.get(ref.path)
            if order is not None:
                found[f"broker_order_id:{entry.id}"] = order
                found[f"client_order_id:{order.id}"] = order
        return found

    def _immediate_trades(self, snapshots: Iterable[Any]) -> dict[str, Decimal]:
        """What the submissions recorded, for orders the reconciler has not touched yet."""
        refs = []
        for snapshot in snapshots:
            # Only an order that filled at its submission can have a trade under its own id.
            if _field(snapshot, "recorded_qty") is None and _field(snapshot, "filled_qty"):
                tenant_id = snapshot.get("tenant_id")
                refs.append(self.db.document(paths.ledger_trade(tenant_id, snapshot.id)))
        if not refs:
            return {}
        return {
            trade.reference.parent.parent.id + "/" + trade.id: to_decimal(trade.get("qty"), "qty")
            for trade in self.db.get_all(refs)
            if trade.exists
        }

    def _hold(self, fill: VenueFill, qty: Decimal, kind: str) -> None:
        """Keep what cannot be placed where operations see it; never guess an owner. An
        unmatched fill is tried again on every run (its order may be recorded after it)."""
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
            self.db.document(paths.unmatched_fill(fill.venue, held_id)).create(document)


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


def _usable_id(fill: VenueFill) -> bool:
    """A fill whose id cannot name a ledger trade is reported and skipped, never retried."""
    try:
        fill_trade_id(fill)
    except InvalidIdentifier as exc:
        logs.log_event(logs.LogEvent.RECONCILE_BAD_ENTRY, severity="ERROR", venue=fill.venue,
                       problem=f"fill {fill.fill_id!r}: {exc}")  # fmt: skip
        return False
    return True


def _field(snapshot: Any, name: str) -> Any:
    """One field, or None where the document has none (`get` copies just that field)."""
    try:
        return snapshot.get(name)
    except KeyError:
        return None


def _order_key(fill: VenueFill) -> str:
    if fill.client_order_id:
        return f"client_order_id:{fill.client_order_id}"
    return f"broker_order_id:{fill.broker_order_id}"


def _position_paths(entry: _Placed) -> set[str]:
    """The positions an order's new trades move, and a sell's own, which its end releases."""
    found = {paths.position(trade.uid, trade.symbol) for trade in entry.trades}
    if entry.before.order.side is OrderSide.SELL and _ended(entry):
        found.add(paths.position(entry.before.owner.uid, entry.before.order.symbol))
    return found


def _ended(entry: _Placed) -> bool:
    return not order_after(entry.before, entry.after, entry.parts).is_working


def _share_positions(chunks: list[list[_Placed]]) -> bool:
    seen: set[str] = set()
    for chunk in chunks:
        moved = set().union(*(_position_paths(entry) for entry in chunk))
        if moved & seen:
            return True
        seen |= moved
    return False


def _batches(entries: list[_Placed]) -> Iterator[list[_Placed]]:
    """The entries in batches under BATCH_WRITES: per order its trades, its document and the
    positions it moves that the batch does not move already."""
    chunk: list[_Placed] = []
    writes, moved = 0, set()
    for entry in entries:
        positions = _position_paths(entry)
        if chunk and writes + 1 + len(entry.trades) + len(positions - moved) > BATCH_WRITES:
            yield chunk
            chunk, writes, moved = [], 0, set()
        chunk.append(entry)
        writes += 1 + len(entry.trades) + len(positions - moved)
        moved |= positions
    if chunk:
        yield chunk


def _order_update(entry: _Placed) -> dict[str, Any]:
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


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
