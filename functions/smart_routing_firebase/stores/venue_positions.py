"""Each user's own positions at the real venues, in the documents the owner already reads.

users/{uid}/portfolio/positions/symbols/{symbol key} holds the position (as the paper venue
writes its own), plus, for a real venue, the `venue` and the sells reserved on it. The venue's
account is the platform's, shared by its users; these documents decide what one user may
sell. They move in the same commit as the ledger trade that moves them: the submission's (in
the execution's `one_commit`, or a transaction on the retry) and the reconciler's batches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, Transaction
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.adapters.paper_broker import PaperBroker
from smart_routing.domain.assets import AssetClass, parse_symbol
from smart_routing.domain.errors import OrderRejected
from smart_routing.domain.money import ZERO, Money, to_decimal
from smart_routing.domain.orders import AccountOwner, OrderRequest, Position
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.positions import (
    HeldPosition,
    apply_trade,
    cost_basis,
    release,
    reserve,
)
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.documents import data_of
from smart_routing_firebase.stores.one_commit import PendingCommit

PAPER_VENUE = PaperBroker.name
RESERVE_ATTEMPTS = 20


def position_document(tenant_id: str, held: Position, realized_pnl: Money) -> dict[str, Any]:
    """The position as its owner reads it, on any venue; money in the quote currency."""
    currency = realized_pnl.currency
    return {
        "tenant_id": tenant_id,
        "symbol": held.symbol,
        "asset_class": held.asset_class.value,
        "qty": float(held.qty),
        "avg_cost": float(held.avg_price),
        "cost_basis": cost_basis(held.qty, held.avg_price, held.asset_class, currency).to_json(),
        "realized_pnl": realized_pnl.to_json(),
        "currency": currency,
        "updated_at": datetime.now(UTC),
    }


def venue_position_document(tenant_id: str, venue: str, held: HeldPosition) -> dict[str, Any]:
    document = position_document(tenant_id, held.as_position(), held.realized_pnl)
    return {
        **document,
        "venue": venue,
        "reserved": float(held.reserved),
        "reservations": {k: float(v) for k, v in held.reservations.items()},
    }


def held_from(data: dict[str, Any] | None) -> HeldPosition | None:
    if data is None:
        return None
    return HeldPosition(
        symbol=data["symbol"],
        asset_class=AssetClass(data["asset_class"]),
        currency=data["currency"],
        qty=to_decimal(data["qty"], "qty"),
        avg_cost=to_decimal(data["avg_cost"], "avg_cost"),
        realized_pnl=data.get("realized_pnl", 0),
        reservations={
            k: to_decimal(v, "reserved") for k, v in (data.get("reservations") or {}).items()
        },
    )


def moves_position(trade: LedgerTrade) -> bool:
    """The paper venue writes its positions with its account; a real venue's trades move the
    user's position here."""
    return trade.broker != PAPER_VENUE


class VenuePositions:
    """The users' own positions at the real venues: read for the gate, reserved before a sell
    is sent, moved with each ledger trade."""

    def __init__(self, db: Client) -> None:
        self.db = db

    def owned(self, owner: AccountOwner, venue: str) -> dict[str, Position]:
        """The owner's open positions at `venue` (which trades only its own asset classes),
        by symbol."""
        query = self.db.collection(paths.positions(owner.uid)).where(
            filter=FieldFilter("venue", "==", venue)
        )
        held = {}
        for snapshot in query.stream():
            data = data_of(snapshot)
            position = held_from(data) if data.get("tenant_id") == owner.tenant_id else None
            if position is not None and position.qty != 0:
                held[position.symbol] = position.as_position()
        return held

    def reserve(self, owner: AccountOwner, request: OrderRequest, venue: str) -> None:
        """Hold the sell's qty on the owner's position, or raise OrderRejected naming what the
        owner holds. An order already in the order book was sent before: nothing to hold."""
        ref = self.db.document(paths.position(owner.uid, request.symbol))
        order_ref = self.db.document(paths.order(owner.tenant_id, request.client_order_id))

        @firestore.transactional
        def run(transaction: Transaction) -> None:
            snapshots = {s.reference.path: s for s in
                         self.db.get_all([ref, order_ref], transaction=transaction)}  # fmt: skip
            if snapshots[order_ref.path].exists:
                return
            held = _held_of(snapshots[ref.path], owner)
            reservations = reserve(held, request.symbol, request.client_order_id, request.qty)
            if held is None:
                held = HeldPosition(symbol=request.symbol, asset_class=request.asset_class,
                                    currency=_currency_of(request))  # fmt: skip
            held = held.model_copy(update={"reservations": reservations})
            transaction.set(ref, venue_position_document(owner.tenant_id, venue, held))

        # Concurrent sells of one position contend for its document by design.
        run(self.db.transaction(max_attempts=RESERVE_ATTEMPTS))

    def release(
        self, owner: AccountOwner, symbol: str, client_order_id: str, keep: Decimal = ZERO
    ) -> None:
        """The order ended: release its reservation beyond `keep` (fills not yet recorded)."""
        ref = self.db.document(paths.position(owner.uid, symbol))

        @firestore.transactional
        def run(transaction: Transaction) -> None:
            snapshot = ref.get(transaction=transaction)
            held = held_from(snapshot.to_dict()) if snapshot.exists else None
            if held is None or client_order_id not in held.reservations:
                return
            reservations = release(held.reservations, client_order_id, keep)
            transaction.update(
                ref,
                {"reservations": {k: float(v) for k, v in reservations.items()},
                 "reserved": float(sum(reservations.values(), ZERO)),
                 "updated_at": datetime.now(UTC)},
            )  # fmt: skip

        run(self.db.transaction())

    def stage(self, commit: PendingCommit, trade: LedgerTrade) -> None:
        """The trade's move of its owner's position, in the execution's commit, on the
        condition that the position is as read here."""
        ref = self.db.document(paths.position(trade.uid, trade.symbol))
        snapshot = ref.get()
        commit.remember(snapshot)
        commit.replace_if_unchanged(ref, moved_document(snapshot, trade))

    def write(self, transaction: Transaction, snapshot: Any, trade: LedgerTrade) -> None:
        transaction.set(snapshot.reference, moved_document(snapshot, trade))


def moved_document(snapshot: Any, trade: LedgerTrade, ended: bool = False) -> dict[str, Any]:
    """The position document after `trade`; with `ended`, its order's reservation is gone."""
    held = apply_trade(held_from(snapshot.to_dict()) if snapshot.exists else None, trade)
    if ended:
        held = held.model_copy(
            update={"reservations": release(held.reservations, trade.client_order_id)}
        )
    return venue_position_document(trade.tenant_id, trade.broker, held)


def _held_of(snapshot: Any, owner: AccountOwner) -> HeldPosition | None:
    if not snapshot.exists:
        return None
    data = snapshot.to_dict()
    if data.get("tenant_id") != owner.tenant_id:
        # A uid's positions belong to the tenant it trades in; never mix two.
        raise OrderRejected(f"the account of user {owner.uid} belongs to another tenant")
    return held_from(data)


def _currency_of(request: OrderRequest) -> str:
    return parse_symbol(request.symbol, request.asset_class).quote_currency or "USD"
