"""The ledger trigger's work: mirror a ledger trade into the user's history and FIFO lots.

The lots document of a (user, symbol) holds the open lots and the log of the trades applied
(smart_routing.portfolio.LotState), so a trade delivered late is put in its place and the
later trades' history revised, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, DocumentSnapshot, Transaction

from smart_routing.ledger import LedgerTrade
from smart_routing.portfolio import (
    TAX_LOT_METHOD,
    LotState,
    MirrorUpdate,
    PortfolioHistoryRecord,
    TooLate,
    apply_trade,
    log_history_written,
    log_mirror_rejected,
    mirror_problem,
)
from smart_routing_firebase import paths
from smart_routing_firebase.documents import to_document


def mirror_trade(db: Client, trade: LedgerTrade) -> PortfolioHistoryRecord | None:
    """Write the history record, the revised history of later trades and the lots in one
    transaction, once per trade.

    Returns None when the trade was mirrored before: a redelivered event changes nothing.
    """
    history_ref = db.document(paths.history_trade(trade.uid, trade.trade_id))
    lots_ref = db.document(paths.tax_lots(trade.uid, trade.symbol))

    @firestore.transactional
    def apply(transaction: Transaction) -> MirrorUpdate | None:
        if history_ref.get(transaction=transaction).exists:
            return None
        update = apply_trade(_state(lots_ref.get(transaction=transaction)), trade)
        if update is None:
            return None
        transaction.create(history_ref, to_document(update.record))
        for trade_id, basis in update.revised.items():
            earlier = db.document(paths.history_trade(trade.uid, trade_id))
            transaction.update(earlier, basis.model_dump(mode="json"))
        transaction.set(lots_ref, _lots_document(trade, update.state))
        return update

    try:
        update = apply(db.transaction())
    except TooLate as exc:  # retrying will not fix it: logged, never raised
        log_mirror_rejected(str(exc), tenant_id=trade.tenant_id, trade_id=trade.trade_id)
        return None
    if update is None:
        return None
    log_history_written(trade.uid, update.record, revised=sorted(update.revised))
    return update.record


def _state(snapshot: DocumentSnapshot) -> LotState:
    if not snapshot.exists:
        return LotState()
    stored = snapshot.to_dict() or {}
    return LotState.model_validate(
        {key: stored[key] for key in ("lots", "applied", "base_lots", "folded_through")
         if stored.get(key) is not None}
    )  # fmt: skip


def _lots_document(trade: LedgerTrade, state: LotState) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "asset_class": trade.asset_class.value,
        "tax_lot_method": TAX_LOT_METHOD,
        "qty": float(sum(lot.qty for lot in state.lots)),
        "currency": trade.currency,
        "lots": [to_document(lot, ("opened_at",)) for lot in state.lots],
        "applied": [to_document(entry) for entry in state.applied],
        "base_lots": [to_document(lot, ("opened_at",)) for lot in state.base_lots],
        "folded_through": None
        if state.folded_through is None
        else to_document(state.folded_through),
        "updated_at": state.applied[-1].timestamp,
    }


def handle_ledger_trade_created(data: dict[str, Any] | None, params: dict[str, str]) -> None:
    """The trigger body: `data` is the new ledger document, `params` its path's wildcards.

    A document that is not a trade the mirror can apply is logged as rejected and left out:
    retrying will not fix it."""
    from smart_routing import logs
    from smart_routing_firebase.app import firestore_client

    if data is None:
        logs.log_event(
            logs.LogEvent.MIRROR_SKIPPED, severity="WARNING", reason="no document", **params
        )
        return
    try:
        trade = LedgerTrade.model_validate(data)
    except ValueError as exc:
        log_mirror_rejected(str(exc), **params)
        return
    problem = mirror_problem(trade, params.get("tenant_id", ""), params.get("trade_id", ""))
    if problem is not None:
        log_mirror_rejected(problem, **params)
        return
    mirror_trade(firestore_client(), trade)
