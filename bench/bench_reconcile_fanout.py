"""A reconcile run with 500 users linked to their own Alpaca accounts (EXEC_ALPACA_API=broker),
on the emulators: reconcile_venues over HTTP does the firm-wide work (the activity stream,
limit expiry, order-refresh pages, markouts) and enqueues the run's first page of links on
reconcilevenueaccount; the pages enqueue one task per account, each reading that account's
positions at the Broker API fake once and writing the user's drift.

reconcile_tick_return_s        from the run's request to its answer: the firm-wide work and one
                               page task enqueued, whatever the number of accounts
reconcile_accounts_all_ran_s   from the run's request until every account's task has recorded
                               its run (5 pages of 100 links, 500 account tasks)
reconcile_accounts_per_s       500 over that
reconcile_positions_requests_per_task
                               positions requests the venue had for these accounts, per account
                               task run (over every run: the emulator starts runs of its own)
reconcile_dispatch_limit       the queue's max_concurrent_dispatches on the emulator (each task
                               running at once is a Python worker process there)
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from smart_routing.market.sessions import Session
from smart_routing_firebase.stores.reconcile_runs import ACCOUNT_TASKS
from tools.account_fanout import positions_requests, seed_links, unlink, wait_for_accounts
from tools.emulator_client import run_scheduled
from tools.emulators import ROOT, client_environment, functions_overrides, running_emulators
from tools.fakes.alpaca import FakeAlpaca
from tools.fakes.alpaca_broker import FakeAlpacaBroker

ACCOUNTS = 500
DISPATCH_LIMIT = 4
KEYS = {  # a broker deployment needs no Trading API keys
    "ALPACA_BROKER_API_KEY": "CKBENCHBROKER0001",
    "ALPACA_BROKER_SECRET_KEY": "bench-broker-secret-0001",
}


def bench_reconcile_fanout() -> dict[str, float]:
    broker_keys = (KEYS["ALPACA_BROKER_API_KEY"], KEYS["ALPACA_BROKER_SECRET_KEY"])
    market = FakeAlpaca(keys=broker_keys, basic_auth=True).start()
    broker = FakeAlpacaBroker(broker_keys).start()
    env = {"EXEC_ALPACA_API": "broker", "ALPACA_BROKER_URL": broker.url,
           "ALPACA_DATA_URL": market.url,
           "EXEC_VENUE_TIMEOUT_S": "2",
           "RECONCILEVENUEACCOUNT_MAX_CONCURRENT_DISPATCHES": str(DISPATCH_LIMIT),
           "RECONCILEVENUEACCOUNT_MAX_DISPATCHES_PER_SECOND": "500",
           **{f"EXEC_SESSION_MULTIPLIER_{s.value.upper()}": "1" for s in Session}}  # fmt: skip
    try:
        with (
            client_environment(),
            functions_overrides(env, KEYS),
            running_emulators(ROOT / "emulator-data", ROOT / ".cache" / "emulators-bench.log"),
        ):
            return _timed_run(broker)
    finally:
        market.server.stop()
        broker.server.stop()


def _timed_run(broker: FakeAlpacaBroker) -> dict[str, float]:
    from smart_routing_firebase.platform.app import firestore_client

    db = firestore_client()
    # Runs a minute or more back: the emulator's own runs (at the current second, whenever it
    # starts a worker) never share their run id. The first starts the worker, before the links.
    now = datetime.now(UTC).replace(microsecond=0)
    assert run_scheduled("reconcile_venues", now - timedelta(minutes=2)).ok
    links = seed_links(db, broker, f"bench-{uuid.uuid4().hex[:6]}", ACCOUNTS, "IBM")
    run = now - timedelta(minutes=1)
    try:
        started = time.perf_counter()
        response = run_scheduled("reconcile_venues", run)
        returned = time.perf_counter() - started
        assert response.ok, response.text
        wait_for_accounts(db, run, links, timeout_s=900)
        all_ran = time.perf_counter() - started
        requests = sum(positions_requests(broker, account) for _, account, _ in links)
        deliveries = _deliveries(db, {path for _, _, path in links})
    finally:
        unlink(db, links)
    return {
        "reconcile_tick_return_s": returned,
        "reconcile_accounts_all_ran_s": all_ran,
        "reconcile_accounts_per_s": len(links) / all_ran,
        "reconcile_positions_requests_per_task": requests / deliveries,
        "reconcile_dispatch_limit": DISPATCH_LIMIT,
    }


def _deliveries(db: Any, link_paths: set[str]) -> int:
    """Account task runs, over every reconcile run, of these links."""
    tasks = db.collection_group(ACCOUNT_TASKS).where(filter=FieldFilter("venue", "==", "alpaca"))
    return sum(task.get("runs") for task in tasks.stream() if task.get("link") in link_paths)


if __name__ == "__main__":
    for name, value in bench_reconcile_fanout().items():
        print(f"BENCH {name}={value:.2f}")
