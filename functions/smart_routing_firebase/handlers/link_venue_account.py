"""The link_venue_account callable: a tenant's admin links one of the tenant's users to their
own brokerage account at Alpaca (Broker API), after checking at the venue that the account
exists and is ACTIVE."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError
from pydantic import BaseModel, ConfigDict, Field

from smart_routing import logs
from smart_routing.domain.errors import ConfigError, VenueUnavailable
from smart_routing_firebase.platform.app import firestore_client
from smart_routing_firebase.platform.callable_data import payload_of
from smart_routing_firebase.platform.services import Services, services
from smart_routing_firebase.platform.tenant_admin import (
    account_uuid,
    checked_uid,
    tenant_admin,
    tenant_user,
)
from smart_routing_firebase.stores.venue_accounts import LinkRefused, link_account


class LinkVenueAccountPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uid: Annotated[str, Field(strict=True, min_length=1, max_length=128)]
    venue: Literal["alpaca"]
    account_id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]


def handle_link_venue_account(request: CallableRequest) -> dict[str, Any]:
    admin_uid, tenant_id = _admin(request)
    payload = payload_of(LinkVenueAccountPayload, request.data)
    uid = checked_uid(payload.uid)
    account_id = account_uuid(payload.account_id)
    tenant_user(uid, tenant_id)
    broker = _services().venues.alpaca_per_user
    if broker is None:
        raise HttpsError(
            FunctionsErrorCode.FAILED_PRECONDITION,
            "this deployment trades Alpaca on one platform account (EXEC_ALPACA_API=trading): "
            "there are no per-user accounts to link",
        )
    _usable_at_venue(broker, account_id)
    try:
        entry = link_account(
            firestore_client(), tenant_id, uid, payload.venue, account_id, by=admin_uid
        )
    except LinkRefused as exc:
        raise HttpsError(FunctionsErrorCode.ALREADY_EXISTS, str(exc)) from exc
    if entry["changed"]:
        logs.log_event(logs.LogEvent.VENUE_ACCOUNT_LINKED, tenant_id=tenant_id, uid=uid,
                       venue=payload.venue, account_id=account_id, by=admin_uid)  # fmt: skip
    return entry


def _usable_at_venue(broker: Any, account_id: str) -> None:
    """The account must exist at Alpaca and be ACTIVE; else an error, and nothing is written."""
    try:
        account = broker.brokerage_account(account_id)
    except VenueUnavailable as exc:
        raise HttpsError(
            FunctionsErrorCode.UNAVAILABLE, f"alpaca could not be asked: {exc}"
        ) from exc
    if account is None:
        raise HttpsError(
            FunctionsErrorCode.NOT_FOUND, f"account_id: alpaca has no account {account_id}"
        )
    status = str(getattr(account.status, "value", account.status))
    if status != "ACTIVE":
        raise HttpsError(
            FunctionsErrorCode.FAILED_PRECONDITION,
            f"account_id: alpaca account {account_id} is {status}, not ACTIVE",
        )


def _admin(request: CallableRequest) -> tuple[str, str]:
    return tenant_admin(request, "link venue accounts", "links venue accounts")


def _services() -> Services:
    try:
        return services()
    except ConfigError as exc:
        logs.log_event(logs.LogEvent.CONFIG_ERROR, severity="ERROR", error=str(exc))
        raise HttpsError(FunctionsErrorCode.INTERNAL, "the service is misconfigured") from exc
