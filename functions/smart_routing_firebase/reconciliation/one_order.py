"""One order reconciled, as soon as it is first recorded working (the reconcile_new_order
trigger), with the venue calls for that order only:

- paper: the order is worked once at the quote of the moment (no venue to ask);
- a real venue: the venue holding it is asked for it by client_order_id (one call); an end
  without fills is recorded at once, and when the venue shows fills the ledger does not hold
  yet, that venue account's fills are read from its cursor (in bounded pages), since the
  venues publish fills per account, not per order.

Anything left working is the scheduled reconciler's (reconcile_venues) from then on.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from google.cloud.firestore import Client

from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.domain.money import to_decimal
from smart_routing.domain.orders import WORKING_STATUSES, AccountOwner
from smart_routing.gate.fees import FeeSchedule
from smart_routing.ports import FillSource, InstrumentSource
from smart_routing_firebase.reconciliation.order_refresh import refresh_order
from smart_routing_firebase.reconciliation.paper_orders import PaperReconciler
from smart_routing_firebase.reconciliation.venue_fills import VenueReconciler
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.paper_account import (
    FirestorePaperAccounts,
    order_from_document,
)
from smart_routing_firebase.stores.venue_positions import VenuePositions
from venues.class_router import VenueRouter

_WORKING = frozenset(status.value for status in WORKING_STATUSES)


class OrderReconciler:
    """The venues as the functions hold them, for one order at a time."""

    def __init__(
        self,
        db: Client,
        router: VenueRouter,
        paper: PaperBroker,
        paper_accounts: FirestorePaperAccounts,
        fill_sources: tuple[FillSource, ...],
        instruments: InstrumentSource,
        fees: FeeSchedule,
    ) -> None:
        self.db, self.router, self.paper = db, router, paper
        self.paper_accounts, self.fill_sources = paper_accounts, fill_sources
        self.instruments, self.fees = instruments, fees

    def reconcile(self, tenant_id: str, client_order_id: str, as_of: datetime) -> Counter[str]:
        """The order as it is stored now; one no longer working needs nothing."""
        snapshot = self.db.document(paths.order(tenant_id, client_order_id)).get()
        data = snapshot.to_dict() if snapshot.exists else None
        if data is None or data.get("status") not in _WORKING:
            return Counter(not_working=1)
        if data.get("broker") == PaperBroker.name:
            return self._work_paper(data)
        return self._ask_venue(snapshot, data, as_of)

    def _work_paper(self, data: dict) -> Counter[str]:
        owner = AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"])
        reconciler = PaperReconciler(self.db, self.paper, self.paper_accounts,
                                     self.paper.instruments, self.fees)  # fmt: skip
        return Counter({f"paper.{reconciler.work_one(owner, order_from_document(data))}": 1})

    def _ask_venue(self, snapshot, data: dict, as_of: datetime) -> Counter[str]:
        venue = str(data.get("broker"))
        broker = self.router.broker_named(venue)
        if broker is None:
            return Counter(no_such_venue=1)
        outcome, found = refresh_order(self.db, broker, snapshot, as_of, VenuePositions(self.db))
        tally = Counter({f"{venue}.{outcome}": 1})
        recorded = to_decimal(data.get("recorded_qty", data.get("filled_qty", 0)), "recorded_qty")
        if found is not None and found.filled_qty > recorded:
            tally.update(self._read_fills(venue))
        return tally

    def _read_fills(self, venue: str) -> Counter[str]:
        for source in self.fill_sources:
            if source.venue == venue:
                reconciler = VenueReconciler(self.db, source, self.instruments, self.fees,
                                             broker=self.router)  # fmt: skip
                return Counter({f"{venue}.{k}": n for k, n in reconciler.run().items()})
        return Counter()
