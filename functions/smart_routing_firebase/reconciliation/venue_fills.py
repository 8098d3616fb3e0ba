"""The reconciler in Firestore: venue fills into the ledger, exactly once, from a cursor.

For each real venue account it reads fills after the cursor stored at reconciliation/{venue}
(fill_cursor), places each fill on its order in tenants/{tenant_id}/orders, by client_order_id
or by the venue's order id where the venue names only that (fill_matching), and writes per
order, in one batch, the ledger trades of the new fills and the order's new state (filled qty,
average price, status, the fill ids seen, how much the ledger holds) on the condition that the
order is unchanged since it was read (fill_commits). A fill whose order the book holds only as
asked (`submitting`, `unknown`: the write after the venue's answer failed, or the answer was
unclear) is placed once that order is recorded as the venue shows it, found by the
client_order_id the venue names for the fill. A fill it still cannot place is held
(held_fills). The cursor moves only after a page's batches are written, so a crash half way
means the next run reads the page again and finds its fills already seen.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from google.cloud.firestore import Client

from smart_routing import logs
from smart_routing.domain.fills import FillPage, VenueFill
from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.money import ZERO
from smart_routing.execution.fill_rules import (
    FillVerdict,
    apply_fill,
    fill_trade_id,
    trade_for_fill,
)
from smart_routing.gate.fees import FeeSchedule
from smart_routing.ports import Broker, FillSource, InstrumentSource
from smart_routing_firebase.reconciliation import held_fills
from smart_routing_firebase.reconciliation.fill_commits import FillCommitter, PlacedOrder
from smart_routing_firebase.reconciliation.fill_cursor import FillCursor
from smart_routing_firebase.reconciliation.fill_matching import (
    KnownOrders,
    known_orders,
    orders_by_client_id,
)
from smart_routing_firebase.reconciliation.held_fills import EXCESS, UNMATCHED
from smart_routing_firebase.reconciliation.order_refresh import record_found
from smart_routing_firebase.stores.execution_issues import EXCESS_FILL, list_issue
from smart_routing_firebase.stores.one_commit import COMMIT_REFUSED
from smart_routing_firebase.stores.orders import UNRESOLVED

PAGE_SIZE = 500
MAX_PAGES = 40  # per venue and run: a backlog beyond this is finished by the next run
PAGE_ATTEMPTS = 3


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
        broker: Broker | None = None,
    ) -> None:
        """`broker`: where an order the book holds only as asked is looked up (none: such a
        fill is held until the order refresh has recorded its order)."""
        self.db, self.source, self.broker = db, source, broker
        self.instruments, self.fee_schedule = instruments, fee_schedule
        self.page_size, self.max_pages = page_size, max_pages
        self.cursor = FillCursor(db, source, page_size)
        self.committer = FillCommitter(db, source.venue)

    def run(self) -> Counter[str]:
        """Read the venue's fills from the cursor in groups of up to `page_size`, writing each
        group while the next is read, until the venue has no more or `max_pages` groups."""
        tally: Counter[str] = Counter()
        self._retry_held(tally)
        with ThreadPoolExecutor(1) as reader:
            reading = reader.submit(self._read, self.cursor.stored(), tally)
            for _ in range(self.max_pages):
                page, known = reading.result()
                if page.more:
                    reading = reader.submit(self._read, page.cursor, tally)
                self._record_page(page, known, tally)
                if page.cursor is not None:
                    self.cursor.move_to(page.cursor)
                if not page.more:
                    break
        return tally

    def _read(self, cursor: str | None, tally: Counter[str]) -> tuple[FillPage, KnownOrders]:
        """The fills after `cursor`, and what the order book knows of their orders."""
        page = self.cursor.read(cursor, tally)
        return page, self._known(page.fills)

    def _known(self, fills: list[VenueFill]) -> KnownOrders:
        return known_orders(self.db, self.source.venue, fills)

    def _record_page(self, page: FillPage, known: KnownOrders, tally: Counter[str]) -> None:
        for problem in page.problems:
            logs.log_event(
                logs.LogEvent.RECONCILE_BAD_ENTRY, severity="WARNING",
                venue=self.source.venue, problem=problem,
            )  # fmt: skip
        tally["bad_entries"] += len(page.problems)
        tally["fills_read"] += len(page.fills)
        placed, unmatched = self._write_with_retries(page.fills, known)
        tally.update(placed)
        unmatched = self._place_resolved(page.fills, unmatched, tally)
        for fill in page.fills:
            if fill.fill_id in unmatched:
                held_fills.hold(self.db, fill, fill.qty, UNMATCHED)

    def _write_with_retries(
        self, fills: list[VenueFill], known: KnownOrders | None = None
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
        snapshots = held_fills.unmatched(self.db, self.source.venue, self.page_size)
        if not snapshots:
            return
        fills = [held_fills.fill_of(snapshot) for snapshot in snapshots.values()]
        placed, unmatched = self._write_with_retries(fills)
        del placed["unmatched"]
        tally.update(placed)
        unmatched = self._place_resolved(fills, unmatched, tally)
        for fill in fills:
            held_fills.after_retry(snapshots[fill.fill_id], fill.fill_id not in unmatched)
        tally["held_placed"] += len(fills) - len(unmatched)

    def _place_resolved(
        self, fills: list[VenueFill], unmatched: set[str], tally: Counter[str]
    ) -> set[str]:
        """The unmatched fills placed once their orders are resolved from the venue; the ids
        of those still unmatched."""
        waiting = [fill for fill in fills if fill.fill_id in unmatched]
        if not waiting or not self._resolve_orders(waiting, tally):
            return unmatched
        placed, still = self._write_with_retries(waiting)
        tally["placed_after_resolving"] += len(waiting) - len(still)
        del placed["unmatched"]
        tally.update(placed)
        return still

    def _resolve_orders(self, fills: list[VenueFill], tally: Counter[str]) -> bool:
        """The orders of these fills that the venue knows by client_order_id and the book
        holds only as asked, recorded as the venue shows them. Whether any was."""
        if self.broker is None:
            return False
        client_ids = set()
        for fill in fills:
            try:
                client_id = self.source.client_order_id_of(fill)
            except Exception as exc:  # asked again on the held fill's next retry
                logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING",
                               venue=fill.venue, fill_id=fill.fill_id,
                               error=logs.redact(str(exc)))  # fmt: skip
                continue
            if client_id:
                client_ids.add(client_id)
        resolved = False
        for client_id, snapshot in orders_by_client_id(self.db, client_ids).items():
            data = snapshot.to_dict()
            if data.get("status") not in UNRESOLVED:
                continue
            found = self.broker.get_order_by_client_id(client_id)
            if found is not None:
                record_found(self.db, data, found)
                tally["orders_resolved"] += 1
                resolved = True
        return resolved

    def _write_page(
        self, fills: list[VenueFill], known: KnownOrders
    ) -> tuple[Counter[str], set[str]]:
        """Record what the order book can place; the ids of the fills it cannot."""
        tally: Counter[str] = Counter()
        unmatched: set[str] = set()
        placed: dict[str, PlacedOrder] = {}
        # An order's fills in the order they filled it (a held fill may come back after a
        # later one); fills without a cumulative qty keep the venue's order.
        for fill in sorted(fills, key=lambda f: (f.cum_qty is None, f.cum_qty or ZERO)):
            if not _usable_id(fill):
                tally["bad_entries"] += 1
                continue
            snapshot = known.order_of(fill)
            if snapshot is None:
                unmatched.add(fill.fill_id)
                continue
            path = snapshot.reference.path
            entry = placed.get(path)
            if entry is None:
                state = known.fills_of(snapshot)
                entry = placed[path] = PlacedOrder(snapshot, state, state, [], [])
            tally[self._place(entry, fill).value] += 1
        self.committer.commit(placed.values())
        tally["unmatched"] = len(unmatched)
        return tally, unmatched

    def _place(self, entry: PlacedOrder, fill: VenueFill) -> FillVerdict:
        outcome = apply_fill(entry.after, fill)
        entry.after = outcome.state
        if outcome.excess > 0:
            held_fills.hold(self.db, fill, outcome.excess, EXCESS)
            owner, order = entry.before.owner, entry.before.order
            list_issue(self.db, owner.tenant_id, EXCESS_FILL, fill.fill_id,
                       client_order_id=order.client_order_id, uid=owner.uid,
                       symbol=fill.symbol, side=fill.side.value, qty=float(outcome.excess),
                       venue=fill.venue, reason=held_fills.HELD_REASONS[EXCESS])  # fmt: skip
        if outcome.qty > 0:
            spec = self.instruments.get_instrument(fill.symbol, fill.asset_class)
            entry.trades.append(
                trade_for_fill(fill, outcome.qty, entry.before, spec, self.fee_schedule)
            )
            entry.parts.append((outcome.qty, fill.price))
        return outcome.verdict


def _usable_id(fill: VenueFill) -> bool:
    """A fill whose id cannot name a ledger trade is reported and skipped, never retried."""
    try:
        fill_trade_id(fill)
    except InvalidIdentifier as exc:
        logs.log_event(logs.LogEvent.RECONCILE_BAD_ENTRY, severity="ERROR", venue=fill.venue,
                       problem=f"fill {fill.fill_id!r}: {exc}")  # fmt: skip
        return False
    return True
