"""The kill switch in Firestore: tenants/{tenant_id}/settings/trading_state holds the tenant's
state, tenants/{tenant_id}/user_trading_states/{uid} each user's, and every change appends a
document to tenants/{tenant_id}/audit_log, in the transaction that makes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, Transaction

from smart_routing.domain.orders import AccountOwner
from smart_routing.domain.trading_state import (
    ACTIVE,
    TradingScope,
    TradingState,
    TradingStatus,
    stricter,
)
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.one_commit import pending


class FirestoreTradingStates:
    """The engine's TradingStates port: the tenant's, the user's and the tenant's venues'
    states in one read, on every order (a kill switch acts on the next order, on every
    instance)."""

    def __init__(self, db: Client) -> None:
        self.db = db

    def status_of(self, owner: AccountOwner) -> TradingStatus:
        tenant_ref = self.db.document(paths.tenant_trading_state(owner.tenant_id))
        user_ref = self.db.document(paths.user_trading_state(owner.tenant_id, owner.uid))
        venues_ref = self.db.document(paths.venue_trading_states(owner.tenant_id))
        states = [tenant_ref, user_ref, venues_ref]
        commit = pending()
        if commit is None:
            found = {s.reference.path: s for s in self.db.get_all(states)}
        else:
            # Inside a paper execution's commit: read once per attempt, with the account the
            # gate reads next, in one round trip (the account is then guarded as read here).
            also = paths.paper_order_reads(owner.tenant_id, owner.uid)
            found = commit.read_together(states, also=[self.db.document(p) for p in also])
        tenant = _status(found.get(tenant_ref.path), TradingScope.TENANT)
        user = _status(found.get(user_ref.path), TradingScope.USER)
        venues = venue_statuses(found.get(venues_ref.path))
        return replace(stricter(tenant, user), venues=venues)


def _status(snapshot: Any, scope: TradingScope) -> TradingStatus:
    if snapshot is None or not snapshot.exists:
        return ACTIVE
    data = snapshot.to_dict() or {}
    return TradingStatus(TradingState(data["state"]), scope, data.get("reason", ""))


def venue_statuses(snapshot: Any) -> tuple[TradingStatus, ...]:
    """The tenant's venues whose state is not active."""
    if snapshot is None or not snapshot.exists:
        return ()
    venues = (snapshot.to_dict() or {}).get("venues") or {}
    statuses = (
        TradingStatus(TradingState(v["state"]), TradingScope.VENUE, v.get("reason", ""), name)
        for name, v in sorted(venues.items())
    )
    return tuple(s for s in statuses if s.state is not TradingState.ACTIVE)


def change_state(
    db: Client,
    tenant_id: str,
    uid: str | None,
    state: TradingState,
    reason: str,
    by: str,
    venue: str | None = None,
) -> dict[str, Any]:
    """Set the tenant's state (`uid` None), its state on a venue (`venue`) or a user's, and
    append the change to the audit log in the same transaction. Setting the state it already
    has changes and records nothing. Returns the audit entry (with `changed` False when
    nothing changed)."""
    scope = TradingScope.TENANT if uid is None else TradingScope.USER
    if venue is not None:
        path = paths.venue_trading_states(tenant_id)
    elif uid is None:
        path = paths.tenant_trading_state(tenant_id)
    else:
        path = paths.user_trading_state(tenant_id, uid)
    ref = db.document(path)
    audit_ref = db.collection(paths.audit_log(tenant_id)).document()

    @firestore.transactional
    def run(transaction: Transaction) -> dict[str, Any]:
        before = ref.get(transaction=transaction).to_dict() or {}
        current = before if venue is None else (before.get("venues") or {}).get(venue) or {}
        was = current.get("state", TradingState.ACTIVE.value)
        at = datetime.now(UTC)
        entry = {
            "action": "trading_state_changed", "scope": scope.value, "uid": uid,
            "from": was, "to": state.value, "reason": reason, "by": by, "at": at,
            **({"venue": venue} if venue is not None else {}),
        }  # fmt: skip
        if was == state.value:
            return {**entry, "changed": False}
        record = {"state": state.value, "reason": reason, "by": by, "at": at}
        if venue is None:
            transaction.set(ref, record)
        else:
            transaction.set(ref, {"venues": {venue: record}}, merge=True)
        transaction.create(audit_ref, entry)
        return {**entry, "changed": True, "audit_id": audit_ref.id}

    return run(db.transaction())
