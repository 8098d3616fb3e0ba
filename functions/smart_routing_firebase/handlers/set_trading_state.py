"""The set_trading_state callable: a tenant's admin sets the tenant's, the tenant's on one
venue, or one user's trading state (active, reducing, halted), with a reason; the change is
audited and logged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from firebase_functions.https_fn import CallableRequest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from smart_routing import logs
from smart_routing.domain.trading_state import TradingState
from smart_routing_firebase.platform.app import firestore_client
from smart_routing_firebase.platform.callable_data import payload_of
from smart_routing_firebase.platform.tenant_admin import checked_uid, tenant_admin, tenant_user
from smart_routing_firebase.stores.trading_state import change_state


class SetTradingStatePayload(BaseModel):
    """The callable's `data`. Unknown fields are rejected; the tenant is the caller's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["tenant", "user"]
    uid: Annotated[str, Field(strict=True, min_length=1, max_length=128)] | None = None
    state: TradingState
    reason: Annotated[str, Field(strict=True, min_length=1, max_length=500)]
    # The tenant's state on one venue (what the venue circuit breaker sets), scope tenant only.
    venue: Literal["paper", "alpaca", "oanda"] | None = None

    @model_validator(mode="after")
    def _uid_for_user_scope(self) -> SetTradingStatePayload:
        if self.scope == "user" and self.uid is None:
            raise ValueError("uid: scope user needs the user's uid")
        if self.scope == "tenant" and self.uid is not None:
            raise ValueError("uid: scope tenant takes no uid")
        if self.scope == "user" and self.venue is not None:
            raise ValueError("venue: a venue's state is the tenant's (scope tenant)")
        return self


def handle_set_trading_state(request: CallableRequest) -> dict[str, Any]:
    admin_uid, tenant_id = _admin(request)
    payload = payload_of(SetTradingStatePayload, request.data)
    uid = None if payload.uid is None else checked_uid(payload.uid)
    if uid is not None:  # a mistyped or foreign uid must not look like a working kill switch
        tenant_user(uid, tenant_id)
    entry = change_state(
        firestore_client(), tenant_id, uid, payload.state, payload.reason, by=admin_uid,
        venue=payload.venue,
    )  # fmt: skip
    venue = {"venue": payload.venue} if payload.venue is not None else {}
    if entry["changed"]:
        logs.log_event(
            logs.LogEvent.TRADING_STATE_CHANGED, tenant_id=tenant_id, scope=entry["scope"],
            uid=uid, by=admin_uid, reason=payload.reason, **{"from": entry["from"]},
            to=entry["to"], **venue,
        )  # fmt: skip
    keys = ("scope", "uid", "from", "to", "reason", "changed")
    return {**{key: entry[key] for key in keys}, **venue}


def _admin(request: CallableRequest) -> tuple[str, str]:
    return tenant_admin(request, "set trading states", "sets trading states")
