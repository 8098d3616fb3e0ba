"""The ledger trigger's work: mirror a ledger trade into the user's history and FIFO lots.

The lots of a (user, symbol) are a head document (totals and the window of applied trades,
smart_routing.portfolio.lots.LotHead) and one document per open lot under it, ordered by
`sort_key`. A trade that sorts last reads the head and the oldest lots it consumes; a trade
delivered late undoes and replays the window's later trades, revising their history, in the
same transaction.

The trade's unmirrored marker (stores/unmirrored.py) is deleted in that transaction, or when
the trade is refused for good: the sweep finishes whatever a lost event left undone, and a
trade applied by the trigger and the sweep at once is applied by one transaction only (the
other finds its history record and changes nothing).
"""

from __future__ import annotations

import contextlib
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import (
    Client,
    CollectionReference,
    DocumentReference,
    DocumentSnapshot,
    Transaction,
)
from pydantic import TypeAdapter

from smart_routing.domain.identifiers import InvalidIdentifier
from smart_routing.domain.money import ZERO, Money
from smart_routing.portfolio.history import (
    TAX_LOT_METHOD,
    PortfolioHistoryRecord,
    log_history_written,
)
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lot_book import TaxLot, lot_sort_key
from smart_routing.portfolio.lots import (
    AppliedTrade,
    ListSource,
    LotHead,
    MirrorUpdate,
    TooLate,
    apply_to_lots,
)
from smart_routing.portfolio.mirror_checks import log_mirror_rejected, mirror_problem
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.backoff import retry_contended
from smart_routing_firebase.stores.documents import to_document
from smart_routing_firebase.stores.unmirrored import marker_ref

SORT_KEY = "sort_key"
# Half the trigger's 60 s timeout; what still fails keeps its marker for the sweep.
CONTENTION_BUDGET_S = 30.0
_HEAD_FIELDS = ("qty", "cost", "open_lots", "folded_through")
# The window is stored as one JSON string: as 200 nested maps, encoding it was most of a
# trade's cost, and only the mirror reads it.
_WINDOW = TypeAdapter(list[AppliedTrade])


def mirror_trade(
    db: Client, trade: LedgerTrade, contention_budget_s: float = CONTENTION_BUDGET_S
) -> PortfolioHistoryRecord | None:
    """Write the history record, the revised history of later trades, the lots head and the
    open lots touched in one transaction, once per trade.

    Returns None when the trade was mirrored before (a redelivered event, or the sweep and
    the trigger both) and changes nothing but its marker, or when it was refused.
    """
    marker = marker_ref(db, trade.tenant_id, trade.trade_id)
    history_ref = db.document(paths.history_trade(trade.uid, trade.trade_id))
    head_ref = db.document(paths.tax_lots(trade.uid, trade.symbol))
    open_lots = db.collection(paths.open_lots(trade.uid, trade.symbol))

    @firestore.transactional
    def apply(transaction: Transaction) -> MirrorUpdate | None:
        history, stored = _get_both(transaction, history_ref, head_ref)
        if history.exists:
            transaction.delete(marker)
            return None
        head, legacy = _head(stored, trade.currency)
        source = FirestoreLots(open_lots, transaction) if legacy is None else ListSource(legacy)
        update = apply_to_lots(head, trade, source)
        transaction.delete(marker)
        if update is None:
            return None
        lots = {lot.trade_id: lot for lot in legacy or []} | update.lots
        transaction.create(history_ref, to_document(update.record))
        for trade_id, basis in update.revised.items():
            earlier = db.document(paths.history_trade(trade.uid, trade_id))
            transaction.update(earlier, basis.model_dump(mode="json", exclude={"currency"}))
        for trade_id, lot in lots.items():
            _write_lot(transaction, open_lots.document(trade_id), trade, lot)
        transaction.set(head_ref, head_document(trade, update.head))
        return update

    try:
        # The trades of one (user, symbol) all write its lots head: a burst takes turns.
        update = retry_contended(lambda: apply(db.transaction()), contention_budget_s)
    except TooLate as exc:  # retrying will not fix it: logged, never raised
        log_mirror_rejected(str(exc), tenant_id=trade.tenant_id, trade_id=trade.trade_id)
        marker.delete()
        return None
    if update is None:
        return None
    log_history_written(trade.uid, update.record, revised=sorted(update.revised))
    return update.record


class FirestoreLots:
    """The open lots of one (user, symbol) as a LotSource, read inside a transaction."""

    def __init__(self, collection: CollectionReference, transaction: Transaction) -> None:
        self._collection = collection
        self._transaction = transaction

    def after(self, lot: TaxLot | None, limit: int) -> list[TaxLot]:
        query = self._collection.order_by(SORT_KEY).limit(limit)
        if lot is not None:
            query = query.start_after({SORT_KEY: lot_sort_key(lot)})
        return [TaxLot.model_validate(doc.to_dict()) for doc in self._transaction.get(query)]

    def lot(self, trade_id: str) -> TaxLot | None:
        snapshot = self._collection.document(trade_id).get(transaction=self._transaction)
        return TaxLot.model_validate(snapshot.to_dict()) if snapshot.exists else None


def _get_both(
    transaction: Transaction, first: DocumentReference, second: DocumentReference
) -> tuple[DocumentSnapshot, DocumentSnapshot]:
    """Two documents in one round trip, in the order asked (get_all answers in any order)."""
    by_path = {
        snapshot.reference.path: snapshot for snapshot in transaction.get_all([first, second])
    }
    return by_path[first.path], by_path[second.path]


def _head(snapshot: DocumentSnapshot, currency: str) -> tuple[LotHead, list[TaxLot] | None]:
    """The head, and the open lots when it is of the earlier layout that held them all.
    Their money is in `currency`, the symbol's (its trades')."""
    stored = snapshot.to_dict() or {}
    if "lots" in stored:
        return _legacy_head(stored, currency)
    head = {key: stored[key] for key in _HEAD_FIELDS if stored.get(key) is not None}
    window = _WINDOW.validate_json(stored["applied"]) if "applied" in stored else []
    return LotHead.model_validate(head | {"currency": currency, "applied": window}), None


def _legacy_head(stored: dict[str, Any], currency: str) -> tuple[LotHead, list[TaxLot]]:
    """A head of the earlier layout: its lots move to their own documents in this
    transaction. Its log does not say what each sell took, so nothing in it can be undone:
    it counts as folded, and a trade sorting before its latest is TooLate."""
    lots = [TaxLot.model_validate({"currency": currency} | lot) for lot in stored["lots"]]
    applied = stored.get("applied") or []
    head = LotHead(
        currency=currency,
        qty=sum((lot.qty for lot in lots), ZERO),
        cost=sum((lot.cost for lot in lots), Money.zero(currency)),
        open_lots=len(lots),
        folded_through=AppliedTrade.model_validate(applied[-1]) if applied else None,
    )
    return head, lots


def head_document(trade: LedgerTrade, head: LotHead) -> dict[str, Any]:
    """The head: what the owner reads about the symbol at a glance, and the window."""
    last = head.applied[-1]
    return {
        "symbol": trade.symbol,
        "asset_class": trade.asset_class.value,
        "tax_lot_method": TAX_LOT_METHOD,
        "currency": trade.currency,
        "qty": float(head.qty),
        "cost": None if head.cost is None else head.cost.to_json(),
        "open_lots": head.open_lots,
        "last_applied": {"timestamp": last.timestamp, "trade_id": last.trade_id},
        "applied": _WINDOW.dump_json(head.applied).decode(),
        "folded_through": None if head.folded_through is None else to_document(head.folded_through),
        "updated_at": last.timestamp,
    }


def lot_document(trade: LedgerTrade, lot: TaxLot) -> dict[str, Any]:
    return to_document(lot, ("opened_at",)) | {
        "symbol": trade.symbol,
        "currency": trade.currency,
        SORT_KEY: lot_sort_key(lot),
    }


def _write_lot(
    transaction: Transaction, ref: DocumentReference, trade: LedgerTrade, lot: TaxLot | None
) -> None:
    if lot is None:
        transaction.delete(ref)
    else:
        transaction.set(ref, lot_document(trade, lot))


MIRRORED, UNCHANGED, REJECTED = "mirrored", "unchanged", "rejected"


def handle_ledger_trade_created(data: dict[str, Any] | None, params: dict[str, str]) -> None:
    """The trigger body: `data` is the new ledger document, `params` its path's wildcards."""
    from smart_routing_firebase.platform.app import firestore_client

    mirror_document(firestore_client(), data, params)


def mirror_document(
    db: Client,
    data: dict[str, Any] | None,
    where: dict[str, str],
    contention_budget_s: float = CONTENTION_BUDGET_S,
) -> str:
    """Mirror one ledger document (`where`: its tenant_id and trade_id): MIRRORED, UNCHANGED
    (applied before, or refused as too late) or REJECTED. `contention_budget_s`: how long its
    transaction keeps retrying contention (0: one attempt).

    A document that is not a trade the mirror can apply is logged as rejected and its marker
    dropped: retrying will not fix it."""
    from smart_routing import logs

    if data is None:
        logs.log_event(
            logs.LogEvent.MIRROR_SKIPPED, severity="WARNING", reason="no document", **where
        )
        _drop_marker(db, where)
        return REJECTED
    try:
        trade = LedgerTrade.model_validate(data)
    except ValueError as exc:
        log_mirror_rejected(str(exc), **where)
        _drop_marker(db, where)
        return REJECTED
    problem = mirror_problem(trade, where.get("tenant_id", ""), where.get("trade_id", ""))
    if problem is not None:
        log_mirror_rejected(problem, **where)
        _drop_marker(db, where)
        return REJECTED
    return MIRRORED if mirror_trade(db, trade, contention_budget_s) is not None else UNCHANGED


def _drop_marker(db: Client, where: dict[str, str]) -> None:
    """A path the checks refuse names no marker: markers are written under checked ids only."""
    with contextlib.suppress(InvalidIdentifier):
        marker_ref(db, where.get("tenant_id", ""), where.get("trade_id", "")).delete()
