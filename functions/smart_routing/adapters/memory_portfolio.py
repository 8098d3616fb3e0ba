"""In-process portfolio history: mirrors ledger trades as the Firestore trigger does."""

from __future__ import annotations

import threading

from smart_routing.domain.identifiers import symbol_key
from smart_routing.portfolio.history import PortfolioHistoryRecord, log_history_written
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.portfolio.lot_book import TaxLot
from smart_routing.portfolio.lots import LotState, TooLate, apply_trade
from smart_routing.portfolio.mirror_checks import log_mirror_rejected, mirror_problem


class InMemoryPortfolio:
    def __init__(self) -> None:
        self._history: dict[tuple[str, str], PortfolioHistoryRecord] = {}
        self._lots: dict[tuple[str, str], LotState] = {}
        self._lock = threading.Lock()

    def mirror(self, trade: LedgerTrade) -> PortfolioHistoryRecord | None:
        """Apply a ledger trade once, in any order; a repeated delivery returns None and
        changes nothing, and so does a trade that cannot be mirrored (logged as rejected)."""
        problem = mirror_problem(trade, trade.tenant_id, trade.trade_id)
        if problem is not None:
            log_mirror_rejected(problem, tenant_id=trade.tenant_id, trade_id=trade.trade_id)
            return None
        with self._lock:
            lots_key = (trade.uid, symbol_key(trade.symbol))
            try:
                update = apply_trade(self._lots.get(lots_key, LotState()), trade)
            except TooLate as exc:
                log_mirror_rejected(str(exc), tenant_id=trade.tenant_id, trade_id=trade.trade_id)
                return None
            if update is None:
                return None
            self._lots[lots_key] = update.state
            self._history[(trade.uid, trade.trade_id)] = update.record
            for trade_id, basis in update.revised.items():
                earlier = self._history[(trade.uid, trade_id)]
                self._history[(trade.uid, trade_id)] = earlier.model_copy(update=dict(basis))
        log_history_written(trade.uid, update.record, revised=sorted(update.revised))
        return update.record

    def history(self, uid: str) -> list[PortfolioHistoryRecord]:
        return [record for (owner, _), record in self._history.items() if owner == uid]

    def lots(self, uid: str, symbol: str) -> list[TaxLot]:
        state = self._lots.get((uid, symbol_key(symbol)))
        return list(state.lots) if state else []
