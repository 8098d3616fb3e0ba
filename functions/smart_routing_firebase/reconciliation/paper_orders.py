"""The paper venue's working orders, filled further at the quote of the moment: the fill,
account, order and ledger trade in one commit."""

from __future__ import annotations

from collections import Counter

from google.cloud.firestore import Client

from smart_routing import logs
from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.domain.errors import VenueUnavailable
from smart_routing.domain.orders import AccountOwner, Order
from smart_routing.execution.fill_rules import OrderFills, trade_for_fill
from smart_routing.gate.fees import FeeSchedule
from smart_routing.ports import InstrumentSource
from smart_routing_firebase.stores.ledger import FirestoreLedgerStore
from smart_routing_firebase.stores.one_commit import attempt_in_one_commit
from smart_routing_firebase.stores.paper_account import FirestorePaperAccounts

COMMIT_ATTEMPTS = 3


class PaperReconciler:
    """The paper venue's working orders, filled further at the quote of the moment."""

    def __init__(
        self,
        db: Client,
        paper: PaperBroker,
        accounts: FirestorePaperAccounts,
        instruments: InstrumentSource,
        fee_schedule: FeeSchedule,
    ) -> None:
        self.db, self.paper, self.accounts = db, paper, accounts
        self.instruments, self.fee_schedule = instruments, fee_schedule
        self.ledger = FirestoreLedgerStore(db)

    def run(self) -> Counter[str]:
        tally: Counter[str] = Counter()
        for owner, order in self.accounts.working_orders_in_pages():
            tally[self.work_one(owner, order)] += 1
        return tally

    def work_one(self, owner: AccountOwner, order: Order) -> str:
        """One working order filled further if it can: "recorded", "still_working",
        "contended" (the next run tries again) or "no_quote"."""
        try:
            return self._work_in_one_commit(owner, order)
        except VenueUnavailable as exc:  # no usable quote now: the next run tries again
            logs.log_event(logs.LogEvent.RECONCILE_FAILED, severity="WARNING", venue="paper",
                           client_order_id=order.client_order_id, error=str(exc))  # fmt: skip
            return "no_quote"

    def _work_in_one_commit(self, owner: AccountOwner, order: Order) -> str:
        """The fill, account, order and ledger trade commit together or not at all; when
        another writer moved the order or account first, read them again and retry."""
        for _ in range(COMMIT_ATTEMPTS):
            recorded = attempt_in_one_commit(self.db, lambda: self._work(owner, order))
            if recorded is not None:
                return "recorded" if recorded else "still_working"
        return "contended"  # the next run tries again

    def _work(self, owner: AccountOwner, order: Order) -> bool:
        """Fill more of one working order; its ledger trade is staged in the same commit."""
        fill = self.paper.work_order(owner, order)
        if fill is None:
            return False
        state = OrderFills(owner, order, frozenset(), order.filled_qty, order.filled_qty)
        spec = self.instruments.get_instrument(order.symbol, order.asset_class)
        self.ledger.append(trade_for_fill(fill, fill.qty, state, spec, self.fee_schedule))
        return True
