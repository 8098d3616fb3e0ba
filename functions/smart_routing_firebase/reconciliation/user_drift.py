"""Per-user drift on a venue with one account per end user (Alpaca's Broker API).

Each linked user's positions at the venue, in their own brokerage account, should equal their
account of record (users/{uid}/portfolio/positions/symbols/* with that `venue`). The report
for each user, at reconciliation/{venue}/user_drift/{tenant_id}-{uid}, lists per symbol the
record's qty, the venue's and the difference (venue - record); a user whose symbols differ is
named in a RECONCILE_DRIFT log event with their uid and account. Each reconcile run writes
every linked user's report from a task of its own (reconciliation/account_fanout.py). A report
is written only while its link stands: an unlink marks the user's last report `unlinked`, and a
run that read the account before the unlink writes nothing after it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.cloud import firestore
from google.cloud.firestore import Client, Transaction
from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing import logs
from smart_routing.domain.money import ZERO, to_decimal
from smart_routing_firebase.reconciliation.drift import drift_rows
from smart_routing_firebase.stores import paths
from smart_routing_firebase.stores.venue_accounts import UNLINKING


def recorded(db: Client, uid: str, venue: str) -> dict[str, Decimal]:
    """The user's own positions of record at `venue`, by symbol."""
    query = db.collection(paths.positions(uid)).where(filter=FieldFilter("venue", "==", venue))
    totals: dict[str, Decimal] = {}
    for snapshot in query.stream():
        data = snapshot.to_dict() or {}
        totals[data["symbol"]] = totals.get(data["symbol"], ZERO) + to_decimal(data["qty"], "qty")
    return totals


def write_user_drift(
    db: Client, venue: str, broker: Any, link: dict[str, Any], run: str
) -> list[dict[str, Any]] | None:
    """One linked user's drift report, from one read of their account's positions (`broker`:
    the Broker API adapter, venues.alpaca.broker_api.AlpacaBrokerApi). `run`: the reconcile
    run that wrote it. Its rows; None when the link was ended or changed meanwhile (nothing
    written)."""
    tenant_id, uid, account_id = link["tenant_id"], link["uid"], link["account_id"]
    held = {s: p.qty for s, p in broker.positions_of(account_id).items()}
    rows = drift_rows(recorded(db, uid, venue), held)
    drifted = [row for row in rows if row["difference"] != 0]
    report = {"venue": venue, "tenant_id": tenant_id, "uid": uid, "account_id": account_id,
              "symbols": rows, "drifted": [r["symbol"] for r in drifted], "run": run,
              "as_of": datetime.now(UTC)}  # fmt: skip
    if not _write_while_linked(db, paths.venue_account(tenant_id, uid), report):
        return None
    if drifted:
        logs.log_event(logs.LogEvent.RECONCILE_DRIFT, severity="WARNING", venue=venue,
                       tenant_id=tenant_id, uid=uid, account_id=account_id,
                       drift=drifted)  # fmt: skip
    return rows


def _write_while_linked(db: Client, link_path: str, report: dict[str, Any]) -> bool:
    """The report written, in a transaction with a read of its link, if the link still names
    the report's account and no unlink is ending it. Whether it was."""
    link_ref = db.document(link_path)
    report_ref = db.document(paths.user_drift(report["venue"], report["tenant_id"], report["uid"]))

    @firestore.transactional
    def run(transaction: Transaction) -> bool:
        link = link_ref.get(transaction=transaction).to_dict() or {}
        if link.get("account_id") != report["account_id"] or UNLINKING in link:
            return False
        transaction.set(report_ref, report)
        return True

    return bool(run(db.transaction()))


def per_user_venue(venues: Any) -> Any:
    """The deployment's venue with one account per user (its Broker API adapter), or None.
    `venues`: venues.wiring.Venues."""
    return venues.alpaca_per_user
