"""A tenant's notional caps in Firestore (the engine's OrderCaps port).

tenants/{t}/settings/limits holds the caps (domain/order_limits.py), written by the platform
alone (firestore.rules lets no client write it). The user's notional per UTC day is kept at
tenants/{t}/daily_notional/{day}/users/{uid}: `totals` by account currency, and one document
per order counted under it (`orders/{client_order_id}`), created in the guarded batch that
adds the order's notional (stores/guarded_writes.py), so an execution run again counts its
order once. An order counts when it is admitted to go to the venue, whatever the venue then
makes of it. A paper execution counts in its one commit (stores/one_commit.py), with the
limits read in its first round trip: a commit refused has counted nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.cloud.firestore import Client

from smart_routing.domain.money import ZERO, round_money, to_decimal
from smart_routing.domain.order_limits import TenantLimits
from smart_routing.domain.orders import AccountOwner
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.guarded_writes import GuardedBatch, read_decide_write
from smart_routing_firebase.stores.one_commit import pending


class FirestoreOrderCaps:
    def __init__(self, db: Client) -> None:
        self.db = db

    def admit(
        self,
        owner: AccountOwner,
        notional: Decimal,
        currency: str,
        client_order_id: str,
        day: date,
        reserve: bool,
    ) -> str | None:
        limits = read_limits(self.db, owner.tenant_id)
        if limits.max_user_daily_notional is None:
            return limits.cap_problem(notional, currency)
        day_text = day.isoformat()
        total_ref = self.db.document(paths.daily_notional(owner.tenant_id, day_text, owner.uid))
        if not reserve:  # a dry run: what the order would do, counting nothing
            return limits.cap_problem(notional, currency, _total(total_ref.get(), currency))
        order_ref = self.db.document(
            paths.daily_notional_order(owner.tenant_id, day_text, owner.uid, client_order_id)
        )
        counted = {"notional": float(notional), "currency": currency, "at": datetime.now(UTC)}

        def decide(
            found: dict[str, Any], put: Callable[[Any, Any, dict[str, Any]], None]
        ) -> str | None:
            if found[order_ref.path].exists:
                return None  # counted by an earlier run of this order
            seen = found[total_ref.path]
            used = _total(seen, currency)
            problem = limits.cap_problem(notional, currency, used)
            if problem is None:
                totals = {**_totals(seen), currency: float(round_money(used + notional, currency))}
                put(total_ref, seen, {"totals": totals, "day": day_text})
                put(order_ref, None, counted)
            return problem

        commit = pending()
        if commit is not None:  # counted in the execution's commit: refused, counted nothing
            found = commit.read_together([total_ref, order_ref], also=[])
            return decide(found, lambda ref, _seen, data: commit.replace_if_unchanged(ref, data))

        def attempt(batch: GuardedBatch) -> str | None:
            found = {s.reference.path: s for s in self.db.get_all([total_ref, order_ref])}
            return decide(found, batch.put)

        return read_decide_write(self.db, attempt)


def read_limits(db: Client, tenant_id: str) -> TenantLimits:
    """Raises UnreadableLimits when the document is malformed."""
    ref = db.document(paths.tenant_limits(tenant_id))
    commit = pending()  # in an execution's commit: as its first round trip read it
    snapshot = ref.get() if commit is None else commit.read_together([ref], also=[])[ref.path]
    return TenantLimits.parse(snapshot.to_dict() if snapshot.exists else None)


def _totals(snapshot: Any) -> dict[str, Any]:
    if snapshot is None or not snapshot.exists:
        return {}
    return dict((snapshot.to_dict() or {}).get("totals") or {})


def _total(snapshot: Any, currency: str) -> Decimal:
    value = _totals(snapshot).get(currency)
    return ZERO if value is None else to_decimal(value, f"daily notional in {currency}")
