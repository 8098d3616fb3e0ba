"""The order-rate limit at the callable's edge: an order over its user's or tenant's rate is
refused with resource-exhausted before its idempotency key is claimed (on the paper venue, in
the commit that would claim it), so nothing is placed and the key stays free for the retry."""

from __future__ import annotations

from firebase_functions.https_fn import FunctionsErrorCode, HttpsError

from smart_routing import logs
from smart_routing.config.order_guards import OrderKind
from smart_routing.domain.order_limits import UnreadableLimits
from smart_routing_firebase.platform.services import Services
from smart_routing_firebase.stores.one_commit import pending
from smart_routing_firebase.stores.order_rate import take_order_token


def admit_order(svc: Services, tenant_id: str, uid: str, dry_run: bool) -> None:
    """Raises HttpsError resource-exhausted over the rate; failed-precondition when the
    tenant's limits cannot be read (its orders are refused until they are fixed). Inside an
    execution's commit the token is taken in it, and taken again alone if another order took
    from the same bucket first (stores/one_commit.py, retakeable)."""
    commit = pending()
    if commit is None:
        _admit(svc, tenant_id, uid, dry_run)
    else:
        commit.retakeable(lambda: _admit(svc, tenant_id, uid, dry_run))


def _admit(svc: Services, tenant_id: str, uid: str, dry_run: bool) -> None:
    kind = OrderKind.DRY_RUN if dry_run or svc.config.dry_run else OrderKind.ORDER
    try:
        refusal = take_order_token(svc.db, svc.guards, tenant_id, uid, kind)
    except UnreadableLimits as exc:
        logs.log_event(
            logs.LogEvent.ORDER_LIMITS_UNREADABLE, severity="ERROR", tenant_id=tenant_id,
            error=str(exc),
        )  # fmt: skip
        raise HttpsError(FunctionsErrorCode.FAILED_PRECONDITION, str(exc)) from exc
    if refusal is None:
        return
    logs.log_event(
        logs.LogEvent.ORDER_RATE_LIMITED, severity="WARNING", tenant_id=tenant_id, uid=uid,
        kind=kind.value, retry_after_s=round(refusal.retry_after_s, 3),
    )  # fmt: skip
    raise HttpsError(FunctionsErrorCode.RESOURCE_EXHAUSTED, refusal.message)
