"""Every Firestore path the functions use, in one place (firestore.rules mirrors these)."""

from __future__ import annotations

from smart_routing.portfolio import symbol_key


def ledger_trade(tenant_id: str, trade_id: str) -> str:
    return f"tenants/{tenant_id}/ledger_trades/{trade_id}"


def execution_claim(tenant_id: str, client_order_id: str) -> str:
    return f"tenants/{tenant_id}/executions/{client_order_id}"


def strategy_config(tenant_id: str, strategy_id: str) -> str:
    return f"tenants/{tenant_id}/strategies/{strategy_id}"


def history_trade(uid: str, trade_id: str) -> str:
    return f"users/{uid}/portfolio/history/trades/{trade_id}"


def tax_lots(uid: str, symbol: str) -> str:
    return f"users/{uid}/portfolio/lots/symbols/{symbol_key(symbol)}"
