"""The reconcile_new_order trigger: an order first recorded working gets its expiry task (a
fallback limit) and is reconciled at once, that order alone."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smart_routing import logs
from smart_routing.domain.orders import WORKING_STATUSES
from smart_routing_firebase.reconciliation.limit_expiry import schedule_expiry
from smart_routing_firebase.reconciliation.one_order import OrderReconciler
from smart_routing_firebase.reconciliation.order_refresh import now_or_current


def handle_order_written(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> Counter[str]:
    """Right after a submission that did not fill at once: reconcile that order, with the
    venue calls for it only (reconciliation/one_order.py). An order becomes working once,
    when first recorded as the venue reports it (a real venue's document exists `submitting`
    before that); later writes to it change nothing here."""
    if _working(before) or not _working(after):
        return Counter()
    assert after is not None
    schedule_expiry(after)
    tally = order_reconciler().reconcile(
        after["tenant_id"], after["client_order_id"], now_or_current(None)
    )
    logs.log_counts(logs.LogEvent.RECONCILE_SUMMARY, tally, scope="order",
                    client_order_id=after["client_order_id"])  # fmt: skip
    return tally


def order_reconciler() -> OrderReconciler:
    from smart_routing_firebase.platform.services import services

    svc = services()
    return OrderReconciler(svc.db, svc.venues.broker, svc.venues.paper, svc.paper_accounts,
                           svc.venues.fill_sources, svc.venues.instruments,
                           svc.config.fees)  # fmt: skip


def _working(data: dict[str, Any] | None) -> bool:
    return data is not None and data.get("status") in {s.value for s in WORKING_STATUSES}
