"""Every Firestore path the functions use, in one place (firestore.rules mirrors these).

Each id is checked (smart_routing.domain.identifiers) as its path is built, so no path ever holds a
`/`, a `..` or a reserved id that would name another document or none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from smart_routing.domain.identifiers import check_id, symbol_key


def ledger_trade(tenant_id: str, trade_id: str) -> str:
    return _path("tenants", tenant_id, "ledger_trades", trade_id, "trade_id")


def unmirrored_trade(tenant_id: str, trade_id: str) -> str:
    """A ledger trade the mirror has not applied yet (stores/unmirrored.py)."""
    return _path("tenants", tenant_id, "unmirrored", trade_id, "trade_id")


def decision(tenant_id: str, decision_id: str) -> str:
    return _path("tenants", tenant_id, "decisions", decision_id, "decision_id")


def tca_daily(tenant_id: str, day: str) -> str:
    """A tenant's TCA roll-up of one trading date (YYYY-MM-DD)."""
    return _path("tenants", tenant_id, "tca_daily", day, "date")


def markout(tenant_id: str, trade_id: str, horizon: str) -> str:
    """A ledger trade's markout at `horizon` ("5m"), beside the trade, which is never updated."""
    return f"{ledger_trade(tenant_id, trade_id)}/markouts/{check_id(horizon, 'horizon')}"


def tenant_trading_state(tenant_id: str) -> str:
    """The tenant's trading state (the kill switch); readable by the tenant's users."""
    return f"tenants/{check_id(tenant_id, 'tenant_id')}/settings/trading_state"


def venue_trading_states(tenant_id: str) -> str:
    """The tenant's state on each venue, `venues` {name: {state, reason, by, at}}: what the
    venue circuit breaker sets and an admin restores."""
    return f"tenants/{check_id(tenant_id, 'tenant_id')}/settings/venue_states"


def venue_health(tenant_id: str, venue: str) -> str:
    """The tenant's recent failures on a venue, which the circuit breaker counts."""
    return _path("tenants", tenant_id, "venue_health", venue, "venue")


def user_trading_state(tenant_id: str, uid: str) -> str:
    return _path("tenants", tenant_id, "user_trading_states", uid, "uid")


def audit_log(tenant_id: str) -> str:
    """The tenant's audit log: one document per change, readable by its admins alone."""
    return f"tenants/{check_id(tenant_id, 'tenant_id')}/audit_log"


def tenant_limits(tenant_id: str) -> str:
    """The tenant's order limits: notional caps and rate overrides; the platform writes them."""
    return f"tenants/{check_id(tenant_id, 'tenant_id')}/settings/limits"


def user_rate_bucket(tenant_id: str, kind: str, uid: str) -> str:
    """A user's order-rate token bucket; `kind` is order or dry_run."""
    check_id(kind, "kind")
    return _path("tenants", tenant_id, f"rate_buckets/{kind}/users", uid, "uid")


def tenant_rate_shard(tenant_id: str, kind: str, shard: int) -> str:
    """One shard of the tenant's order-rate token bucket."""
    check_id(kind, "kind")
    return f"tenants/{check_id(tenant_id, 'tenant_id')}/rate_buckets/{kind}/tenant_shards/{shard}"


def daily_notional(tenant_id: str, day: str, uid: str) -> str:
    """What a user's orders used of the tenant's daily notional cap on `day` (YYYY-MM-DD)."""
    check_id(day, "day")
    return _path("tenants", tenant_id, f"daily_notional/{day}/users", uid, "uid")


def daily_notional_order(tenant_id: str, day: str, uid: str, client_order_id: str) -> str:
    """One order's share of that day's total, so counting it again counts nothing."""
    check_id(client_order_id, "client_order_id")
    return f"{daily_notional(tenant_id, day, uid)}/orders/{client_order_id}"


def execution_claim(tenant_id: str, client_order_id: str) -> str:
    return _path("tenants", tenant_id, "executions", client_order_id, "client_order_id")


def strategy_config(tenant_id: str, strategy_id: str) -> str:
    return _path("tenants", tenant_id, "strategies", strategy_id, "strategy_id")


def history_trade(uid: str, trade_id: str) -> str:
    return _path("users", uid, "portfolio/history/trades", trade_id, "trade_id")


def tax_lots(uid: str, symbol: str) -> str:
    """The head of the (user, symbol) lots: totals and the window of applied trades."""
    return _path("users", uid, "portfolio/lots/symbols", symbol_key(symbol), "symbol key")


def open_lots(uid: str, symbol: str) -> str:
    """The collection of the open lots, one document per lot, named by the buy's trade_id."""
    return f"{tax_lots(uid, symbol)}/open"


def open_lot(uid: str, symbol: str, trade_id: str) -> str:
    check_id(trade_id, "trade_id")
    return f"{open_lots(uid, symbol)}/{trade_id}"


def orders(tenant_id: str) -> str:
    """The tenant's order book: one document per order, named by its client_order_id."""
    return f"tenants/{check_id(tenant_id, 'tenant_id')}/orders"


def order(tenant_id: str, client_order_id: str) -> str:
    return _path("tenants", tenant_id, "orders", client_order_id, "client_order_id")


def venue_account(tenant_id: str, uid: str) -> str:
    """The user's own brokerage account at a venue (Alpaca's Broker API), as linked."""
    return _path("tenants", tenant_id, "venue_accounts", uid, "uid")


def venue_account_owner(venue: str, account_id: str) -> str:
    """Whose a venue account is: one document per account, created once, so no two users
    (of any tenants) share it."""
    return f"venue_account_owners/{check_id(f'{venue}-{account_id}', 'venue account id')}"


def execution_issue(tenant_id: str, issue_id: str) -> str:
    """What could not be placed for the tenant (an order, a fill), listed for its admins."""
    return _path("tenants", tenant_id, "execution_issues", issue_id, "issue_id")


def reconciliation(venue: str) -> str:
    """A reconciler's state: a venue account's cursor into its fills, or where a run's pages
    of orders stopped (stores/order_pages)."""
    return f"reconciliation/{check_id(venue, 'venue')}"


def user_drift(venue: str, tenant_id: str, uid: str) -> str:
    """One user's drift between their venue account and their account of record."""
    key = check_id(f"{check_id(tenant_id, 'tenant_id')}-{check_id(uid, 'uid')}", "user key")
    return f"{reconciliation(venue)}/user_drift/{key}"


def unmatched_fills(venue: str) -> str:
    """The venue fills the order book cannot place (no such order, or beyond its qty)."""
    return f"{reconciliation(venue)}/unmatched_fills"


def unmatched_fill(venue: str, fill_id: str) -> str:
    return f"{unmatched_fills(venue)}/{check_id(fill_id, 'venue fill id')}"


def venue_order(venue: str, broker_order_id: str) -> str:
    """Which order a venue's order id is: the reconciler's point lookup for a venue fill."""
    return f"{reconciliation(venue)}/orders/{check_id(broker_order_id, 'venue order id')}"


def legacy_marker_search() -> str:
    """The sweep's search for unmirrored markers written before they had a shard: when it
    last found one, and whether it is retired (stores/unmirrored.py)."""
    return "sweeps/unmirrored_legacy"


def paper_account(uid: str) -> str:
    """The user's account of record on the paper venue: cash, margin, realized P&L."""
    check_id(uid, "uid")
    return f"users/{uid}/portfolio/account"


def positions(uid: str) -> str:
    check_id(uid, "uid")
    return f"users/{uid}/portfolio/positions/symbols"


def position(uid: str, symbol: str) -> str:
    return _path("users", uid, "portfolio/positions/symbols", symbol_key(symbol), "symbol key")


def paper_order_reads(tenant_id: str, uid: str) -> list[str]:
    """What every paper order reads before it commits, besides its rate buckets: the tenant's,
    the user's and the venues' trading states, the tenant's limits and the user's account. An
    execution's one commit reads them in one round trip (stores/one_commit.py)."""
    return [
        tenant_trading_state(tenant_id),
        user_trading_state(tenant_id, uid),
        venue_trading_states(tenant_id),
        tenant_limits(tenant_id),
        paper_account(uid),
    ]


@dataclass(frozen=True)
class OrderPaths:
    """Every document one order may write: its execution claim, order, ledger trade, history
    record, lots head and a buy's open lot, and the paper account and position (the trade_id
    is the client_order_id)."""

    execution_claim: str
    order: str
    ledger_trade: str
    history_trade: str
    tax_lots: str
    open_lot: str
    paper_account: str
    position: str

    def all(self) -> list[str]:
        return [getattr(self, field.name) for field in fields(self)]


def order_paths(tenant_id: str, uid: str, client_order_id: str, symbol: str) -> OrderPaths:
    """The order's paths, each id checked once. Raises InvalidIdentifier on a bad id."""
    check_id(tenant_id, "tenant_id")
    check_id(uid, "uid")
    check_id(client_order_id, "client_order_id")
    key = check_id(symbol_key(symbol), "symbol key")
    tenant, portfolio = f"tenants/{tenant_id}", f"users/{uid}/portfolio"
    lots = f"{portfolio}/lots/symbols/{key}"
    return OrderPaths(
        execution_claim=f"{tenant}/executions/{client_order_id}",
        order=f"{tenant}/orders/{client_order_id}",
        ledger_trade=f"{tenant}/ledger_trades/{client_order_id}",
        history_trade=f"{portfolio}/history/trades/{client_order_id}",
        tax_lots=lots,
        open_lot=f"{lots}/open/{client_order_id}",
        paper_account=f"{portfolio}/account",
        position=f"{portfolio}/positions/symbols/{key}",
    )


def order_documents(tenant_id: str, uid: str, client_order_id: str, symbol: str) -> list[str]:
    """Every document an order may write (OrderPaths), in its order.
    Raises InvalidIdentifier on a bad id."""
    return order_paths(tenant_id, uid, client_order_id, symbol).all()


_PARENT_NAMES = {"tenants": "tenant_id", "users": "uid"}


def _path(root: str, parent_id: str, collection: str, doc_id: str, doc_name: str) -> str:
    check_id(parent_id, _PARENT_NAMES[root])
    check_id(doc_id, doc_name)
    return f"{root}/{parent_id}/{collection}/{doc_id}"
