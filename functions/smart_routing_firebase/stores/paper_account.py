"""The paper venue's accounts of record in Firestore: one per user, durable across instances.

users/{uid}/portfolio/account holds cash by currency, forex margin and realized P&L;
users/{uid}/portfolio/positions/symbols/{symbol key} holds each open position for the owner to
read; tenants/{tenant_id}/orders/{client_order_id} holds each order. A fill is settled in one
transaction that reads the account and writes all three, so two instances, two users or twenty
concurrent sells of one position never see or spend the same shares twice. Inside a
`one_commit` scope the same writes are staged in the execution's one commit instead, the
account guarded by its update time as the gate read it (see one_commit.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, Transaction
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import OrderRejected, VenueUnavailable
from smart_routing.domain.money import ZERO, Money
from smart_routing.domain.orders import WORKING_STATUSES, AccountOwner, Order, Position
from smart_routing.portfolio.paper_account import ACCOUNT_CURRENCY, PaperAccount
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.backoff import is_contention
from smart_routing_firebase.stores.documents import ORDER_TIMES, data_of, to_document
from smart_routing_firebase.stores.one_commit import PendingCommit, pending
from smart_routing_firebase.stores.order_pages import OrderPages
from smart_routing_firebase.stores.venue_positions import position_document

_ORDER_TIMES = ORDER_TIMES
PAPER_VENUE = PaperBroker.name
PAPER_WORKING_CURSOR = "paper-working"  # reconciliation/paper-working: where the last run stopped


class FirestorePaperAccounts:
    def __init__(self, db: Client, starting_cash: Decimal) -> None:
        self.db = db
        self.starting_cash = starting_cash

    def account(self, owner: AccountOwner) -> PaperAccount:
        """Inside a commit scope, as the scope read it (see trading_state.py), once."""
        ref = self.db.document(paths.paper_account(owner.uid))
        commit = pending()
        snapshot = commit.read(ref) if commit is not None else None
        if snapshot is None:
            snapshot = ref.get()
            if commit is not None:
                commit.remember(snapshot)
        return self._from_snapshot(owner, snapshot)

    def transact(
        self,
        owner: AccountOwner,
        client_order_id: str,
        apply: Callable[[PaperAccount], tuple[PaperAccount | None, Order]],
    ) -> Order:
        order_ref = self.db.document(paths.order(owner.tenant_id, client_order_id))
        account_ref = self.db.document(paths.paper_account(owner.uid))
        commit = pending()
        if commit is not None:
            return self._stage(commit, owner, order_ref, account_ref, apply)

        @firestore.transactional
        def run(transaction: Transaction) -> Order:
            stored = order_ref.get(transaction=transaction)
            if stored.exists:
                return order_from_document(data_of(stored))
            before = self._from_snapshot(owner, account_ref.get(transaction=transaction))
            after, order = apply(before)
            if after is not None:
                transaction.set(account_ref, _account_document(owner, after))
                self._write_positions(transaction, owner, before, after)
            transaction.create(order_ref, _order_document(owner, order))
            return order

        try:
            return run(self.db.transaction())
        except Exception as exc:
            if not is_contention(exc):
                raise
            # Every attempt was aborted, so nothing was written: the order was not placed
            # (never "unknown", which would send the caller to look for it).
            raise VenueUnavailable(
                f"paper: the account is busy with other orders ({exc}); nothing was placed"
            ) from exc

    def _stage(
        self, commit: PendingCommit, owner: AccountOwner, order_ref: Any, account_ref: Any,
        apply: Callable[[PaperAccount], tuple[PaperAccount | None, Order]],
    ) -> Order:  # fmt: skip
        """The fill on the account as the gate read it; the order is created, so an order
        that already exists refuses the whole commit (and the caller takes the transaction)."""
        snapshot = commit.read(account_ref)
        if snapshot is None:
            snapshot = account_ref.get()
            commit.remember(snapshot)
        before = self._from_snapshot(owner, snapshot)
        after, order = apply(before)
        if after is not None:
            commit.replace_if_unchanged(account_ref, _account_document(owner, after))
            self._write_positions(commit, owner, before, after)
        commit.create(order_ref, _order_document(owner, order))
        return order

    def advance(
        self,
        owner: AccountOwner,
        client_order_id: str,
        apply: Callable[[PaperAccount, Order], tuple[PaperAccount, Order] | None],
    ) -> Order | None:
        order_ref = self.db.document(paths.order(owner.tenant_id, client_order_id))
        account_ref = self.db.document(paths.paper_account(owner.uid))
        commit = pending()
        if commit is not None:
            order_snapshot, account_snapshot = _read_both(self.db, order_ref, account_ref)
            commit.remember(order_snapshot)
            commit.remember(account_snapshot)
            return self._advance(commit, owner, order_snapshot, account_snapshot, apply)

        @firestore.transactional
        def run(transaction: Transaction) -> Order | None:
            order_snapshot, account_snapshot = _read_both(
                self.db, order_ref, account_ref, transaction
            )
            return self._advance(transaction, owner, order_snapshot, account_snapshot, apply)

        return run(self.db.transaction())

    def _advance(
        self, writer: Transaction | PendingCommit, owner: AccountOwner, order_snapshot: Any,
        account_snapshot: Any,
        apply: Callable[[PaperAccount, Order], tuple[PaperAccount, Order] | None],
    ) -> Order | None:  # fmt: skip
        if not order_snapshot.exists:
            return None
        stored = order_from_document(order_snapshot.to_dict())
        before = self._from_snapshot(owner, account_snapshot)
        changed = apply(before, stored)
        if changed is None:
            return stored
        after, order = changed
        account_ref, order_ref = account_snapshot.reference, order_snapshot.reference
        if isinstance(writer, PendingCommit):
            writer.replace_if_unchanged(account_ref, _account_document(owner, after))
            writer.replace_if_unchanged(order_ref, _order_document(owner, order))
        else:
            writer.set(account_ref, _account_document(owner, after))
            writer.update(order_ref, _order_document(owner, order))
        self._write_positions(writer, owner, before, after)
        return order

    def working_orders(self) -> list[tuple[AccountOwner, Order]]:
        return self._owned(self._working_query().stream())

    def working_orders_in_pages(self) -> list[tuple[AccountOwner, Order]]:
        """The working orders of this run's bounded pages, from where the last run stopped
        (stores/order_pages): what one reconciler run works, however many users trade."""
        return self._owned(OrderPages(self.db, PAPER_WORKING_CURSOR, self._working_query()))

    def _working_query(self) -> Any:
        return (
            self.db.collection_group("orders")
            .where(filter=FieldFilter("broker", "==", PAPER_VENUE))
            .where(filter=FieldFilter("status", "in", [s.value for s in WORKING_STATUSES]))
        )

    @staticmethod
    def _owned(snapshots: Iterable[Any]) -> list[tuple[AccountOwner, Order]]:
        """(owner, order) of each, oldest first."""
        working = []
        for snapshot in snapshots:
            data = data_of(snapshot)
            owner = AccountOwner(tenant_id=data["tenant_id"], uid=data["uid"])
            working.append((owner, order_from_document(data)))
        return sorted(working, key=lambda item: item[1].submitted_at)

    def order(self, client_order_id: str) -> Order | None:
        query = self.db.collection_group("orders").where(
            filter=FieldFilter("client_order_id", "==", client_order_id)
        )
        for snapshot in query.stream():  # a real venue's order may share the id: not ours
            data = data_of(snapshot)
            # An order left unknown has no broker yet (DocumentSnapshot.get would raise).
            if data.get("broker") == PAPER_VENUE:
                return order_from_document(data)
        return None

    def _from_snapshot(self, owner: AccountOwner, snapshot: Any) -> PaperAccount:
        if not snapshot.exists:
            return PaperAccount.opened(self.starting_cash)
        data = snapshot.to_dict()
        if data.get("tenant_id") != owner.tenant_id:
            # A uid's account belongs to the tenant it was opened in; never mix two.
            raise OrderRejected(f"the account of user {owner.uid} belongs to another tenant")
        positions = {}
        for item in data.get("positions", []):
            held = Position.model_validate(item)
            positions[held.symbol] = held
        currency = data["currency"]
        return PaperAccount(
            currency=currency,
            cash=Money.from_json(data["cash"][currency], currency, "cash"),
            positions=positions,
            margin={
                k: Money.from_json(v, currency, "margin") for k, v in data.get("margin", {}).items()
            },
            realized_pnl={
                k: Money.from_json(v, _quote_currency_of(k, positions), "realized_pnl")
                for k, v in data.get("realized_pnl", {}).items()
            },
        )

    def _write_positions(
        self, transaction: Transaction | PendingCommit, owner: AccountOwner, before: PaperAccount,
        after: PaperAccount,
    ) -> None:  # fmt: skip
        for symbol in set(before.positions) | set(after.positions):
            held = after.positions.get(symbol)
            if held == before.positions.get(symbol):
                continue
            if held is None:  # closed: kept at qty 0, with what closing it realized
                closed = before.positions[symbol]
                held = closed.model_copy(update={"qty": ZERO, "avg_price": ZERO})
            ref = self.db.document(paths.position(owner.uid, symbol))
            transaction.set(ref, _position_document(owner, held, after))


def _account_document(owner: AccountOwner, account: PaperAccount) -> dict[str, Any]:
    """The account as stored; symbols are map keys, so they are written as symbol keys."""
    return {
        "tenant_id": owner.tenant_id,
        "currency": account.currency,
        "cash": {account.currency: account.cash.to_json()},
        "buying_power": account.buying_power.to_json(),
        "positions": [held.model_dump(mode="json") for held in account.positions.values()],
        "margin": {symbol: amount.to_json() for symbol, amount in account.margin.items()},
        "realized_pnl": {symbol: pnl.to_json() for symbol, pnl in account.realized_pnl.items()},
        "updated_at": datetime.now(UTC),
    }


def _position_document(
    owner: AccountOwner, held: Position, account: PaperAccount
) -> dict[str, Any]:
    realized = account.realized_pnl.get(held.symbol)
    if realized is None:
        realized = Money.zero(_quote_currency(held.symbol, held.asset_class))
    return position_document(owner.tenant_id, held, realized)


def _quote_currency(symbol: str, asset_class: AssetClass | None) -> str:
    instrument = parse_symbol(symbol, asset_class)
    return instrument.quote_currency or ACCOUNT_CURRENCY


def _quote_currency_of(symbol: str, positions: dict[str, Position]) -> str:
    """The currency a symbol's realized P&L is in: its quote currency (the stored map holds
    bare numbers, as the position documents do)."""
    held = positions.get(symbol)
    return _quote_currency(symbol, held.asset_class if held else None)


def _order_document(owner: AccountOwner, order: Order) -> dict[str, Any]:
    return {**to_document(order, _ORDER_TIMES), "uid": owner.uid, "tenant_id": owner.tenant_id}


def order_from_document(data: dict[str, Any]) -> Order:
    return Order.model_validate({k: v for k, v in data.items() if k in Order.model_fields})


def _read_both(
    db: Client, order_ref: Any, account_ref: Any, transaction: Transaction | None = None
) -> tuple[Any, Any]:
    """The order and the account, in one request."""
    by_path = {
        snapshot.reference.path: snapshot
        for snapshot in db.get_all([order_ref, account_ref], transaction=transaction)
    }
    return by_path[order_ref.path], by_path[account_ref.path]
