"""What the ledger mirror refuses: a ledger trade that cannot become history and lots."""

from __future__ import annotations

from smart_routing import logs
from smart_routing.domain.identifiers import id_problem, symbol_key
from smart_routing.portfolio.ledger import LedgerTrade


def mirror_problem(trade: LedgerTrade, tenant_id: str, trade_id: str) -> str | None:
    """Why a ledger trade stored at tenants/{tenant_id}/ledger_trades/{trade_id} may not be
    mirrored, or None. A refused trade never reaches the lots: no negative lot, no division
    by zero, no NaN."""
    for name, value in (("uid", trade.uid), ("trade_id", trade.trade_id)):
        problem = id_problem(value)
        if problem is not None:
            return f"{name} {problem}"
    if id_problem(symbol_key(trade.symbol)) is not None:
        return "symbol is not a valid document id"
    if trade.tenant_id != tenant_id:
        return "tenant_id differs from the tenant in the document's path"
    if trade.trade_id != trade_id:
        return "trade_id differs from the document id"
    amounts = {
        "qty": trade.qty,
        "price": trade.price,
        "notional": trade.notional.amount,
        "fees": trade.fees.amount,
    }
    for field, amount in amounts.items():
        if not amount.is_finite():
            return f"{field} must be a finite number"
    if trade.qty <= 0 or trade.price <= 0:
        return "qty and price must be positive"
    if trade.notional < 0 or trade.fees < 0:
        return "notional and fees must not be negative"
    return None


def log_mirror_rejected(reason: str, **where: str) -> None:
    """A ledger trade the mirror refused: retrying will not fix it, so it is logged, not
    raised."""
    logs.log_event(logs.LogEvent.MIRROR_REJECTED, severity="ERROR", reason=reason, **where)
