"""The reconcile_new_order trigger: an order first recorded working gets its expiry task (a
fallback limit) and its venue reconciled at once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smart_routing.domain.orders import WORKING_STATUSES
from smart_routing_firebase.handlers.reconcile_venues import handle_reconcile
from smart_routing_firebase.reconciliation.limit_expiry import schedule_expiry


def handle_order_written(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> Counter[str]:
    """Right after a submission that did not fill at once: reconcile that order's venue. An
    order becomes working once, when first recorded as the venue reports it (a real venue's
    document exists `submitting` before that); later writes to it change nothing here."""
    if _working(before) or not _working(after):
        return Counter()
    assert after is not None
    schedule_expiry(after)
    return handle_reconcile()


def _working(data: dict[str, Any] | None) -> bool:
    return data is not None and data.get("status") in {s.value for s in WORKING_STATUSES}
