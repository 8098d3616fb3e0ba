"""Many users linked to their own Alpaca accounts at the Broker API fake, and waiting for a
reconcile run's account tasks to have run: the reconciler's fan-out test and bench share them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from smart_routing_firebase.reconciliation.account_fanout import account_task, run_id
from smart_routing_firebase.stores import paths, reconcile_runs
from smart_routing_firebase.stores.reconcile_runs import ACCOUNT_TASKS
from tools.waiting import wait_until

VENUE = "alpaca"
BATCH = 400


def seed_links(
    db: Any, broker: Any, tenant: str, count: int, symbol: str
) -> list[tuple[str, str, str]]:
    """`count` users of `tenant`, each linked to a new account at the fake, as the admin's
    link writes them: (uid, account id, link path). A third hold `symbol` both at the venue and
    on record (in step), a third only at the venue (drifted), a third nothing."""
    links, writes = [], []
    for n in range(count):
        uid, account_id = f"{tenant}-u{n}", broker.add_account()
        link_path = paths.venue_account(tenant, uid)
        entry = {"uid": uid, "tenant_id": tenant, "venue": VENUE, "account_id": account_id}
        writes += [(link_path, {**entry, "linked_by": "test", "linked_at": datetime.now(UTC)}),
                   (paths.venue_account_owner(VENUE, account_id), entry)]  # fmt: skip
        if n % 3 in (0, 1):
            broker.extra_positions[(account_id, symbol)] = Decimal(2)
        if n % 3 == 0:
            writes.append((paths.position(uid, symbol),
                           {"symbol": symbol, "venue": VENUE, "qty": 2}))  # fmt: skip
        links.append((uid, account_id, link_path))
    for start in range(0, len(writes), BATCH):
        batch = db.batch()
        for path, data in writes[start : start + BATCH]:
            batch.set(db.document(path), data)
        batch.commit()
    return links


def unlink(db: Any, links: list[tuple[str, str, str]]) -> None:
    """So that no later run reconciles them."""
    for start in range(0, len(links), BATCH // 2):
        batch = db.batch()
        for _, account_id, link_path in links[start : start + BATCH // 2]:
            batch.delete(db.document(link_path))
            batch.delete(db.document(paths.venue_account_owner(VENUE, account_id)))
        batch.commit()


def wait_for_accounts(
    db: Any, run: datetime, links: list[tuple[str, str, str]], timeout_s: float = 300.0
) -> dict[str, dict[str, Any]]:
    """Poll until every link's account task has recorded a run for `run`; their records, by
    link path. Fails with how many are missing."""
    wanted = {account_task(run, VENUE, path, account)[0]: path for _, account, path in links}

    def all_ran() -> dict[str, dict[str, Any]] | None:
        records = reconcile_runs.task_records(db, run_id(run), ACCOUNT_TASKS)
        if wanted.keys() - records.keys():
            return None
        return {wanted[task]: records[task] for task in wanted}

    def missing(_: object) -> str:
        records = reconcile_runs.task_records(db, run_id(run), ACCOUNT_TASKS)
        return f"{len(wanted.keys() - records.keys())} of {len(wanted)} account tasks had not run"

    return wait_until(all_ran, timeout_s, interval_s=0.5, describe=missing)


def positions_requests(broker: Any, account_id: str) -> int:
    """The fake's positions requests for the account."""
    return len(broker.server.requests_to(f"/v1/trading/accounts/{account_id}/positions"))
