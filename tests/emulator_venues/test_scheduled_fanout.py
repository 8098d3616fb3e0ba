"""A five-minute tick of 400 strategy configs (200 tenants x 2), fanned out through the tasks
emulator to runscheduledstrategy and priced on the Alpaca fake through alpaca-py: each config
runs once, the tick's quotes are asked for once, and a tick delivered again adds nothing.

The configs are dry runs (decided, recorded, never sent): 400 fills would add 400 mirror and
800 order-trigger runs on the emulator's two cores, and the claims that keep a run from
running twice are the same either way (tests/emulator/test_scheduled_functions.py fills).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from smart_routing.domain.orders import client_order_id_for
from smart_routing_firebase.handlers.run_scheduled_strategies import (
    fan_out,
    scheduled_idempotency_key,
)
from smart_routing_firebase.stores import scheduled_ticks
from tools.emulator_client import run_scheduled
from tools.scheduled_fanout import (
    disable,
    quote_requests_for,
    seed_configs,
    task_runs,
    wait_for_tasks,
)

FUNCTION = "run_scheduled_strategies"
TICK = datetime(2026, 3, 2, 15, 5, tzinfo=UTC)
TENANTS = 200
SYMBOLS = ("IBM", "ORCL")  # no other test trades them: their quote requests are this tick's


def test_a_tick_of_400_configs_runs_each_once_on_one_quote_request(db, fakes):
    alpaca, _ = fakes
    # The emulator runs a scheduled function's body at the current time whenever it starts a
    # worker for it: started now, before the configs exist, that run is not this test's.
    assert run_scheduled(FUNCTION, TICK - timedelta(minutes=5)).status_code == 200
    prefix = f"fan-{uuid.uuid4().hex[:6]}"
    paths = seed_configs(db, prefix, TENANTS, SYMBOLS)
    try:
        response = run_scheduled(FUNCTION, TICK)
        assert response.status_code == 200, response.text
        runs = wait_for_tasks(db, TICK, paths, timeout_s=600)

        assert quote_requests_for(alpaca, SYMBOLS) == 1
        assert all(run["runs"] == 1 for run in runs.values())
        for path in paths:  # each config's run decided once, under its tick's claim
            _, tenant_id, _, config_id = path.split("/")
            uid = f"{prefix}-user-{tenant_id.rsplit('-', 1)[1]}"
            symbol = config_id.removeprefix("buy-").upper()
            key = scheduled_idempotency_key(config_id, symbol, TICK)
            claim = db.document(f"tenants/{tenant_id}/executions/"
                                f"{client_order_id_for(tenant_id, uid, key)}").get()  # fmt: skip
            assert json.loads(claim.get("response"))["status"] == "dry_run", path
            assert runs[path]["last_outcome"] == {"status_dry_run": 1}

        # The tick delivered again: it finds its fan-out done and enqueues nothing.
        assert run_scheduled(FUNCTION, TICK).status_code == 200
        assert fan_out(db, [], TICK)["already_fanned_out"] == 1
        # One that died after enqueueing, before recording it: the queue refuses every id.
        db.document(scheduled_ticks.tick_path(scheduled_ticks.tick_id(TICK))).delete()
        again = fan_out(db, [], TICK)
        assert again["enqueued"] == 0 and again["already_enqueued"] == again["configs"] >= 400
        assert quote_requests_for(alpaca, SYMBOLS) == 1
        assert {task: run["runs"] for task, run in task_runs(db, TICK).items()} == {
            task: 1 for task in task_runs(db, TICK)
        }
    finally:
        disable(db, paths)
