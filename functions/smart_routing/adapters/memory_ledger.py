"""An in-process ledger store with the same append-only contract as the Firestore one."""

from __future__ import annotations

import threading
from collections.abc import Callable

from smart_routing.portfolio.ledger import LedgerTrade


class InMemoryLedgerStore:
    """`on_created` runs once per new trade, as the Firestore trigger does in the cloud."""

    def __init__(self, on_created: Callable[[LedgerTrade], object] | None = None) -> None:
        self._trades: dict[tuple[str, str], LedgerTrade] = {}
        self._lock = threading.Lock()
        self._on_created = on_created

    def append(self, trade: LedgerTrade) -> LedgerTrade:
        key = (trade.tenant_id, trade.trade_id)
        with self._lock:
            existing = self._trades.get(key)
            if existing is not None:
                return existing
            self._trades[key] = trade
        if self._on_created is not None:
            self._on_created(trade)
        return trade

    def get(self, tenant_id: str, trade_id: str) -> LedgerTrade | None:
        return self._trades.get((tenant_id, trade_id))

    def trades(self, tenant_id: str) -> list[LedgerTrade]:
        return [trade for (tenant, _), trade in self._trades.items() if tenant == tenant_id]
