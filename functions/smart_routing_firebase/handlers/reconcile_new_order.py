"""The reconcile_new_order trigger: a newly recorded working order gets its expiry task (a
fallback limit) and its venue reconciled at once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smart_routing.domain.orders import WORKING_STATUSES
from smart_routing_firebase.handlers.reconcile_venues import handle_reconcile
from smart_routing_firebase.reconciliation.limit_expiry import schedule_expiry


def handle_order_created(data: dict[str, Any] | None) -> Counter[str]:
    """Right after a submission that did not fill at once: reconcile that order's venue."""
    if data is None or data.get("status") not in {s.value for s in WORKING_STATUSES}:
        return Counter()
    schedule_expiry(data)
    return handle_reconcile()
