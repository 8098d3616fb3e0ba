"""The venue circuit breaker in Firestore (the engine's VenueBreaker port).

A tenant's failures on a venue (timeouts, 5xx, unknown outcomes) are kept at
tenants/{t}/venue_health/{venue} as `failures`, the times of those within the window. The one
that makes N within M minutes, while the tenant trades `active` on the venue, trips it: in one
guarded batch (stores/guarded_writes.py) the tenant's state on the venue
(tenants/{t}/settings/venue_states) becomes `reducing`, an audit entry by `system` is created
and the count starts again. A state already set on the venue (by an admin, or an earlier trip)
is left alone. An admin restores it with set_trading_state (scope tenant, venue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore import Client

from smart_routing import logs
from smart_routing.domain.trading_state import TradingState
from smart_routing.domain.venue_breaker import count_failure
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.guarded_writes import GuardedBatch, read_decide_write

SYSTEM = "system"  # the audit log's actor for what the platform did by itself


class FirestoreVenueBreaker:
    def __init__(self, db: Client, failures: int, window_s: float) -> None:
        self.db = db
        self.failures = failures
        self.window = timedelta(seconds=window_s)

    def record_failure(self, tenant_id: str, venue: str, failure: str) -> bool:
        health_ref = self.db.document(paths.venue_health(tenant_id, venue))
        states_ref = self.db.document(paths.venue_trading_states(tenant_id))
        audit_ref = self.db.collection(paths.audit_log(tenant_id)).document()

        def attempt(batch: GuardedBatch) -> bool:
            found = {s.reference.path: s for s in self.db.get_all([health_ref, states_ref])}
            health, states = found[health_ref.path], found[states_ref.path]
            now = datetime.now(UTC)
            count = count_failure(_failures(health), now, self.window, self.failures)
            venues = dict((states.to_dict() or {}).get("venues") or {}) if states.exists else {}
            active = (venues.get(venue) or {}).get("state", "active") == TradingState.ACTIVE
            if not (count.trips and active):
                batch.put(health_ref, health, {"failures": count.recent, "last_failure": failure})
                return False
            reason = (
                f"circuit breaker: {len(count.recent)} failures on {venue} in "
                f"{self.window.total_seconds() / 60:g} minutes (last: {failure})"
            )
            record = {"state": TradingState.REDUCING.value, "reason": reason, "by": SYSTEM,
                      "at": now}  # fmt: skip
            batch.put(health_ref, health, {"failures": [], "last_failure": failure})
            batch.put(states_ref, states, {"venues": {**venues, venue: record}})
            batch.put(audit_ref, None, {
                "action": "trading_state_changed", "scope": "tenant", "uid": None,
                "venue": venue, "from": TradingState.ACTIVE.value, "to": record["state"],
                "reason": reason, "by": SYSTEM, "at": now,
            })  # fmt: skip
            return True

        tripped = read_decide_write(self.db, attempt)
        event = (
            logs.LogEvent.VENUE_BREAKER_TRIPPED if tripped else logs.LogEvent.VENUE_FAILURE_RECORDED
        )
        logs.log_event(
            event, severity="ERROR" if tripped else "WARNING", tenant_id=tenant_id, venue=venue,
            failure=failure,
        )  # fmt: skip
        if tripped:
            logs.log_event(
                logs.LogEvent.TRADING_STATE_CHANGED, tenant_id=tenant_id, scope="tenant",
                venue=venue, uid=None, by=SYSTEM, to=TradingState.REDUCING.value,
                **{"from": TradingState.ACTIVE.value},
            )  # fmt: skip
        return tripped


def _failures(snapshot: Any) -> list[datetime]:
    if not snapshot.exists:
        return []
    return list((snapshot.to_dict() or {}).get("failures") or [])
