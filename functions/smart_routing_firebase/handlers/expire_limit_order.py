"""The expirelimitorder task: a fallback limit order's time to live has come."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smart_routing_firebase.handlers.reconcile_new_order import order_reconciler
from smart_routing_firebase.platform.services import services
from smart_routing_firebase.reconciliation.limit_expiry import LimitExpiry, run_expiry_task


def handle_expiry_task(data: Any, now: datetime | None = None) -> str:
    """The task function's body, on the instance's services (see `run_expiry_task`): after
    the cancel, that order alone is reconciled (its end, and any fill that raced it)."""
    now = now or datetime.now(UTC)
    svc = services()
    expiry = LimitExpiry(svc.db, svc.venues.broker, svc.venues.paper, now)
    return run_expiry_task(
        expiry,
        data,
        lambda: order_reconciler().reconcile(data["tenant_id"], data["client_order_id"], now),
    )
