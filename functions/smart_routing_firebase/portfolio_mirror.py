"""The ledger trigger's work: mirror a ledger trade into the user's history and FIFO lots."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, Transaction

from smart_routing.ledger import LedgerTrade
from smart_routing.portfolio import (
    TAX_LOT_METHOD,
    PortfolioHistoryRecord,
    TaxLot,
    apply_fifo,
    log_history_written,
)
from smart_routing_firebase import paths
from smart_routing_firebase.documents import to_document


def mirror_trade(db: Client, trade: LedgerTrade) -> PortfolioHistoryRecord | None:
    """Write the history record and the updated lots in one transaction, once per trade.

    Returns None when the trade was mirrored before: a redelivered event changes nothing.
    """
    history_ref = db.document(paths.history_trade(trade.uid, trade.trade_id))
    lots_ref = db.document(paths.tax_lots(trade.uid, trade.symbol))

    @firestore.transactional
    def apply(transaction: Transaction) -> PortfolioHistoryRecord | None:
        if history_ref.get(transaction=transaction).exists:
            return None
        lots_snapshot = lots_ref.get(transaction=transaction)
        stored = lots_snapshot.get("lots") if lots_snapshot.exists else []
        lots, record = apply_fifo([TaxLot.model_validate(lot) for lot in stored], trade)
        transaction.create(history_ref, to_document(record))
        transaction.set(lots_ref, _lots_document(trade, lots))
        return record

    record = apply(db.transaction())
    if record is not None:
        log_history_written(trade.uid, record)
    return record


def _lots_document(trade: LedgerTrade, lots: list[TaxLot]) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "asset_class": trade.asset_class.value,
        "tax_lot_method": TAX_LOT_METHOD,
        "qty": float(sum(lot.qty for lot in lots)),
        "currency": trade.currency,
        "lots": [to_document(lot, ("opened_at",)) for lot in lots],
        "updated_at": trade.timestamp,
    }


def handle_ledger_trade_created(data: dict[str, Any] | None, params: dict[str, str]) -> None:
    """The trigger body: `data` is the new ledger document, `params` its path's wildcards."""
    from smart_routing import logs
    from smart_routing_firebase.app import firestore_client

    if data is None:
        logs.log_event(
            logs.LogEvent.MIRROR_SKIPPED, severity="WARNING", reason="no document", **params
        )
        return
    try:
        trade = LedgerTrade.model_validate(data)
    except ValueError as exc:  # a malformed ledger document: retrying will not fix it
        logs.log_event(logs.LogEvent.MIRROR_SKIPPED, severity="ERROR", reason=str(exc), **params)
        return
    mirror_trade(firestore_client(), trade)
