"""The unlink_venue_account callable: a tenant's admin ends a user's link to their brokerage
account at Alpaca (Broker API), so the user can be linked again and the account can go to
someone else. Refused while the user has orders there that can still fill."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError
from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing_firebase.platform.app import firestore_client
from smart_routing_firebase.platform.callable_data import payload_of
from smart_routing_firebase.platform.tenant_admin import (
    account_uuid,
    checked_uid,
    tenant_admin,
    tenant_user,
)
from smart_routing_firebase.reconciliation.user_drift import recorded
from smart_routing_firebase.stores.venue_accounts import Unlink, UnlinkRefused, unlink_account

REFUSALS = {
    UnlinkRefused.NO_LINK: FunctionsErrorCode.NOT_FOUND,
    UnlinkRefused.OTHER_ACCOUNT: FunctionsErrorCode.FAILED_PRECONDITION,
    UnlinkRefused.OPEN_ORDERS: FunctionsErrorCode.FAILED_PRECONDITION,
    UnlinkRefused.CHANGED: FunctionsErrorCode.ABORTED,
}


class UnlinkVenueAccountPayload(BaseModel):
    """`account_id` is the account the admin means to unlink: a link that names another is
    left alone (it changed since the admin looked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uid: Annotated[str, Field(strict=True, min_length=1, max_length=128)]
    venue: Literal["alpaca"]
    account_id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]
    reason: Annotated[str, Field(strict=True, max_length=500)] = ""


def handle_unlink_venue_account(request: CallableRequest) -> dict[str, Any]:
    admin_uid, tenant_id = tenant_admin(request, "unlink venue accounts",
                                        "unlinks venue accounts")  # fmt: skip
    payload = payload_of(UnlinkVenueAccountPayload, request.data)
    uid = checked_uid(payload.uid)
    account_id = account_uuid(payload.account_id)
    # A user deleted from Auth may still be unlinked: the link is under the caller's tenant.
    tenant_user(uid, tenant_id, missing_ok=True)
    unlink = Unlink(tenant_id, uid, payload.venue, account_id, admin_uid, payload.reason)
    db = firestore_client()
    try:
        entry = unlink_account(db, unlink)
    except UnlinkRefused as exc:
        raise HttpsError(REFUSALS[exc.why], str(exc)) from exc
    # What the user still holds of record at the venue stays theirs: the admin is told, as it
    # counts against the next account linked (after a transfer it is there; else it drifts).
    held = {symbol: float(qty) for symbol, qty in sorted(recorded(db, uid, payload.venue).items())
            if qty != 0}  # fmt: skip
    logs.log_event(logs.LogEvent.VENUE_ACCOUNT_UNLINKED, tenant_id=tenant_id, uid=uid,
                   venue=payload.venue, account_id=account_id, by=admin_uid,
                   reason=payload.reason, audit_id=entry["audit_id"],
                   positions_of_record=held)  # fmt: skip
    return {"uid": uid, "tenant_id": tenant_id, "venue": payload.venue,
            "account_id": account_id, "unlinked": True, "audit_id": entry["audit_id"],
            "positions_of_record": held}  # fmt: skip
