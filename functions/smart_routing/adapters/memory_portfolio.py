"""In-process portfolio history: mirrors ledger trades as the Firestore trigger does."""

from __future__ import annotations

import threading

from smart_routing.ledger import LedgerTrade
from smart_routing.portfolio import (
    PortfolioHistoryRecord,
    TaxLot,
    apply_fifo,
    log_history_written,
    symbol_key,
)


class InMemoryPortfolio:
    def __init__(self) -> None:
        self._history: dict[tuple[str, str], PortfolioHistoryRecord] = {}
        self._lots: dict[tuple[str, str], list[TaxLot]] = {}
        self._lock = threading.Lock()

    def mirror(self, trade: LedgerTrade) -> PortfolioHistoryRecord | None:
        """Apply a ledger trade once; a repeated delivery returns None and changes nothing."""
        with self._lock:
            if (trade.uid, trade.trade_id) in self._history:
                return None
            lots_key = (trade.uid, symbol_key(trade.symbol))
            lots, record = apply_fifo(self._lots.get(lots_key, []), trade)
            self._lots[lots_key] = lots
            self._history[(trade.uid, trade.trade_id)] = record
        log_history_written(trade.uid, record)
        return record

    def history(self, uid: str) -> list[PortfolioHistoryRecord]:
        return [record for (owner, _), record in self._history.items() if owner == uid]

    def lots(self, uid: str, symbol: str) -> list[TaxLot]:
        return list(self._lots.get((uid, symbol_key(symbol)), []))
