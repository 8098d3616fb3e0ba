"""Per-user drift on a venue with one account per end user (Alpaca's Broker API).

Each linked user's positions at the venue, in their own brokerage account, should equal their
account of record (users/{uid}/portfolio/positions/symbols/* with that `venue`). The report
for each user, at reconciliation/{venue}/user_drift/{tenant_id}-{uid}, lists per symbol the
record's qty, the venue's and the difference (venue - record); a user whose symbols differ is
named in a RECONCILE_DRIFT log event with their uid and account.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing_firebase.reconciliation.drift import drift_rows
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.venue_accounts import FirestoreLinkedAccounts


def recorded(db: Client, uid: str, venue: str) -> dict[str, Decimal]:
    """The user's own positions of record at `venue`, by symbol."""
    query = db.collection(paths.positions(uid)).where(filter=FieldFilter("venue", "==", venue))
    totals: dict[str, Decimal] = {}
    for snapshot in query.stream():
        data = snapshot.to_dict() or {}
        totals[data["symbol"]] = totals.get(data["symbol"], ZERO) + to_decimal(data["qty"], "qty")
    return totals


class UserDriftReport:
    """Every linked user's drift, run as a reconciler step. `broker`: the Broker API adapter
    (venues.alpaca.broker_api.AlpacaBrokerApi), asked for each account's positions."""

    def __init__(self, db: Client, venue: str, broker: Any) -> None:
        self.db, self.venue, self.broker = db, venue, broker

    def run(self) -> Counter[str]:
        tally: Counter[str] = Counter()
        for link in FirestoreLinkedAccounts(self.db, self.venue).linked():
            rows = self._user(link)
            tally["users"] += 1
            tally["drifted"] += any(row["difference"] != 0 for row in rows)
        return tally

    def _user(self, link: dict[str, Any]) -> list[dict[str, Any]]:
        tenant_id, uid, account_id = link["tenant_id"], link["uid"], link["account_id"]
        held = {s: p.qty for s, p in self.broker.positions_of(account_id).items()}
        rows = drift_rows(recorded(self.db, uid, self.venue), held)
        drifted = [row for row in rows if row["difference"] != 0]
        self.db.document(paths.user_drift(self.venue, tenant_id, uid)).set(
            {"venue": self.venue, "tenant_id": tenant_id, "uid": uid, "account_id": account_id,
             "symbols": rows, "drifted": [r["symbol"] for r in drifted],
             "as_of": datetime.now(UTC)}
        )  # fmt: skip
        if drifted:
            logs.log_event(logs.LogEvent.RECONCILE_DRIFT, severity="WARNING", venue=self.venue,
                           tenant_id=tenant_id, uid=uid, account_id=account_id,
                           drift=drifted)  # fmt: skip
        return rows


def drift_report(db: Client, venue: str, venues: Any) -> Any:
    """The venue's drift step: per user on a per-user venue, else the pooled account's."""
    from smart_routing_firebase.reconciliation.drift import DriftReport

    per_user = venues.alpaca_per_user
    if per_user is not None and per_user.name == venue:
        return UserDriftReport(db, venue, per_user)
    return DriftReport(db, venue, venues.broker)
