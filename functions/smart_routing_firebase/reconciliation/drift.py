"""Drift between what the users hold at a real venue and what the venue's account holds.

The venue's account is the platform's, shared by its users, so each symbol's venue position
should be the sum of the users' own positions there (users/*/portfolio/positions/symbols/*
with that `venue`). The report, at reconciliation/{venue}/drift/latest, lists per symbol the
users' total, the venue's qty and the difference (venue - users); any symbol that differs is
named in a RECONCILE_DRIFT log event.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud.firestore import Client
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing.ports import Broker
from smart_routing_firebase.stores import paths

POSITIONS_GROUP = "symbols"  # users/{uid}/portfolio/positions/symbols/{symbol key}


def users_total(db: Client, venue: str) -> dict[str, Decimal]:
    """Each symbol's qty summed over the users' positions at `venue`."""
    query = db.collection_group(POSITIONS_GROUP).where(filter=FieldFilter("venue", "==", venue))
    totals: dict[str, Decimal] = {}
    for snapshot in query.stream():
        data = snapshot.to_dict()
        assert data is not None  # a query streams only documents that exist
        totals[data["symbol"]] = totals.get(data["symbol"], ZERO) + to_decimal(data["qty"], "qty")
    return totals


def venue_held(broker: Broker, venue: str) -> dict[str, Decimal]:
    """The venue account's own positions, by symbol (one account read)."""
    classes = [c for c in AssetClass if broker.venue_for(c) == venue]
    if not classes:
        return {}
    account = broker.get_account(classes[0])
    return {symbol: held.qty for symbol, held in account.positions.items()}


def drift_rows(users: dict[str, Decimal], held: dict[str, Decimal]) -> list[dict[str, Any]]:
    rows = []
    for symbol in sorted(set(users) | set(held)):
        mine, theirs = users.get(symbol, ZERO), held.get(symbol, ZERO)
        rows.append({"symbol": symbol, "users_qty": float(mine), "venue_qty": float(theirs),
                     "difference": float(theirs - mine)})  # fmt: skip
    return rows


class DriftReport:
    """One venue's drift report, run as a reconciler step."""

    def __init__(self, db: Client, venue: str, broker: Broker) -> None:
        self.db, self.venue, self.broker = db, venue, broker

    def run(self) -> Counter[str]:
        rows = drift_rows(users_total(self.db, self.venue), venue_held(self.broker, self.venue))
        drifted = [row for row in rows if row["difference"] != 0]
        self.db.document(f"{paths.reconciliation(self.venue)}/drift/latest").set(
            {"venue": self.venue, "symbols": rows, "drifted": [r["symbol"] for r in drifted],
             "as_of": datetime.now(UTC)}
        )  # fmt: skip
        if drifted:
            logs.log_event(logs.LogEvent.RECONCILE_DRIFT, severity="WARNING", venue=self.venue,
                           drift=drifted)  # fmt: skip
        return Counter({"symbols": len(rows), "drifted": len(drifted)})
