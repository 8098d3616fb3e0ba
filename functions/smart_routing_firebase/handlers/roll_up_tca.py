"""The TCA roll-up: tenants/{tenant_id}/tca_daily/{date}, recomputed from the day's records.

Each run rebuilds the documents of the dates still open (smart_routing.tca.daily.
dates_to_roll_up) from every decision, ledger trade and order of that date, so a redelivered
or concurrent run computes the same document from the same records: nothing is incremented.
A document is written only when its figures changed, so a run over unchanged records leaves it
as it was (its `computed_at` included).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import ValidationError

from smart_routing import logs
from smart_routing.execution.decision_record import DecisionAction, DecisionRecord
from smart_routing.portfolio.ledger import LedgerTrade
from smart_routing.tca.daily import dates_to_roll_up, roll_up
from smart_routing_firebase.stores import paths

COMPUTED_AT = "computed_at"


def roll_up_dates(db: Client, days: Iterable[date]) -> Counter[str]:
    tally: Counter[str] = Counter()
    for day in days:
        decisions = _by_tenant(db, "decisions", day, DecisionRecord, tally)
        trades = _by_tenant(db, "ledger_trades", day, LedgerTrade, tally)
        for tenant_id in sorted(decisions.keys() | trades.keys()):
            tenant_decisions, tenant_trades = decisions[tenant_id], trades[tenant_id]
            filled = _filled_orders(db, tenant_id, tenant_decisions)
            document = roll_up(day, tenant_decisions, tenant_trades, filled)
            tally["written" if _write(db, tenant_id, day, document) else "unchanged"] += 1
    return tally


def _by_tenant(
    db: Client, collection: str, day: date, model: Any, tally: Counter[str]
) -> defaultdict[str, list[Any]]:
    """The tenants' documents of `collection` with this trading date, validated; one that is
    not a valid record is counted and left out (it is not a tenant's record to guess at)."""
    found: defaultdict[str, list[Any]] = defaultdict(list)
    query = db.collection_group(collection).where(
        filter=FieldFilter("trading_date", "==", day.isoformat())
    )
    for snapshot in query.stream():
        parts = snapshot.reference.path.split("/")
        if len(parts) != 4 or parts[0] != "tenants":
            continue  # a collection of that name elsewhere
        try:
            found[parts[1]].append(model.model_validate(snapshot.to_dict()))
        except ValidationError:
            tally[f"bad_{collection}"] += 1
    return found


def _filled_orders(db: Client, tenant_id: str, decisions: list[DecisionRecord]) -> set[str]:
    """The executed decisions whose order has filled any qty, as the order book says (fills
    the reconciler recorded after the decision included): one batched read."""
    refs = [
        db.document(paths.order(tenant_id, d.client_order_id))
        for d in decisions
        if d.action is DecisionAction.EXECUTE
    ]
    if not refs:
        return set()
    return {
        snapshot.id
        for snapshot in db.get_all(refs, field_paths=["filled_qty"])
        if snapshot.exists and (snapshot.to_dict() or {}).get("filled_qty")
    }


def _write(db: Client, tenant_id: str, day: date, document: dict[str, Any]) -> bool:
    ref = db.document(paths.tca_daily(tenant_id, day.isoformat()))
    document = {**document, "tenant_id": tenant_id}
    stored = ref.get()
    if stored.exists:
        previous = stored.to_dict() or {}
        previous.pop(COMPUTED_AT, None)
        if previous == document:
            return False
    ref.set({**document, COMPUTED_AT: datetime.now(UTC)})
    return True


def handle_tca_rollup(schedule_time: datetime) -> Counter[str]:
    """The scheduled body: the dates open at the tick (and an hour before it)."""
    from smart_routing_firebase.platform.app import firestore_client

    at = schedule_time if schedule_time.tzinfo else schedule_time.replace(tzinfo=UTC)
    days = dates_to_roll_up(at)
    tally = roll_up_dates(firestore_client(), days)
    logs.log_counts(logs.LogEvent.TCA_ROLLUP_SUMMARY, tally,
                    dates=[d.isoformat() for d in days])  # fmt: skip
    return tally
