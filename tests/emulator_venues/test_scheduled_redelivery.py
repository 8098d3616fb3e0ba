"""A runscheduledstrategy task whose runs did not finish is delivered again by the tasks
emulator, with the backoff of the function's retryConfig, and nothing is placed twice.

The task is enqueued as the tick enqueues it (task_queue.enqueue, the tick's task id). The
Alpaca fake loses both answers of the first delivery: one order is placed but its answer
comes after the client's timeout and the lookup by client_order_id does not show it yet; the
other meets a 500 before it is placed. Both end `unknown`, so the task raises; the queue
delivers it again minBackoffSeconds later (10 s, main.py), and the second delivery first asks
Alpaca for each order left unknown by its client_order_id: the placed one is found and taken as
it is (nothing decided or sent again), the other is not, and is placed.

Beside it, a malformed task is refused once and never delivered again: the function answers it
2xx, since the queue (Cloud Tasks, and the emulator: taskQueue.js) retries any other answer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from smart_routing.domain.orders import client_order_id_for
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    TASK_FUNCTION,
    scheduled_idempotency_key,
    strategy_task_id,
    task_payload,
)
from smart_routing_firebase.platform import task_queue
from tests.emulator_venues.conftest import LOG_PATH
from tools.emulator_client import run_scheduled
from tools.emulator_logs import log_records
from tools.fakes.http import Fault
from tools.scheduled_fanout import task_runs
from tools.waiting import wait_until

TICK = datetime(2026, 3, 9, 15, 5, tzinfo=UTC)
CONFIG_ID = "buy-two"
SYMBOLS = ("KO", "PEP")  # no other test trades them
VENUE_TIMEOUT_S = 2  # EXEC_VENUE_TIMEOUT_S in conftest.py
# minBackoffSeconds (10) after the first delivery failed, plus two deliveries' own time.
REDELIVERY_WAIT_S = 90.0


def wait_for_deliveries(db: Any, task_id: str, deliveries: int) -> dict[str, Any]:
    """The task's run record once it holds `deliveries` deliveries whose last one finished
    everything; fails with the record as it last was."""

    def finished() -> dict[str, Any] | None:
        run = task_runs(db, TICK).get(task_id)
        if run and run["runs"] >= deliveries and "status_unknown" not in run["last_outcome"]:
            return run
        return None

    return wait_until(
        finished,
        REDELIVERY_WAIT_S,
        interval_s=0.5,
        describe=lambda _: f"the task's record is {task_runs(db, TICK).get(task_id)}",
    )


def posts_for(alpaca: Any, client_order_id: str) -> int:
    return sum(
        1
        for request in alpaca.server.requests_to("/v2/orders")
        if request.method == "POST" and request.body["client_order_id"] == client_order_id
    )


def test_a_task_whose_orders_ended_unknown_is_delivered_again_and_places_each_once(db, fakes):
    alpaca, _ = fakes
    tenant = f"redeliver-{uuid.uuid4().hex[:8]}"
    uid = f"{tenant}-user"
    path = f"tenants/{tenant}/strategies/{CONFIG_ID}"
    db.document(path).set({"enabled": True, "uid": uid, "strategy_id": "manual",
                           "side": "buy", "symbols": list(SYMBOLS), "qty": 1})  # fmt: skip
    trade_ids = {
        symbol: client_order_id_for(tenant, uid, scheduled_idempotency_key(CONFIG_ID, symbol, TICK))
        for symbol in SYMBOLS
    }
    task_id = strategy_task_id(TICK, path)
    # The task's runs go in the config's order: KO's order is placed and its answer lost,
    # PEP's meets a 5xx before it is placed.
    alpaca.server.inject(Fault("hang_after", "/v2/orders", method="POST",
                               seconds=VENUE_TIMEOUT_S + 1.5))  # fmt: skip
    alpaca.server.inject(Fault("status", "/v2/orders:by_client_order_id", method="GET",
                               status=404, body={"message": "order not found"}))  # fmt: skip
    alpaca.server.inject(Fault("status", "/v2/orders", method="POST", status=500))
    malformed = {"tick": f"not a time {uuid.uuid4().hex}", "config": path}
    try:
        assert task_queue.enqueue(TASK_FUNCTION, malformed, f"{task_id}-malformed") == "enqueued"
        assert task_queue.enqueue(TASK_FUNCTION, task_payload(TICK, path), task_id) == "enqueued"
        run = wait_for_deliveries(db, task_id, 2)
    finally:
        db.document(path).update({"enabled": False})

    assert run["runs"] == 2 and run["last_outcome"] == {"status_filled": 2}
    summaries = [r for r in log_records(LOG_PATH, "exec.scheduled_task_summary")
                 if r.get("task_id") == task_id]  # fmt: skip
    outcomes = [(r.get("status_unknown"), r.get("status_filled")) for r in summaries]
    assert outcomes == [(2, None), (None, 2)], summaries
    # Each order reached the venue once. The placed one was found by its client_order_id
    # before anything was decided again, so it was sent once; the other was sent again under
    # its one client_order_id.
    for symbol, trade_id in trade_ids.items():
        assert alpaca.orders[trade_id]["symbol"] == symbol
    assert [posts_for(alpaca, trade_ids[symbol]) for symbol in SYMBOLS] == [1, 2]
    # Each fill reaches the ledger once (the found one from the venue's fills).
    assert run_scheduled("reconcile_venues").status_code == 200
    ledger = [d.to_dict() for d in db.collection(f"tenants/{tenant}/ledger_trades").stream()]
    assert sorted((t["client_order_id"], t["qty"]) for t in ledger) == sorted(
        (trade_id, 1) for trade_id in trade_ids.values()
    )
    claims = db.collection(f"tenants/{tenant}/executions").stream()
    assert {c.id: c.get("state") for c in claims} == dict.fromkeys(trade_ids.values(), "done")
    # The malformed task was enqueued first and has the same backoff: had it been answered
    # anything but 2xx, its second delivery would have come before the task's above.
    refused = [r for r in log_records(LOG_PATH, "exec.task_refused")
               if malformed["tick"] in r.get("error", "")]  # fmt: skip
    assert [(r["function"], r["severity"]) for r in refused] == [(TASK_FUNCTION, "ERROR")]
